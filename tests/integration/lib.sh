# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
#
# Shared helpers for the root integration tests: TAP output, a private temp tree per test
# (workspace, state dir, policies) removed on exit, `airlock run` wrappers, and checks
# that nothing of a run survives it (processes, namespaces, mounts).
#
# Environment: AIRLOCK (the airlock binary), AIRLOCK_PROBE (airlock-probe), AIRLOCK_SRC
# (source root). Each test sources this file and calls al_init first.

set -u

AL_N=0
AL_FAILED=0
AL_TMP=
AL_PIDS=()

# ---- TAP ----

al_diag() {
	sed 's/^/# /'
}

al_ok() { # al_ok STATUS DESCRIPTION
	AL_N=$((AL_N + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $AL_N - $2"
	else
		echo "not ok $AL_N - $2"
		AL_FAILED=$((AL_FAILED + 1))
	fi
}

al_skip() { # al_skip DESCRIPTION REASON
	AL_N=$((AL_N + 1))
	echo "ok $AL_N - $1 # SKIP $2"
}

al_is() { # al_is GOT WANT DESCRIPTION
	if [ "$1" = "$2" ]; then
		al_ok 0 "$3"
	else
		al_ok 1 "$3"
		printf 'got:  %s\nwant: %s\n' "$1" "$2" | al_diag
	fi
}

al_skip_all() { # al_skip_all REASON: the kernel lacks a feature the whole test needs
	echo "1..0 # SKIP $1"
	exit 77
}

# ---- setup and teardown ----

al_cleanup() {
	local p
	for p in "${AL_PIDS[@]}"; do
		kill -KILL "$p" 2>/dev/null
	done
	wait 2>/dev/null
	[ -n "$AL_TMP" ] && [ -d "$AL_TMP" ] && rm -rf --one-file-system "$AL_TMP"
}

# al_check_schema DIR: prints the problems of every run record and event log below DIR
# against docs/run-record.schema.json (tests/lib/record-schema.py) and a last line
# "validated N records, M event lines"; returns 1 on any problem. A directory with a file
# .airlock-schema-skip (records a test forged on purpose) is not looked into.
al_check_schema() {
	timeout 300 python3 "$AIRLOCK_SRC/tests/lib/record-schema.py" validate \
		"$AIRLOCK_SRC/docs/run-record.schema.json" "$1" 2>&1
}

# Every record and event log the test left in its temp tree, against the schema: one case,
# only when it left any (al_finish calls it before removing the tree).
al_schema_case() {
	local out rc
	[ -n "$AL_TMP" ] && [ -d "$AL_TMP" ] || return 0
	out=$(al_check_schema "$AL_TMP")
	rc=$?
	case "$out" in "validated 0 records, 0 event lines") return 0 ;; esac
	al_ok $rc "records and event logs validate against docs/run-record.schema.json"
	[ $rc -eq 0 ] || echo "$out" | tail -n 20 | al_diag
}

# al_overlay_host_ok: whether this kernel can build the overlay workspace airlock builds:
# overlayfs, layers by fd ("lowerdir+", 6.13) and detached idmapped layers (6.15). Where
# it cannot, a run with one must be refused with one line naming the feature.
al_overlay_host_ok() {
	local kmaj kmin
	read -r kmaj kmin <<<"$(uname -r | sed 's/^\([0-9]*\)\.\([0-9]*\).*/\1 \2/')"
	grep -qw overlay /proc/filesystems || modprobe -q overlay 2>/dev/null
	grep -qw overlay /proc/filesystems || return 1
	[ "$kmaj" -gt 6 ] || { [ "$kmaj" -eq 6 ] && [ "$kmin" -ge 15 ]; }
}

al_finish() {
	local rc=$?
	trap - EXIT # once: a test that calls it itself would print its plan twice
	# bash's own fatal errors end a script early: a syntax error (2), an unbound variable
	# (127, set -u). The checks it did not reach must not read as passed.
	if [ "$rc" -eq 2 ] || [ "$rc" -eq 127 ]; then
		AL_N=$((AL_N + 1)) AL_FAILED=$((AL_FAILED + 1))
		echo "not ok $AL_N - the test script ended early (bash exit $rc: see its stderr)"
	fi
	al_schema_case
	al_cleanup
	echo "1..$AL_N"
	[ "$AL_FAILED" -eq 0 ] && [ "$AL_N" -gt 0 ] && exit 0
	[ "$AL_N" -eq 0 ] && [ "$rc" -ne 0 ] && exit "$rc"
	exit 1
}

al_find_binaries() {
	local here
	here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
	: "${AIRLOCK_SRC:=$(cd "$here/../.." && pwd)}"
	if [ -z "${AIRLOCK:-}" ]; then
		AIRLOCK=$(command -v airlock || echo "$AIRLOCK_SRC/build/airlock")
	fi
	if [ -z "${AIRLOCK_PROBE:-}" ]; then
		AIRLOCK_PROBE=$(command -v airlock-probe ||
			echo "$AIRLOCK_SRC/build/tests/probe/airlock-probe")
	fi
	export AIRLOCK AIRLOCK_PROBE AIRLOCK_SRC
}

# al_isolate NAME: every airlock of the test from here on runs in a world of its own: a
# private runtime directory (a bind over /run/airlock in a mount namespace of its own) and a
# private cgroup parent, so no other airlock on the host reaps the runs the test kills, nor
# does the test's reap theirs. Sets REAL_AIRLOCK, ISO_PARENT, $AL_TMP/run (the runtime
# directory) and $AL_TMP/iso.json (the configuration `run` gets), and points AIRLOCK at a
# wrapper that execs airlock (same pid); the cgroup parent is removed at exit.
al_isolate() {
	ISO_PARENT=airlock-it-$1-$$
	mkdir -p /run/airlock "$AL_TMP/run"
	printf '{ "version": 1, "cgroup_parent": "%s" }\n' "$ISO_PARENT" >"$AL_TMP/iso.json"
	chmod 644 "$AL_TMP/iso.json"
	REAL_AIRLOCK=$AIRLOCK
	AIRLOCK=$AL_TMP/airlock
	cat >"$AIRLOCK" <<EOS
#!/bin/sh
# airlock in this test's own runtime directory and cgroup parent (no fork: same pid)
[ "\$1" = run ] && shift && set -- run --config "$AL_TMP/iso.json" "\$@"
exec unshare -m --propagation private -- /bin/sh -c \\
	'mount --bind "$AL_TMP/run" /run/airlock && exec "\$0" "\$@"' "$REAL_AIRLOCK" "\$@"
EOS
	chmod 755 "$AIRLOCK"
	# shellcheck disable=SC2154 # rc is assigned by the trap itself
	trap 'rc=$?; al_isolate_cleanup; (exit $rc); al_finish' EXIT
}

# Removes the test's cgroup parent at exit. A test that failed may have left a run: its
# airlocks are killed first, then what is left in the parent (thawed first, as a frozen
# v1 process does not die), so that no cgroup of the test stays on the host.
al_isolate_cleanup() {
	local d f i p pids
	for p in "${AL_PIDS[@]}"; do
		kill -KILL "$p" 2>/dev/null
	done
	for d in /sys/fs/cgroup/*/"$ISO_PARENT" /sys/fs/cgroup/"$ISO_PARENT"; do
		[ -d "$d" ] || continue
		for ((i = 0; i < 50; i++)); do
			while read -r f; do
				echo THAWED >"$f" 2>/dev/null
			done < <(find "$d" -name freezer.state 2>/dev/null)
			read -ra pids < <(find "$d" -name cgroup.procs -exec cat {} + 2>/dev/null | tr '\n' ' ')
			[ "${#pids[@]}" -eq 0 ] && break
			kill -KILL "${pids[@]}" 2>/dev/null
			sleep 0.1
		done
		find "$d" -depth -type d -exec rmdir {} + 2>/dev/null
	done
}

# Creates $AL_TMP with a read-only workspace $AL_WS holding the probe, a writable
# workspace $AL_RWWS and a state dir $AL_STATE. Removed on exit.
al_init() {
	al_find_binaries
	if [ "$(id -u)" -ne 0 ]; then
		echo "1..0 # SKIP needs root"
		exit 77
	fi
	if [ ! -x "$AIRLOCK" ] || [ ! -x "$AIRLOCK_PROBE" ]; then
		echo "Bail out! AIRLOCK='$AIRLOCK' or AIRLOCK_PROBE='$AIRLOCK_PROBE' missing"
		exit 1
	fi
	al_need python3
	# The probe runs from the workspace, a bind of this tree: it must allow exec. Hardened
	# hosts mount /tmp noexec; take /var/tmp there (both are checked, never remounted).
	local base=/tmp
	if al_is_noexec /tmp; then
		base=/var/tmp
		if al_is_noexec /var/tmp; then
			echo "Bail out! /tmp and /var/tmp are both mounted noexec"
			exit 1
		fi
	fi
	AL_TMP=$(mktemp -d "$base/airlock-it.XXXXXX") || exit 1
	trap al_finish EXIT
	chmod 755 "$AL_TMP"
	AL_WS=$AL_TMP/ws
	AL_RWWS=$AL_TMP/rwws
	AL_STATE=$AL_TMP/state
	mkdir -p "$AL_WS" "$AL_RWWS" "$AL_STATE"
	chmod 755 "$AL_WS"
	chmod 755 "$AL_RWWS" # owned by root: writable only through the idmapped mount
	cp "$AIRLOCK_PROBE" "$AL_WS/airlock-probe"
	cp "$AIRLOCK_PROBE" "$AL_RWWS/airlock-probe"
	chmod 755 "$AL_WS/airlock-probe" "$AL_RWWS/airlock-probe"
	# shellcheck disable=SC2034 # used by the tests
	PROBE=/workspace/airlock-probe
}

# Writes a policy file from stdin and prints its path.
al_policy() { # al_policy NAME < json
	cat >"$AL_TMP/$1.json"
	echo "$AL_TMP/$1.json"
}

# ---- what the host has ----
#
# A case that depends on the host is decided here, outside the sandbox and without airlock
# (so that a bug of the product cannot turn a failure into a skip), before it asserts.
# Only a kernel feature that is truly absent is a reason to skip; a missing tool is a
# broken setup (setup.sh installs every tool a test uses) and fails the test at once.

# al_need COMMAND...: bails out, failing the test, when a command is not installed.
al_need() {
	local c missing=()
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || missing+=("$c")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	echo "Bail out! not installed: ${missing[*]} (setup.sh installs it)"
	exit 1
}

# 0 when the host kernel offers cgroup controller $1 where airlock looks for it: the
# root of a pure v2 hierarchy, or a v1 hierarchy (hybrid hosts) in mountinfo.
al_host_has_controller() { # al_host_has_controller memory|pids|cpu
	if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
		tr ' ' '\n' </sys/fs/cgroup/cgroup.controllers | grep -qx "$1"
	else
		sed -n 's/^.* - cgroup [^ ]* //p' /proc/self/mountinfo | tr ',' '\n' | grep -qx "$1"
	fi
}

# The host kernel's Landlock ABI version, empty when it has none (not built, or not in
# the LSM list): landlock_create_ruleset(NULL, 0, LANDLOCK_CREATE_RULESET_VERSION).
al_host_landlock_abi() {
	python3 -c 'import ctypes
v = ctypes.CDLL(None, use_errno=True).syscall(444, None, 0, 1)
print(v if v > 0 else "")'
}

# 0 when the mount holding directory $1 is mounted noexec.
al_is_noexec() {
	findmnt -n -o OPTIONS -T "$1" 2>/dev/null | tr ',' '\n' | grep -qx noexec
}

# ---- running airlock ----

# Clock ticks since boot, as /proc/PID/stat's starttime counts them.
AL_HZ=$(getconf CLK_TCK)
al_ticks_now() {
	awk -v hz="$AL_HZ" '{ printf "%d\n", $1 * hz }' /proc/uptime
}

# al_run [RUN OPTIONS] -- CMD...: runs `airlock run` on $AL_WS (unless --workspace is
# given) with the test's state dir. Sets AL_RC, AL_OUT, AL_ERR (file contents).
al_run() {
	local ws=(--workspace "$AL_WS") a
	AL_NS_SINCE=$(al_ticks_now)
	for a in "$@"; do
		[ "$a" = "--" ] && break
		[ "$a" = "--workspace" ] && ws=()
	done
	"$AIRLOCK" run --state-dir "$AL_STATE" "${ws[@]}" "$@" \
		>"$AL_TMP/out" 2>"$AL_TMP/err" </dev/null
	AL_RC=$?
	# shellcheck disable=SC2034 # used by the tests
	AL_OUT=$(cat "$AL_TMP/out") AL_ERR=$(cat "$AL_TMP/err")
}

# Prints the last run's exit code and output as TAP diagnostics.
al_show() {
	{
		echo "exit $AL_RC"
		sed 's/^/out: /' "$AL_TMP/out" | head -n 60
		sed 's/^/err: /' "$AL_TMP/err" | head -n 30
	} | al_diag
}

# al_check DESCRIPTION [RUN OPTIONS] -- CMD...: passes when the run exits 0.
al_check() {
	local desc=$1
	shift
	al_run "$@"
	al_ok "$AL_RC" "$desc"
	[ "$AL_RC" -eq 0 ] || al_show
}

# al_expect_rc RC DESCRIPTION [RUN OPTIONS] -- CMD...
al_expect_rc() {
	local want=$1 desc=$2
	shift 2
	al_run "$@"
	al_is "$AL_RC" "$want" "$desc"
	[ "$AL_RC" -eq "$want" ] || al_show
}

# Starts `airlock run` in the background; output goes to $AL_TMP/bg-NAME.{out,err}.
# Sets AL_BG_PID.
al_run_bg() { # al_run_bg NAME [RUN OPTIONS] -- CMD...
	local name=$1
	shift
	AL_NS_SINCE=$(al_ticks_now)
	# A non-interactive shell starts background jobs with SIGINT ignored; undo that.
	env --default-signal=INT,QUIT "$AIRLOCK" run --state-dir "$AL_STATE" --workspace "$AL_WS" "$@" \
		>"$AL_TMP/bg-$name.out" 2>"$AL_TMP/bg-$name.err" </dev/null &
	AL_BG_PID=$!
	AL_PIDS+=("$AL_BG_PID")
}

# Waits until FILE contains PATTERN (grep -E), up to SECONDS. 0 if found.
al_wait_for() { # al_wait_for FILE PATTERN SECONDS
	local i
	for ((i = 0; i < $3 * 10; i++)); do
		grep -Eq -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# Waits up to SECONDS for pid to exit; 0 if it did.
al_wait_gone() { # al_wait_gone PID SECONDS
	local i
	for ((i = 0; i < $2 * 10; i++)); do
		kill -0 "$1" 2>/dev/null || return 0
		sleep 0.1
	done
	return 1
}

# The value of a JSON path (python expression on `r`) in a record file.
al_json() { # al_json FILE EXPR
	python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}

# ---- leftovers ----

# Namespace inodes from `airlock-probe ns` output on stdin, one "type:[inode]" per line.
al_ns_from_probe() {
	sed -n 's/^ns \([a-z]*\): \([0-9][0-9]*\)$/\1:[\2]/p'
}

# Lists host processes and fds that still hold any of the given namespaces
# ("type:[inode]" words), and nsfs mounts of them. Empty output means all gone.
# A namespace's inode number is reused once it is freed: a process that started before the
# last al_run/al_run_bg (AL_NS_SINCE, in clock ticks since boot) holds another test's, not
# one of that run, and is not reported.
al_ns_holders() { # al_ns_holders NS...
	local ns line pid start
	[ $# -gt 0 ] || return 0
	find /proc/[0-9]*/ns /proc/[0-9]*/fd -maxdepth 1 -type l -printf '%p -> %l\n' \
		2>/dev/null | grep -F "${@/#/-e> }" | while read -r line; do
		pid=${line#/proc/}
		pid=${pid%%/*}
		# starttime, field 22 of stat: the 20th after the ") " that ends the name
		start=$(sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null | awk '{ print $20 }')
		[ -n "$start" ] && [ -n "${AL_NS_SINCE:-}" ] && [ "$start" -lt "$((AL_NS_SINCE - 1))" ] && continue
		echo "$line"
	done
	# A namespace file bound under /run/netns is a test world's (`ip netns add`; airlock
	# never binds one): one that reused a freed namespace's inode number is not a leak.
	for ns in "$@"; do
		grep -F "nsfs" /proc/self/mountinfo | grep -F "${ns#*:}" |
			grep -vF " /run/netns/" || true
	done
}

# Host pids of processes inside the given pid namespace ("pid:[inode]").
al_pids_in_ns() {
	find /proc/[0-9]*/ns/pid -maxdepth 0 -printf '%p %l\n' 2>/dev/null |
		awk -v ns="$1" '$2 == ns { split($1, f, "/"); print f[3] }'
}

# Mount points on the host that mention this test's temp tree or one of its run ids.
al_our_mounts() {
	local ids=() f
	for f in "$AL_STATE"/records/*.json; do
		[ -f "$f" ] && ids+=("$(basename "$f" .json)")
	done
	awk '{print $5, $4}' /proc/self/mountinfo | grep -F -e "$AL_TMP" "${ids[@]/#/-e}" || true
}

# ---- a cgroup parent of the test's own ----

# al_own_cgroup_parent NAME: writes $AL_TMP/airlock.json, a node config whose runs make
# their cgroups below NAME, so that what a test counts there is its own.
al_own_cgroup_parent() {
	AL_PARENT=$1
	printf '{ "version": 1, "cgroup_parent": "%s" }\n' "$AL_PARENT" >"$AL_TMP/airlock.json"
	chmod 644 "$AL_TMP/airlock.json"
}

# Every directory of that parent, on v1 hierarchies and the unified one.
al_own_cgroup_dirs() {
	find /sys/fs/cgroup -maxdepth 3 -type d -name "$AL_PARENT" -prune 2>/dev/null
}

# Removes the parent and whatever is below it (at the test's end).
al_own_cgroup_remove() {
	[ -n "${AL_PARENT:-}" ] || return 0
	al_own_cgroup_dirs | while read -r d; do
		find "$d" -depth -type d -exec rmdir {} + 2>/dev/null
	done
}
