#!/bin/sh
# bench.sh AFD: time per destination weight update, in the guest (or on a host with IPVS):
# AFD's batched netlink (one batch of N changes: all or nothing, and each change on its own)
# against one ipvsadm process per update and one ipvsadm -R of N updates.
# Prints the figures, then "1 passed, 0 failed" when AFD is at least 10x faster per update
# than ipvsadm -R and applied N changes in one batch.
# bench.sh AFD SCHED info: the figures only, no target checked
AFD=$1 SCHED=${2:-wlc} INFO=${3:-} N=${IPVS_BENCH_N:-1000} P=${IPVS_BENCH_PROCS:-50} R=${IPVS_BENCH_ROUNDS:-5}
now_us() { read -r up _ < /proc/uptime; echo "${up%.*}${up#*.}0000"; }	# 10 ms resolution
ns() { date +%s%N 2>/dev/null | grep -qv N && date +%s%N || echo "$(now_us)000"; }
"$AFD" -e 'ipvs-flush bye'
# a service with N destinations, 10.10.x.y, made by AFD in one batch
cat > /tmp/bench.fs <<F
: dest-ip ( i -- ip ) 10.10.0.1 + ;
: setup ( -- ) ipvs-begin 80.80.80.80 80 $SCHED add-svc $N 0 do i dest-ip 1 ipvs-dest-new ipvs-add-dest loop ipvs-commit ;
80.80.80.80 80 ipvs-service-new constant svc
: weights ( base -- ) ipvs-begin $N 0 do svc i dest-ip 80 3 pick i + ipvs-set-weight loop drop ;
variable best  -1 1 rshift best !
: timed ( xt -- ) ntime drop >r execute ntime drop r> - best @ min best ! ;
variable sends
: round-atomic ( i -- ) 100 * 1000 + weights ipvs-sends >r ipvs-commit ipvs-sends r> - sends ! ;
: round-queue ( i -- ) weights ipvs-abort ;
: round-each ( i -- ) 100 * 50000 + weights ipvs-commit-each abort" a change failed" ;
: run ( xt -- ns ) -1 1 rshift best !  $R 0 do i over timed loop drop best @ ;
: ok? ( base -- flag ) -1 $N 0 do svc i dest-ip 80 ipvs-dest@ drop 2 pick i + = and loop nip ;
F
"$AFD" /tmp/bench.fs -e 'setup bye' || { echo "setup failed"; echo "0 passed, 1 failed"; exit 1; }
afd_out=$("$AFD" /tmp/bench.fs -e "' round-atomic run . ipvs-last-changes . sends @ . ' round-each run . ipvs-last-changes .
  $((R - 1)) 100 * 50000 + ok? . ' round-queue run . bye" 2>&1)
set -- $afd_out
case "$6" in -1|0) ;; *) echo "afd: $afd_out"; echo "0 passed, 1 failed"; exit 1 ;; esac
atomic_ns=$1 atomic_n=$2 atomic_sends=$3 each_ns=$4 each_n=$5 applied=$6 queue_ns=$7
# one ipvsadm process per update
t0=$(ns)
i=0
while [ $i -lt "$P" ]; do
	ipvsadm -e -t 80.80.80.80:80 -r 10.10.0.$((i + 1)):80 -m -w $((7000 + i)) || break
	i=$((i + 1))
done
t1=$(ns)
proc_ns=$(( (t1 - t0) / P ))
# one ipvsadm -R with N updates, best of R rounds as for AFD
restore_ns=
r=0
while [ $r -lt "$R" ]; do
	i=0
	: > /tmp/restore
	while [ $i -lt "$N" ]; do
		echo "-e -t 80.80.80.80:80 -r 10.10.$(( (i + 1) / 256 )).$(( (i + 1) % 256 )):80 -m -w $((9000 + r * 100 + i))"
		i=$((i + 1))
	done > /tmp/restore
	t0=$(ns)
	ipvsadm -R < /tmp/restore
	t1=$(ns)
	t=$(( (t1 - t0) / N ))
	[ -z "$restore_ns" ] || [ "$t" -lt "$restore_ns" ] && restore_ns=$t
	r=$((r + 1))
done
# AFD as a new process for one batch, start-up included, as ipvsadm -R is timed
t0=$(ns)
"$AFD" /tmp/bench.fs -e '7 round-atomic bye'
t1=$(ns)
afdproc_ns=$(( (t1 - t0) / N ))
rm -f /tmp/restore /tmp/bench.fs
per() { echo "$(( $1 / 1000 )).$(( ($1 % 1000) / 100 )) us"; }
echo "destination weight updates, a $SCHED service of $N destinations, best of $R rounds:"
echo "  AFD, one batch, all or nothing:   $(per $((atomic_ns / N))) per update ($atomic_n changes, $((atomic_ns / 1000)) us the batch, $atomic_sends sendmsg)"
echo "  AFD, one batch, each on its own:  $(per $((each_ns / N))) per update ($each_n changes, $((each_ns / 1000)) us the batch)"
echo "    of which Forth queuing the changes: $(per $((queue_ns / N))) per update"
echo "  AFD, a new process for the batch:  $(per "$afdproc_ns") per update (start-up and reading the file included)"
echo "  ipvsadm -R, one process:          $(per "$restore_ns") per update"
echo "  ipvsadm, one process per update:  $(per "$proc_ns") per update ($P updates)"
ratio10=$(( restore_ns * 10 / (atomic_ns / N) ))
echo "  AFD (all or nothing) vs ipvsadm -R: $((ratio10 / 10)).$((ratio10 % 10))x faster per update"
if [ "$INFO" = info ]; then
	exit 0
elif [ "$ratio10" -ge 100 ] && [ "$atomic_n" = "$N" ] && [ "$applied" = -1 ]; then
	echo "1 passed, 0 failed"
else
	echo "FAIL: target AFD >= 10x ipvsadm -R, $N changes in one batch applied (got ${ratio10}/10, $atomic_n, $applied)"
	echo "0 passed, 1 failed"
fi
