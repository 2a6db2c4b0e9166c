#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Installs what airlock needs on Debian 12, builds it, and with --test runs every test
# suite. Run as root from the source tree.
#
#   ./setup.sh            install build dependencies, build into build/
#   ./setup.sh --test     also build an ASan+UBSan tree (build-test/) and run the unit,
#                         fuzz, lint and integration suites and the cgroup v2 vm stage;
#                         prints "N passed, N failed" and exits non-zero on any failure
#   ./setup.sh --no-vm    with --test: skip the vm stage (counted as skipped, not passed)
set -euo pipefail
cd "$(dirname "$0")"

packages=(
	# build
	gcc meson ninja-build pkg-config
	libseccomp-dev libcap-ng-dev libnl-3-dev libnl-route-3-dev libmnl-dev libnftnl-dev
	libjansson-dev libcurl4-openssl-dev libssl-dev libpcre2-dev
	# tests: toolchains the sandbox must run, network test hosts, linters
	python3 python3-cryptography openssl git curl make iproute2 nftables dnsutils procps util-linux shellcheck clang-format go-md2man strace
	python3-jsonschema
	# tests: runtimes users' agents run (test-runtimes.sh)
	openjdk-17-jdk-headless nodejs
	# vm stage (cgroup v2 guest) and benchmarks
	qemu-system-x86 busybox-static cpio kmod e2fsprogs bubblewrap crun hyperfine
)

want_test=false
want_vm=true
for a in "$@"; do
	case "$a" in
	--test) want_test=true ;;
	--no-vm) want_vm=false ;;
	*) echo "setup.sh: unknown argument '$a'" >&2; exit 2 ;;
	esac
done

install_packages() {
	local missing=()
	for p in "${packages[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
			missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	if [ "$(id -u)" -ne 0 ]; then
		echo "setup.sh: missing packages (run as root to install): ${missing[*]}" >&2
		exit 1
	fi
	echo "setup.sh: installing ${missing[*]}" >&2
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
		"${missing[@]}" >&2
}

# Runs a step quietly; on failure shows its output and stops.
quiet() {
	local log
	log=$(mktemp)
	if ! "$@" >"$log" 2>&1; then
		cat "$log" >&2
		rm -f "$log"
		echo "setup.sh: failed: $*" >&2
		exit 1
	fi
	rm -f "$log"
}

configure() {
	local dir=$1; shift
	if [ -f "$dir/build.ninja" ]; then
		quiet meson configure "$dir" "$@"
	else
		quiet meson setup "$dir" "$@"
	fi
}

install_packages
configure build --buildtype=debugoptimized
quiet ninja -C build

$want_test || exit 0

configure build-test --buildtype=debug --werror -Db_sanitize=address,undefined \
	-Db_lundef=false -Dintegration-tests=true
quiet ninja -C build-test

results=build-test/results
rm -rf "$results" && mkdir -p "$results"
status=0
meson test -C build-test --setup=asan --suite unit --suite fuzz --suite lint \
	--suite integration --print-errorlogs >"$results/meson.log" 2>&1 || status=1
tail -n 25 "$results/meson.log" >&2
cp build-test/meson-logs/testlog-asan.json "$results/" 2>/dev/null ||
	cp build-test/meson-logs/testlog.json "$results/" 2>/dev/null || true

if $want_vm; then
	tests/vm/run.sh --build build --out "$results/vm" >&2 || status=1
fi

python3 tests/summarize.py "$results" || status=1
exit $status
