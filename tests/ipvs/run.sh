#!/usr/bin/env bash
# run.sh [AFD] [tests|bench]: the IPVS suite on a kernel that has IPVS.
#
# This machine's kernel may have no IPVS and the suite never loads ip_vs on the host: it
# boots Debian's own kernel (linux-image-amd64, unpacked into build/ipvs, never installed)
# under qemu-system-x86_64 with software emulation, from an initramfs made here of
# busybox-static (unpacked too), the IPVS modules (loaded in the dependency order their .modinfo gives),
# AFD with the shared libraries it links, ipvsadm (for the benchmark) and tests/ipvs/*.
# The guest has no network device but lo. What the guest prints between the markers is
# the suite's output; the last line is "N passed, N failed".
# When the kernel AFD runs on has IPVS already (IPVS_DIRECT=1), the same files run here.
set -u
cd "$(dirname "$0")/../.."
AFD=${1:-./afd}
MODE=${2:-tests}
W=${IPVS_BUILD:-build/ipvs}
case $W in /*) ;; *) W=$PWD/$W ;; esac
TIMEOUT=${IPVS_TIMEOUT:-300}	# the whole boot and suite, seconds (TCG under load is slow)

skip() { echo "SKIP: $*"; echo "0 passed, 0 failed"; exit 0; }
die() { echo "ipvs: $*" >&2; echo "0 passed, 1 failed"; exit 1; }

case $AFD in /*) ;; *) AFD=$PWD/$AFD ;; esac
if [ "${IPVS_DIRECT:-0}" = 1 ]; then	# flushes this machine's IPVS table: a test machine only
	exec sh tests/ipvs/guest.sh "$AFD" "$MODE" "$PWD/tests/ipvs"
fi
command -v qemu-system-x86_64 >/dev/null || skip "qemu-system-x86_64 not installed (scripts/deps.sh test)"

# fetch PKG...: Debian packages downloaded (not installed) into $W/debs
fetch() {
	mkdir -p "$W/debs"
	local p
	for p in "$@"; do
		ls "$W/debs/${p}"_*.deb >/dev/null 2>&1 && continue
		(cd "$W/debs" && apt-get download -qq "$p" 2>/dev/null) ||
			{ [ "$(id -u)" = 0 ] && apt-get update -qq && (cd "$W/debs" && apt-get download -qq "$p"); } ||
			return 1
	done
}

# The kernel: whatever linux-image-amd64 depends on now, unpacked once.
kernel() {
	[ -f "$W/kernel.ok" ] && [ -x "$W/ia/bin/busybox" ] && return 0
	local img
	img=$(apt-cache depends linux-image-amd64 2>/dev/null | sed -n 's/.*Depends: \(linux-image-[0-9].*\)/\1/p' | head -n 1)
	[ -n "$img" ] || return 1
	fetch "$img" busybox-static ipvsadm libpopt0 libnl-genl-3-200 libnl-3-200 || return 1
	rm -rf "$W/k" "$W/ia" && mkdir -p "$W/k" "$W/ia" || return 1
	dpkg-deb -x "$W/debs/${img}"_*.deb "$W/k" || return 1
	local d
	for d in busybox-static ipvsadm libpopt0 libnl-genl-3-200 libnl-3-200; do
		dpkg-deb -x "$W/debs/${d}"_*.deb "$W/ia" || return 1
	done
	touch "$W/kernel.ok"
}

# deps KO: the module names a module depends on, from its .modinfo section
deps() {
	objcopy -O binary --only-section=.modinfo "$1" /dev/stdout 2>/dev/null | tr '\0' '\n' |
		sed -n 's/^depends=//p' | tr ',' '\n' | sed '/^$/d'
}

# order NAME...: the modules and what they need, each after its dependencies
declare -A seen
order() {
	local m ko
	for m in "$@"; do
		m=${m//-/_}
		[ -n "${seen[$m]:-}" ] && continue
		seen[$m]=1
		ko=$(find "$MODDIR" -name "$m.ko" -o -name "${m//_/-}.ko" | head -n 1)
		[ -n "$ko" ] || { echo "ipvs: module $m not found" >&2; continue; }
		order $(deps "$ko")
		echo "$ko"
	done
}

# copy_bin FILE DEST: a program and the shared libraries it needs, into the initramfs
copy_bin() {
	local f=$1 root=$2 lib
	mkdir -p "$root/bin"
	cp "$f" "$root/bin/"
	mkdir -p "$root/lib/x86_64-linux-gnu" "$root/lib64"
	for lib in $(ldd "$f" 2>/dev/null | grep -o '/[^ ]*'); do
		case $lib in
		*/ld-linux*) cp -L "$lib" "$root/lib64/" ;;
		*) cp -L "$lib" "$root/lib/x86_64-linux-gnu/" ;;
		esac
	done
}

initramfs() {
	local root=$W/root kver
	kver=$(ls "$W/k/lib/modules" | head -n 1)
	MODDIR=$W/k/lib/modules/$kver
	rm -rf "$root" && mkdir -p "$root"/{bin,sbin,proc,sys,dev,tmp,run,mod,t} || return 1
	cp "$W/ia/bin/busybox" "$root/bin/busybox"
	local i=0 ko
	# IPVS, every scheduler this kernel ships (the kernel loads them on demand with modprobe,
	# which has no modules.dep here), crc32c for SCTP, conntrack
	for ko in $(order crc32c_generic libcrc32c nf_conntrack ip_vs ip_vs_rr ip_vs_wrr ip_vs_lc \
		ip_vs_wlc ip_vs_sh ip_vs_mh ip_vs_sed ip_vs_nq ip_vs_dh ip_vs_fo ip_vs_ovf ip_vs_lblc \
		ip_vs_lblcr); do
		i=$((i + 1))
		cp "$ko" "$root/mod/$(printf %02d $i)-$(basename "$ko")"
	done
	copy_bin "$AFD" "$root" || return 1
	[ "$(basename "$AFD")" = afd ] || mv "$root/bin/$(basename "$AFD")" "$root/bin/afd"
	local t=${TESTS:-build/tests}/test_ipvs	# the client's C tests, when built
	[ -x "$t" ] && { copy_bin "$t" "$root" || return 1; }
	LD_LIBRARY_PATH=$W/ia/usr/lib/x86_64-linux-gnu:$W/ia/lib/x86_64-linux-gnu copy_bin "$W/ia/sbin/ipvsadm" "$root"
	cp tests/ipvs/*.fs tests/ipvs/*.sh tests/forth/tester.fs examples/ipvs.forth "$root/t/"
	cat > "$root/init" <<-'EOF'
	#!/bin/busybox sh
	/bin/busybox --install -s /bin
	mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
	for m in /mod/*.ko; do insmod "$m" || echo "insmod $m failed"; done
	ip link set lo up
	mode=$(sed -n 's/.*afdmode=\([a-z]*\).*/\1/p' /proc/cmdline)
	echo "@@AFD-IPVS-BEGIN"
	cd /t && sh ./guest.sh /bin/afd "$mode" /t
	echo "@@AFD-IPVS-END"
	poweroff -f
	EOF
	chmod +x "$root/init"
	(cd "$root" && find . | "$W/ia/bin/busybox" cpio -o -H newc 2>/dev/null | gzip -1) > "$W/initramfs.gz"
}

kernel || skip "cannot fetch or unpack Debian's linux-image-amd64 (apt-get download; offline?)"
initramfs || die "cannot build the initramfs"
vmlinuz=$(ls "$W"/k/boot/vmlinuz-* | head -n 1)
out=$W/console.log
start=$(date +%s)
timeout -k 5 "$TIMEOUT" qemu-system-x86_64 -accel tcg -m 512 -smp 1 -nic none -display none \
	-no-reboot -serial stdio -monitor none -kernel "$vmlinuz" -initrd "$W/initramfs.gz" \
	-append "console=ttyS0 quiet loglevel=3 panic=-1 afdmode=$MODE" </dev/null >"$out" 2>&1
rc=$?
tr -d '\r' <"$out" | sed -n '/^@@AFD-IPVS-BEGIN/,/^@@AFD-IPVS-END/p' | sed '1d;$d' >"$W/result.log"
cat "$W/result.log"
echo "# guest: $(($(date +%s) - start)) s for boot and suite (qemu exit status $rc)"
grep -qE '^[0-9]+ passed, [0-9]+ failed' "$W/result.log" ||
	{ tail -n 20 "$out" >&2; die "the guest gave no result (timeout ${TIMEOUT}s?)"; }
rm -rf "$W/root"
line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$W/result.log" | tail -n 1)
f=${line#*passed, }
[ "${f%% failed*}" -eq 0 ]
