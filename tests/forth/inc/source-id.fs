\ inc/source-id.fs -- helper for file.fs: records its own SOURCE-ID.
source-id inc-sid !
