\ policy.fs -- tests for the proxy's policy words (AFD only; run.sh skips it on gforth):
\   geo tables: geo-add, geo-load, geoip-lookup (longest prefix wins, "" if none);
\   access lists: blacklist-add, blacklist-load, blacklist-check;
\   token buckets: rate-limit, rate-limit-bucket-get, bucket-tokens@, bucket-consume;
\   circuit breakers: circuit-breaker-state@ -fail -success and their settings;
\   backend-send, error, error?, http-get; bad input throws and changes nothing;
\   the design document's geo-route, rate-limit-check, backend-with-breaker
\   (examples/advanced-routing.forth). Port 19199 on 127.0.0.1 is never listened on.

decimal
 0 constant f0
-1 constant f1
s" ../../examples/advanced-routing.forth" included

testing geo-add geoip-lookup: longest prefix wins, "" if none
10.0.0.0/8 "EU" geo-add
10.1.0.0/16 "US-EAST" geo-add
10.1.2.0/24 "US-WEST" geo-add
10.1.2.3/32 "ASIA" geo-add
T{ 10.9.9.9 geoip-lookup "EU" string= -> f1 }T
T{ 10.1.9.9 geoip-lookup "US-EAST" string= -> f1 }T
T{ 10.1.2.9 geoip-lookup "US-WEST" string= -> f1 }T
T{ 10.1.2.3 geoip-lookup "ASIA" string= -> f1 }T
T{ 11.0.0.1 geoip-lookup nip -> 0 }T
T{ 9.255.255.255 geoip-lookup nip -> 0 }T
10.0.0.0/8 "EU-WEST" geo-add   \ the same prefix again: the later region
T{ 10.9.9.9 geoip-lookup "EU-WEST" string= -> f1 }T
T{ 10.1.9.9 geoip-lookup "US-EAST" string= -> f1 }T

testing geo-route (the design document's sample)
T{ 10.1.9.9 geo-route "us-east-pool" string= -> f1 }T
T{ 10.1.2.9 geo-route "us-west-pool" string= -> f1 }T
T{ 10.1.2.3 geo-route "asia-pool" string= -> f1 }T
T{ 11.0.0.1 geo-route "default-pool" string= -> f1 }T
T{ 10.9.9.9 geo-route "default-pool" string= -> f1 }T   \ EU-WEST is no case
T{ 10.9.9.9 geo-route 2drop depth -> 0 }T

testing geo-load: the file format, errors change nothing
"tests/forth/inc/geo.txt" geo-load
T{ 192.168.1.7 geoip-lookup "US-WEST" string= -> f1 }T
T{ 192.168.1.200 geoip-lookup "ASIA" string= -> f1 }T
T{ 172.16.0.5 geoip-lookup "EU" string= -> f1 }T
T{ 172.16.0.6 geoip-lookup nip -> 0 }T
T{ 10.1.9.9 geoip-lookup "US-EAST" string= -> f1 }T
T{ 10.9.9.9 geoip-lookup "EU" string= -> f1 }T       \ the file came later
T{ "tests/forth/inc/geo-bad.txt" ['] geo-load catch nip nip -> -259 }T
T{ 10.9.9.9 geoip-lookup "EU" string= -> f1 }T       \ its first line was not added
T{ "tests/forth/inc/no-such-file.txt" ['] geo-load catch nip nip -> -38 }T
T{ 10.0.0.0 33 "X" ' geo-add catch >r 2drop 2drop r> -> -259 }T
T{ 10.0.0.0 8 "" ' geo-add catch >r 2drop 2drop r> -> -24 }T
T{ 10.0.0.0/8 "a-region-name-much-longer-than-sixty-three-characters-is-refused-x" ' geo-add catch >r 2drop 2drop r> -> -24 }T

testing blacklist-add blacklist-load blacklist-check
T{ 203.0.113.9 blacklist-check -> f0 }T
10.66.0.0/16 blacklist-add
"tests/forth/inc/deny.txt" blacklist-load
T{ 10.66.1.1 blacklist-check -> f1 }T
T{ 10.67.1.1 blacklist-check -> f0 }T
T{ 203.0.113.9 blacklist-check -> f1 }T
T{ 198.51.100.7 blacklist-check -> f1 }T
T{ 198.51.100.8 blacklist-check -> f0 }T
T{ "tests/forth/inc/geo.txt" ['] blacklist-load catch nip nip -> -259 }T  \ names: not a list
T{ 192.168.1.7 blacklist-check -> f0 }T

testing token buckets: rate-limit, bucket-tokens@, bucket-consume
T{ 1.2.3.4 ' rate-limit-bucket-get catch nip -> -21 }T   \ before rate-limit
1 5 rate-limit          \ 1 a second, 5 at once
T{ 1.2.3.4 rate-limit-bucket-get bucket-tokens@ -> 5 }T
T{ 1.2.3.4 rate-limit-bucket-get 2 bucket-consume 1.2.3.4 rate-limit-bucket-get bucket-tokens@ -> 3 }T
T{ 1.2.3.5 rate-limit-bucket-get bucket-tokens@ -> 5 }T      \ per client
T{ 1.2.3.4 rate-limit-bucket-get 9 bucket-consume 1.2.3.4 rate-limit-bucket-get bucket-tokens@ -> 0 }T
T{ 42 ' bucket-tokens@ catch nip -> -12 }T
T{ 0 5 ' rate-limit catch nip nip -> -24 }T

testing rate-limit-check (the design document's sample)
T{ 9.9.9.9 rate-limit-check 9.9.9.9 rate-limit-check 9.9.9.9 rate-limit-check -> f1 f1 f1 }T
T{ 9.9.9.9 rate-limit-check 9.9.9.9 rate-limit-check -> f1 f1 }T
T{ 9.9.9.9 rate-limit-check -> f0 }T
T{ 9.9.9.10 rate-limit-check -> f1 }T
1100 ms
T{ 9.9.9.9 rate-limit-check 9.9.9.9 rate-limit-check -> f1 f0 }T   \ one more a second

testing the table is bounded: old clients are evicted, new ones get a full bucket
64 rate-limit-clients 1 2 rate-limit
: flood ( n -- ) 0 do i 167772160 + rate-limit-bucket-get 2 bucket-consume loop ;
T{ 5000 flood 167772160 rate-limit-bucket-get bucket-tokens@ -> 2 }T

testing circuit breakers
pool-create "cb"
127.0.0.1 19199 1 add-backend
3 circuit-breaker-threshold 150 circuit-breaker-timeout 1 circuit-breaker-probes
: be ( -- backend ) "cb" get-pool each-backend nip ;
T{ CB_CLOSED CB_OPEN CB_HALF_OPEN -> 0 1 2 }T
T{ be circuit-breaker-state@ -> CB_CLOSED }T
T{ be circuit-breaker-fail be circuit-breaker-fail be circuit-breaker-state@ -> CB_CLOSED }T
T{ be circuit-breaker-success be circuit-breaker-fail be circuit-breaker-fail be circuit-breaker-state@ -> CB_CLOSED }T
T{ be circuit-breaker-fail be circuit-breaker-state@ -> CB_OPEN }T
200 ms
T{ be circuit-breaker-state@ -> CB_HALF_OPEN }T
T{ be circuit-breaker-fail be circuit-breaker-state@ -> CB_OPEN }T
200 ms
T{ be circuit-breaker-success be circuit-breaker-state@ -> CB_CLOSED }T
T{ 12345 ' circuit-breaker-state@ catch nip -> -12 }T

testing backend-send, error, error?, http-get
T{ "boom" error dup error? swap error-message "boom" string= -> f1 f1 }T
T{ 42 error? -> f0 }T
T{ be "/" http-get backend-send dup error? swap error-message "connect failed" string= -> f1 f1 }T
T{ "no-slash" ' http-get catch >r 2drop r> -> -24 }T
T{ "/" http-get ' response-status catch nip -> -12 }T   \ a request is no response

testing backend-with-breaker (the design document's sample), the backend refusing
be circuit-breaker-success
T{ be "/" http-get backend-with-breaker error? -> f1 }T
T{ be "/" http-get backend-with-breaker error-message "connect failed" string= -> f1 }T
T{ be circuit-breaker-state@ -> CB_CLOSED }T
T{ be "/" http-get backend-with-breaker error? -> f1 }T
T{ be circuit-breaker-state@ -> CB_OPEN }T
T{ be "/" http-get backend-with-breaker error-message "Service Unavailable" string= -> f1 }T
200 ms
T{ be circuit-breaker-state@ -> CB_HALF_OPEN }T
T{ be "/" http-get backend-with-breaker error-message "Service Unavailable" string= -> f1 }T
T{ be circuit-breaker-state@ -> CB_OPEN }T
T{ depth -> 0 }T

testing >= <= (the dialect's, for rate-limit-check)
T{ 1 1 >= 0 1 >= 2 1 >= -1 0 >= -> f1 f0 f1 f0 }T
T{ 1 1 <= 0 1 <= 2 1 <= -> f1 f1 f0 }T
