#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The vm stage: runs the integration suite as root inside a QEMU guest (TCG) that boots
# Debian's own 6.1 cloud kernel with a pure cgroup v2 hierarchy. See docs/testing.md.
#
#   tests/vm/run.sh --build BUILD_DIR --out OUT_DIR [--timeout SECS] [--keep]
#   tests/vm/run.sh --selftest [--build BUILD_DIR] [--out OUT_DIR]
#   tests/vm/run.sh --exec 'CMD' [--build BUILD_DIR] [--out OUT_DIR]   (debugging)
#
# Writes OUT_DIR/<name>.tap for every test the guest ran (vm-selftest.tap included),
# OUT_DIR/console.log (the guest's console) and OUT_DIR/status: "ok" when the guest ran
# to completion, else a one-line reason. Exits 0 only when the stage ran and no test
# failed. The kernel and the root image are cached in $AIRLOCK_VM_CACHE
# (/var/cache/airlock-vm); the airlock binaries and the source tree go on a small disk
# built fresh each run. The guest has no network device; nothing outlives the script.
set -euo pipefail

src=$(cd "$(dirname "$0")/../.." && pwd)
vmsrc=$src/tests/vm
cache=${AIRLOCK_VM_CACHE:-/var/cache/airlock-vm}
mode=suite
build=
out=
timeout=2400
memory=2048
keep=false
exec_cmd=
tmp=
qemu_pid=

usage() {
	sed -n '7,9p' "$0" | sed 's/^# *//' >&2
	exit 2
}

log() {
	echo "vm: $*" >&2
}

while [ $# -gt 0 ]; do
	case "$1" in
	--build) build=${2:?}; shift ;;
	--out) out=${2:?}; shift ;;
	--selftest) mode=selftest ;;
	--exec) mode="exec"; exec_cmd=${2:?}; shift ;;
	--timeout) timeout=${2:?}; shift ;;
	--memory) memory=${2:?}; shift ;;
	--keep) keep=true ;;
	*) usage ;;
	esac
	shift
done
if [ "$mode" = suite ] && { [ -z "$build" ] || [ -z "$out" ]; }; then
	usage
fi
[ -n "$build" ] || build=$src/build
[ -n "$out" ] || out=/tmp/airlock-vm-$mode
mkdir -p "$out"
if [ -d "$build" ]; then
	build=$(cd "$build" && pwd)
elif [ "$mode" = suite ]; then
	echo "no build directory '$build'" >"$out/status"
	echo "vm: no build directory '$build'" >&2
	exit 1
else
	build=
fi
out=$(cd "$out" && pwd)
rm -f "$out"/*.tap "$out"/*.log "$out/status"

# Ends the stage: records the status line and the exit code.
stage_fail() {
	log "stage failed: $*"
	echo "$*" >"$out/status"
	exit 1
}

cleanup() {
	if [ -n "$qemu_pid" ] && kill -0 "$qemu_pid" 2>/dev/null; then
		kill -KILL "$qemu_pid" 2>/dev/null || true
		wait "$qemu_pid" 2>/dev/null || true
	fi
	if [ -n "$tmp" ]; then
		if $keep; then log "kept $tmp"; else rm -rf "$tmp"; fi
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

guest_packages() {
	sed 's/#.*//' "$vmsrc/packages" | awk 'NF { print $1 }'
}

# Installs the host tools and every guest package the host lacks (the guest's root is
# made of the host's installed files).
vm_install_host_packages() {
	local p missing=()
	for p in qemu-system-x86 busybox-static cpio kmod e2fsprogs python3 $(guest_packages); do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
			missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	log "installing ${missing[*]}"
	apt-get update -qq >&2 &&
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
			"${missing[@]}" >/dev/null
}

# Serialises cache updates between concurrent runs (fd 9, closed before the boot).
cache_lock() {
	exec 9>"$cache/lock"
	flock 9
}

cache_unlock() {
	exec 9>&-
}

# Prints "package version" of the newest 6.1 cloud kernel the archive offers.
kernel_candidate() {
	local pkg ver
	pkg=$(apt-cache depends linux-image-cloud-amd64 2>/dev/null |
		awk '$1 == "Depends:" && $2 ~ /^linux-image-/ { print $2; exit }')
	[ -n "$pkg" ] || return 1
	ver=$(apt-cache show --no-all-versions "$pkg" 2>/dev/null |
		awk '$1 == "Version:" { print $2; exit }')
	[ -n "$ver" ] && echo "$pkg $ver"
}

kernel_download() { # package, version, destination
	local dl=$tmp/kernel-download
	mkdir -p "$dl"
	(cd "$dl" && apt-get download -qq "$1=$2" 2>/dev/null) || return 1
	rm -rf "$3.new" && mkdir -p "$3.new"
	dpkg-deb -x "$dl"/*.deb "$3.new" || return 1
	kver=$(basename "$(echo "$3.new"/lib/modules/*)")
	depmod -b "$3.new" "$kver" || return 1
	rm -rf "$dl" "$3" && mv "$3.new" "$3"
}

# Sets kdir (the unpacked kernel package, cached per version) and kver.
vm_fetch_kernel() {
	local cand d
	cache_lock
	mkdir -p "$cache/kernel"
	cand=$(kernel_candidate) || { apt-get update -qq >&2; cand=$(kernel_candidate); } || true
	if [ -n "$cand" ]; then
		kdir=$cache/kernel/${cand/ /_}
		if [ ! -d "$kdir" ]; then
			log "downloading ${cand/ / }"
			kernel_download "${cand% *}" "${cand#* }" "$kdir" ||
				log "kernel download failed, using the cache"
		fi
	fi
	if [ -z "$cand" ] || [ ! -d "$kdir" ]; then
		kdir=
		for d in "$cache"/kernel/linux-image-*; do
			[ -d "$d" ] && [ "${d%.new}" = "$d" ] && kdir=$d
		done
	fi
	for d in "$cache"/kernel/linux-image-*; do
		[ -d "$d" ] && [ "$d" != "$kdir" ] && rm -rf "$d"
	done
	cache_unlock
	[ -n "$kdir" ] || return 1
	kver=$(basename "$(echo "$kdir"/lib/modules/*)")
	vmlinuz=$kdir/boot/vmlinuz-$kver
	[ -f "$vmlinuz" ]
}

root_image_key() {
	{
		python3 "$vmsrc/mkroot.py" closure "$vmsrc/packages" || return 1
		echo "$kver"
		cat "$vmsrc/mkroot.py" "$vmsrc/packages"
	} | sha256sum | cut -c1-16
}

root_image_build() { # image path
	local stage=$tmp/root size
	log "building the root image (first run for this package set)"
	python3 "$vmsrc/mkroot.py" stage "$vmsrc/packages" "$stage" \
		"$kdir/lib/modules/$kver" || return 1
	size=$(du -sm "$stage" | cut -f1)
	size=$((size * 5 / 4 + 1024))
	(cd "$stage" && find . -mindepth 1 -printf '/%P\n' | LC_ALL=C sort) >"$1.files.new"
	rm -f "$1.new"
	mke2fs -q -t ext4 -O ^has_journal -L airlock-root -E root_owner=0:0 -d "$stage" \
		"$1.new" "${size}M" >/dev/null || return 1
	rm -rf "$stage"
	mv "$1.files.new" "$1.files" && mv "$1.new" "$1"
}

# Sets rootimg: the guest's root filesystem, cached per package set and kernel.
vm_root_image() {
	local key f
	key=$(root_image_key) || return 1
	rootimg=$cache/root-$key.img
	cache_lock
	if [ ! -f "$rootimg" ]; then
		root_image_build "$rootimg" || { cache_unlock; return 1; }
	fi
	for f in "$cache"/root-*.img; do
		[ "$f" != "$rootimg" ] && rm -f "$f" "$f.files"
	done
	cache_unlock
	return 0
}

is_elf() {
	[ "$(head -c 4 "$1" 2>/dev/null | od -An -c | tr -d ' ')" = '177ELF' ]
}

# Copies every executable of the build tree (the product, the probe, helpers).
copy_build() { # destination
	local f rel
	[ -n "$build" ] || return 0
	while IFS= read -r -d '' f; do
		is_elf "$f" || continue
		rel=${f#"$build"/}
		mkdir -p "$1/$(dirname "$rel")"
		cp -p "$f" "$1/$rel"
	done < <(find "$build" -type f -perm -u+x ! -path '*/meson-*' ! -path '*.p/*' -print0)
}

copy_source() { # destination
	mkdir -p "$1"
	if git -C "$src" rev-parse --git-dir >/dev/null 2>&1; then
		(cd "$src" && git ls-files -z -c -o --exclude-standard |
			xargs -0 -r sh -c 'for f; do [ -e "$f" ] && printf "%s\0" "$f"; done' sh) |
			tar -C "$src" --null -T - -cf - | tar -C "$1" -xf -
	else
		tar -C "$src" --exclude='./build*' --exclude=./.git -cf - . | tar -C "$1" -xf -
	fi
}

# Shared libraries the copied binaries load that the cached root image lacks (an
# ASan build's runtime, a library added since the image was built).
copy_missing_libs() { # build copy, sysroot
	local lib real
	find "$1" -type f -print0 | xargs -0 -r ldd 2>/dev/null |
		awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// && $2 ~ /^\(0x/ { print $1 }' |
		LC_ALL=C sort -u | while read -r lib; do
		real=$(realpath "$lib")
		grep -qxF "$real" "$rootimg.files" && continue
		log "adding $real (not in the root image)"
		mkdir -p "$2$(dirname "$real")"
		cp -p "$real" "$2$real"
		[ "$(basename "$lib")" = "$(basename "$real")" ] ||
			ln -sf "$(basename "$real")" "$2$(dirname "$real")/$(basename "$lib")"
	done
}

# Builds run.img: config, build/, src/, guest/ and sysroot/ (see guest-init.sh).
vm_run_disk() {
	local run=$tmp/run size
	mkdir -p "$run/build" "$run/guest" "$run/sysroot"
	copy_build "$run/build"
	if [ "$mode" = suite ]; then
		[ -x "$run/build/airlock" ] || { log "no airlock binary in $build"; return 1; }
		[ -x "$run/build/tests/probe/airlock-probe" ] ||
			{ log "no tests/probe/airlock-probe in $build"; return 1; }
	fi
	copy_source "$run/src" || return 1
	copy_missing_libs "$run/build" "$run/sysroot"
	cp "$vmsrc/guest-init.sh" "$vmsrc/selftest.sh" "$run/guest/"
	chmod 755 "$run/guest/"*.sh
	printf 'MODE=%s\nSUITE_TIMEOUT=%d\n' "$mode" "$((timeout > 120 ? timeout - 60 : timeout / 2))" \
		>"$run/config"
	[ "$mode" != exec ] || printf '%s\n' "$exec_cmd" >"$run/exec.sh"
	size=$(du -sm "$run" | cut -f1)
	mke2fs -q -t ext4 -O ^has_journal -L airlock-run -E root_owner=0:0 -d "$run" \
		"$tmp/run.img" "$((size * 2 + 64))M" >/dev/null
}

# Prints the modules.dep paths needed for $1, dependencies first.
module_closure() { # module name
	local dep=$kdir/lib/modules/$kver/modules.dep
	awk -v want="/$1.ko:" '
		function add(m,    i, n, d) {
			if (m in seen) return
			seen[m] = 1
			n = split(deps[m], d, " ")
			for (i = n; i >= 1; i--) add(d[i])
			print m
		}
		{ m = $1; sub(/:$/, "", m); $1 = ""; deps[m] = $0 }
		index("/" m ":", want) { root = m }
		END { if (root == "") exit 1; add(root) }' "$dep"
}

# Builds the uncompressed per-run initramfs: static busybox, /init and the virtio
# drivers needed to reach the disks.
vm_initramfs() {
	local ird=$tmp/initramfs m
	mkdir -p "$ird/bin" "$ird/modules" "$ird/proc" "$ird/sys" "$ird/dev" "$ird/newroot"
	cp /bin/busybox "$ird/bin/busybox"
	ln -s busybox "$ird/bin/sh"
	cp "$vmsrc/initramfs-init.sh" "$ird/init"
	chmod 755 "$ird/init"
	{ module_closure virtio_pci && module_closure virtio_blk; } | awk '!s[$0]++' >"$tmp/mods" ||
		return 1
	while read -r m; do
		cp "$kdir/lib/modules/$kver/$m" "$ird/modules/"
		basename "$m" >>"$ird/modules/order"
	done <"$tmp/mods"
	(cd "$ird" && find . -print0 | cpio --null -o -H newc -R 0:0 --quiet) >"$tmp/initrd"
}

qemu_start() {
	truncate -s 256M "$tmp/results.img"
	: >"$tmp/status"
	# --pdeathsig: QEMU dies with this script even when it is SIGKILLed
	TMPDIR=$tmp setpriv --pdeathsig KILL qemu-system-x86_64 -name airlock-vm -machine pc -accel tcg,thread=multi \
		-cpu "${AIRLOCK_VM_CPU:-qemu64}" -smp 2 -m "$memory" -nodefaults -no-user-config -display none \
		-no-reboot -nic none \
		-kernel "$vmlinuz" -initrd "$tmp/initrd" \
		-append "console=ttyS0 panic=-1 quiet loglevel=4 cryptomgr.notests mitigations=off" \
		-drive "file=$rootimg,if=virtio,format=raw,snapshot=on" \
		-drive "file=$tmp/run.img,if=virtio,format=raw" \
		-drive "file=$tmp/results.img,if=virtio,format=raw" \
		-serial "file:$tmp/console.log" -serial "file:$tmp/status" \
		</dev/null >"$tmp/qemu.log" 2>&1 &
	qemu_pid=$!
}

# Echoes the guest's new progress lines (its own and run-all.sh's per-test summary).
show_progress() {
	local lines
	lines=$(wc -l 2>/dev/null <"$tmp/console.log") || return 0
	[ "$lines" -gt "$shown" ] || return 0
	sed -n "$((shown + 1)),${lines}p" "$tmp/console.log" |
		grep -E '^(airlock-vm:|test-|    not ok|[0-9]+ passed)' | sed 's/^/vm: | /' >&2 || true
	shown=$lines
}

# Boots the guest and waits for it to power off, at most $timeout seconds. Sets
# guest_end to "timeout", "exit" or "crash".
vm_boot() {
	local deadline=$((SECONDS + timeout)) t0=$SECONDS reported='' shown=0
	qemu_start
	log "guest booting (pid $qemu_pid, timeout ${timeout}s)"
	guest_end="exit"
	while kill -0 "$qemu_pid" 2>/dev/null; do
		if [ $SECONDS -ge $deadline ]; then
			guest_end=timeout
			break
		fi
		# a guest that reported but does not power off gets 30 s
		if [ -z "$reported" ] && [ -s "$tmp/status" ]; then
			reported=$SECONDS
		elif [ -n "$reported" ] && [ $((SECONDS - reported)) -gt 30 ]; then
			break
		fi
		show_progress
		sleep 0.5
	done
	show_progress
	kill -KILL "$qemu_pid" 2>/dev/null || true
	wait "$qemu_pid" 2>/dev/null || true
	qemu_pid=
	log "guest ran $((SECONDS - t0)) s"
	cp "$tmp/console.log" "$out/console.log" 2>/dev/null || true
}

tap_totals() {
	cat "$out"/*.tap | awk '
		/^ok / { if ($0 ~ /# *SKIP/) s++; else p++ }
		/^not ok / { f++ }
		END { printf "%d passed, %d failed, %d skipped\n", p, f, s }'
}

# Copies the guest's TAP files out and writes the status file; exits with the result.
vm_collect() {
	local st f n=0
	st=$(tr -d '\r' <"$tmp/status" | tail -n 1)
	mkdir -p "$tmp/results"
	tar -C "$tmp/results" --no-same-owner --no-same-permissions -xf "$tmp/results.img" ||
		log "the results disk is unreadable"
	for f in "$tmp/results"/*.tap "$tmp/results"/*.log; do
		[ -f "$f" ] && [ ! -L "$f" ] || continue
		cp "$f" "$out/"
		case "$f" in *.tap) n=$((n + 1)) ;; esac
	done
	if [ "$guest_end" = timeout ]; then
		stage_fail "timeout: the guest ran longer than ${timeout}s (see console.log)"
	fi
	case "$st" in
	"exit "*) ;;
	"") stage_fail "the guest stopped without reporting (see console.log, $(tail -n 1 "$tmp/qemu.log" 2>/dev/null))" ;;
	*) stage_fail "$st" ;;
	esac
	if [ "$mode" = exec ]; then
		echo ok >"$out/status"
		cat "$out/exec.log" >&2
		log "the command exited ${st#exit }"
		exit "${st#exit }"
	fi
	[ $n -gt 0 ] || stage_fail "the guest wrote no test results"
	if [ "${st#exit }" != 0 ] && ! grep -q '^not ok' "$out"/*.tap; then
		stage_fail "the runner exited ${st#exit } without a failed test (see console.log)"
	fi
	echo ok >"$out/status"
	log "$n TAP files: $(tap_totals)"
	! grep -q '^not ok' "$out"/*.tap
}

# Removes the temporary directories of runs that were SIGKILLed (no trap ran); those of
# live runs, which may be concurrent, are left alone.
remove_stale_tmp() {
	local d pid
	for d in /tmp/airlock-vm.*; do
		[ -f "$d/owner" ] || continue
		pid=$(cat "$d/owner")
		kill -0 "$pid" 2>/dev/null || rm -rf "$d"
	done
}

# The whole script is parsed before this runs, so editing it meanwhile is harmless.
main() {
	local start
	[ "$(id -u)" -eq 0 ] || stage_fail "must run as root"
	mkdir -p "$cache"
	remove_stale_tmp
	tmp=$(mktemp -d /tmp/airlock-vm.XXXXXX)
	echo $$ >"$tmp/owner"

	start=$SECONDS
	vm_install_host_packages || stage_fail "cannot install the host packages"
	vm_fetch_kernel || stage_fail "cannot fetch the guest kernel"
	vm_root_image || stage_fail "cannot build the root image"
	vm_run_disk || stage_fail "cannot build the run disk"
	vm_initramfs || stage_fail "cannot build the initramfs"
	log "prepared in $((SECONDS - start)) s (kernel $kver)"
	vm_boot
	vm_collect
}

main; exit $?
