#!/usr/bin/env bash
# deps.sh [build|test|san|bench|jit|bpf|all]: install the Debian packages AFD needs that are missing.
# Run as root on Debian 12. Installs nothing that is already there; quiet when all is present.
set -eu
what=${1:-all}

build_pkgs="gcc make libc6-dev libedit-dev libmaxminddb-dev libmnl-dev"
test_pkgs="tmux curl python3 wrk socat qemu-system-x86 iproute2"	# REPL test: a terminal;
# proxy tests: clients, backends; IPVS tests: qemu (the guest's kernel and busybox are only
# unpacked); eBPF test: namespaces
san_pkgs="clang libclang-rt-14-dev"	# make asan, make fuzz
bench_pkgs="gforth hyperfine time"
bpf_pkgs="clang llvm"	# make bench-bpf: the C reference (clang -target bpf, llvm-objcopy)

case $what in
build) pkgs=$build_pkgs ;;
test)  pkgs="$build_pkgs $test_pkgs" ;;
san)   pkgs="$build_pkgs $test_pkgs $san_pkgs" ;;
bench) pkgs="$build_pkgs $bench_pkgs" ;;
jit)   pkgs="$build_pkgs binutils" ;;
bpf)   pkgs="$build_pkgs $bpf_pkgs" ;;
all)   pkgs="$build_pkgs $test_pkgs $san_pkgs $bench_pkgs $bpf_pkgs binutils" ;;
*) echo "usage: deps.sh [build|test|san|bench|jit|bpf|all]" >&2; exit 2 ;;
esac

# qbe (the JIT's back end, doc/jit.md) is not in Debian 12: Debian 13's package, fetched with a
# throwaway sources list and package lists of its own, so the system's sources never name trixie.
qbe_trixie() {
	command -v qbe >/dev/null && return 0
	[ "$(id -u)" = 0 ] || { echo "deps.sh: qbe missing (run as root to fetch it)" >&2; return 0; }
	local tmp keyring opts
	tmp=$(mktemp -d)
	chmod 755 "$tmp"	# apt's _apt user downloads into it
	keyring=$(sed -n 's/^Signed-By:[[:space:]]*//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -n1)
	keyring=${keyring:-/usr/share/keyrings/debian-archive-keyring.gpg}
	echo "deb [signed-by=$keyring] http://deb.debian.org/debian trixie main" > "$tmp/trixie.list"
	mkdir -p "$tmp/lists/partial"
	opts=(-o Dir::Etc::SourceList="$tmp/trixie.list" -o Dir::Etc::SourceParts=/dev/null
	      -o Dir::State::Lists="$tmp/lists")
	apt-get "${opts[@]}" update -qq >/dev/null &&
		(cd "$tmp" && apt-get "${opts[@]}" download -qq qbe >/dev/null) &&
		dpkg -i "$tmp"/qbe_*.deb >/dev/null ||
		echo "deps.sh: could not install qbe from Debian 13" >&2
	rm -rf "$tmp"
}
case $what in test|jit|bench|all) qbe_trixie ;; esac

# promtool (the metrics test) comes from Debian's prometheus package, unpacked into build/tools
# without installing it: installing would enable a Prometheus service on the machine.
promtool_local() {
	[ -x build/tools/promtool ] || command -v promtool >/dev/null && return 0
	[ "$(id -u)" = 0 ] || { echo "deps.sh: promtool missing (run as root to fetch it)" >&2; return 0; }
	local tmp
	tmp=$(mktemp -d)
	(cd "$tmp" && apt-get download -qq prometheus >/dev/null 2>&1 &&
		dpkg-deb -x prometheus_*.deb x) || { apt-get update -qq && (cd "$tmp" &&
		apt-get download -qq prometheus >/dev/null && dpkg-deb -x prometheus_*.deb x); } || true
	mkdir -p build/tools
	[ -x "$tmp/x/usr/bin/promtool" ] && cp "$tmp/x/usr/bin/promtool" build/tools/promtool
	rm -rf "$tmp"
}
case $what in test|san|all) promtool_local ;; esac

missing=()
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" != 0 ]; then
	echo "deps.sh: missing packages: ${missing[*]}; run as root to install them" >&2
	exit 1
fi
echo "deps.sh: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
