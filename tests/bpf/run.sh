#!/usr/bin/env bash
# run.sh AFD: the design document's drop-tcp-syn attached by XDP in a namespace pair that this
# script makes and deletes (10.201.0.1 and .2 exist only there): before the program, TCP,
# UDP and ICMP from the peer get through; with it (native XDP, else generic: reported), the
# TCP connect is dropped while UDP and ICMP pass; after it is detached, TCP works again.
# Also afd --emit-bpf: accepted, listed with the Forth source, a refusal exits non-zero.
# Not root or no BPF: SKIP. Processes are stopped by PID; nothing is pinned.
set -u
cd "$(dirname "$0")/../.."
AFD=${1:-./afd}
pass=0 fail=0
ok() { echo "ok - $1"; pass=$((pass + 1)); }
bad() { echo "not ok - $1"; fail=$((fail + 1)); }
check() { if [ "$2" = "$3" ]; then ok "$1"; else bad "$1 (got '$2', want '$3')"; fi; }
finish() { echo "$pass passed, $fail failed"; exit $((fail > 0)); }

if [ "$(id -u)" != 0 ]; then echo "SKIP: not root: no BPF, no namespaces"; finish; fi
if ! "$AFD" --emit-bpf drop-tcp-syn examples/drop-tcp-syn.forth >/tmp/afd-bpf-$$.lst 2>&1; then
	echo "SKIP: the kernel does not load XDP programs here: $(tail -n 1 /tmp/afd-bpf-$$.lst)"
	rm -f /tmp/afd-bpf-$$.lst
	finish
fi
grep -q '; 1[0-9][0-9] instructions, accepted by the verifier' /tmp/afd-bpf-$$.lst &&
	grep -q 'drop-tcp-syn: tcp-flags' /tmp/afd-bpf-$$.lst && ok "--emit-bpf lists drop-tcp-syn with its source" ||
	bad "--emit-bpf listing"
rm -f /tmp/afd-bpf-$$.lst
printf ': spin begin packet-parse again ;\n' >/tmp/afd-bpf-$$.fs
out=$("$AFD" --emit-bpf spin /tmp/afd-bpf-$$.fs 2>&1); rc=$?
rm -f /tmp/afd-bpf-$$.fs
[ $rc -ne 0 ] && [[ $out == *"afd-bpf-$$.fs:1:"*"spin: unbounded loop"* ]] &&
	ok "--emit-bpf refuses an unbounded loop, naming file:line:col and the word" ||
	bad "--emit-bpf on an unbounded loop: rc $rc: $out"

# The verifier refuses a word (a million loop iterations, too complex): the message names the
# Forth op behind the instruction it stopped at, then gives the verifier's own words.
printf ': big 1024 0 do 1024 0 do packet-parse loop loop XDP_PASS ;\n' >/tmp/afd-bpf-$$.fs
out=$("$AFD" --emit-bpf big /tmp/afd-bpf-$$.fs 2>&1 >/dev/null); rc=$?
rm -f /tmp/afd-bpf-$$.fs
[ $rc -ne 0 ] && [[ $out == *"afd-bpf-$$.fs:1:27: big: the verifier rejects instruction"*"too complex"* ]] &&
	ok "a verifier rejection is reported against the Forth op (packet-parse at 1:27)" ||
	bad "verifier rejection mapping: rc $rc: $out"

A=afdbpfa$$ B=afdbpfb$$ VA=afxa$$ VB=afxb$$
pids=()
tmp=$(mktemp -d)
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	ip netns del "$A" 2>/dev/null
	ip netns del "$B" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
ip netns add "$A" && ip netns add "$B" &&
	ip link add "$VA" netns "$A" type veth peer name "$VB" netns "$B" &&
	ip -n "$A" addr add 10.201.0.1/24 dev "$VA" && ip -n "$B" addr add 10.201.0.2/24 dev "$VB" &&
	ip -n "$A" link set "$VA" up && ip -n "$B" link set "$VB" up &&
	ip -n "$A" link set lo up && ip -n "$B" link set lo up || { bad "namespace setup"; finish; }

ip netns exec "$A" python3 tests/bpf/server.py 10.201.0.1 >"$tmp/server" 2>&1 &
pids+=($!)
for _ in $(seq 50); do grep -q ready "$tmp/server" && break; sleep 0.1; done
peer() { ip netns exec "$B" timeout 10 python3 tests/bpf/peer.py 10.201.0.1 | tr '\n' ' '; }
check "without XDP: TCP, UDP and ICMP get through" "$(peer)" "tcp ok udp ok icmp ok "

# afd attaches pass-all, says how, waits for a line on its standard input (a fifo), replaces
# the program with drop-tcp-syn by a BPF link update (no moment without a program), waits
# again, and detaches as it leaves.
mkfifo "$tmp/hold"
ip netns exec "$A" "$AFD" examples/drop-tcp-syn.forth -e ": wait ['] key catch 0= if drop then ;
  : go ['] pass-all xdp-load s\" $VA\" xdp-attach
  if .\" native\" else .\" generic\" then .\"  attached\" cr wait
  dup ['] drop-tcp-syn xdp-load xdp-update .\" updated\" cr wait bpf-close .\" detached\" cr ;
  go bye" <"$tmp/hold" >"$tmp/afd" 2>&1 &
afdpid=$!
pids+=($afdpid)
exec 9>"$tmp/hold"
await() { for _ in $(seq 50); do grep -q "$1" "$tmp/afd" && return 0; sleep 0.1; done; return 1; }
if await attached; then
	ok "pass-all attached by XDP: $(head -n 1 "$tmp/afd")"
else
	bad "XDP attach: $(cat "$tmp/afd")"
fi
check "with pass-all: TCP, UDP and ICMP get through" "$(peer)" "tcp ok udp ok icmp ok "
echo >&9
await updated && ok "the link updated to drop-tcp-syn" || bad "link update: $(cat "$tmp/afd")"
check "with drop-tcp-syn: the TCP connect is dropped, UDP and ICMP pass" "$(peer)" "tcp fail udp ok icmp ok "
exec 9>&-
wait "$afdpid"
grep -q detached "$tmp/afd" && ok "afd detached on its way out" || bad "detach: $(cat "$tmp/afd")"
check "after detaching: TCP gets through again" "$(peer)" "tcp ok udp ok icmp ok "
finish
