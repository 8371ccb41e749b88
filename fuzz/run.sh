#!/usr/bin/env bash
# run.sh [SECONDS [TARGET...]]: build the fuzz targets (clang, libFuzzer, ASan+UBSan) and
# run each (default: all) for SECONDS (default 60), seeded from the project's own files.
# Fails on any finding.
set -eu
cd "$(dirname "$0")/.."
secs=${1:-60}
shift || true
targets=${*:-outer literal http prefixes}
B=build-fuzz
SAN="-O1 -g -fsanitize=address,undefined -fno-sanitize-recover=undefined"
make --no-print-directory B=$B CC=clang CFLAGS="$SAN -fsanitize=fuzzer-no-link" $B/libafd.a >/dev/null
status=0
for t in $targets; do
	clang $SAN -fsanitize=fuzzer -std=gnu17 -D_GNU_SOURCE -Iinclude -Isrc \
		-o $B/fuzz_$t fuzz/fuzz_$t.c $B/libafd.a -lmaxminddb -lpthread -lm
	corpus=$B/corpus-$t
	mkdir -p "$corpus" $B/findings-$t
	if [ -z "$(ls -A "$corpus")" ]; then
		if [ $t = outer ]; then
			for f in tests/forth/*.fs bench/*.fs forth/*.fs; do
				split -l 20 -a 3 "$f" "$corpus/$(basename "$f" .fs)-"
			done
		elif [ $t = http ]; then	# first byte: 0 request, 1 response, 2 chunked
			printf '\000GET /a?b=c HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc' > "$corpus/req"
			printf '\000POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n' > "$corpus/req-te"
			printf '\001HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok' > "$corpus/resp"
			printf '\002a;x=y\r\n0123456789\r\n0\r\nT: 1\r\n\r\n' > "$corpus/chunked"
		elif [ $t = prefixes ]; then	# first byte: 1 geo file (names), 0 access list
			{ printf '\001'; cat tests/forth/inc/geo.txt; } > "$corpus/geo"
			{ printf '\000'; cat tests/forth/inc/deny.txt; } > "$corpus/deny"
			printf '\0011.2.3.4/32 X # c\r\n\n  0.0.0.0/0\tDEF\n' > "$corpus/edge"
		else
			for s in 10.0.0.1 192.168.1.10/24 -123 '#99' '$ff' '%101' 1. -5. "'a'" 300.1.1.1; do
				printf '\012%s' "$s" > "$corpus/$(echo "$s" | md5sum | cut -c1-8)"
			done
		fi
	fi
	echo "fuzz_$t: ${secs}s"
	if ! $B/fuzz_$t -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=4096 \
		-artifact_prefix=$B/findings-$t/ -print_final_stats=1 "$corpus" \
		> $B/fuzz_$t.log 2>&1; then
		echo "fuzz_$t: FINDING, see $B/fuzz_$t.log and $B/findings-$t/"
		status=1
	fi
	grep -E 'stat::number_of_executed_units|stat::peak_rss_mb' $B/fuzz_$t.log | sed "s/^/  fuzz_$t: /"
	tail -n 3 $B/fuzz_$t.log | grep -E 'Done|ERROR' | sed "s/^/  fuzz_$t: /" || true
done
exit $status
