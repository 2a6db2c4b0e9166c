#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The network module (airlock-net.so, docs/network.md): a run without network never maps
# it or the netfilter libraries, a networked run loads it from beside the executable, and a
# module that anyone but root could have written is refused with one line (exit 125).
# Networked runs happen only in the throw-away namespaces of net-lib.sh.
. "$(dirname "$0")/lib.sh"
al_init
# shellcheck source=tests/integration/net-lib.sh
. "$(dirname "$0")/net-lib.sh"

finish() {
	local rc=$? p
	for p in "${AL_PIDS[@]}"; do
		kill -KILL "$p" 2>/dev/null && wait "$p" 2>/dev/null
	done
	net_world_down
	(exit "$rc")
	al_finish
}
trap finish EXIT

# The module and the libraries only it needs, as mapped by process $1.
net_maps() {
	awk '{ print $6 }' "/proc/$1/maps" 2>/dev/null |
		grep -E '/(airlock-net\.so|libnftnl|libmnl|libnl-3|libnl-route-3)' | sort -u
}

# run_bg NAME AIRLOCK [RUN OPTIONS]: starts a task that prints "up" and sleeps, inside the
# test's host namespace, and waits for "up". Sets AL_BG_PID (airlock itself: nsenter and
# env exec it); 0 if up.
run_bg() {
	local name=$1 bin=$2
	shift 2
	nsenter --net="/run/netns/$NET_H" env --default-signal=INT,QUIT "$bin" run --state-dir "$AL_STATE" \
		--workspace "$AL_WS" "$@" -- /bin/sh -c "echo up; exec $PROBE sleep 30" \
		>"$AL_TMP/bg-$name.out" 2>"$AL_TMP/bg-$name.err" </dev/null &
	AL_BG_PID=$!
	AL_PIDS+=("$AL_BG_PID")
	if al_wait_for "$AL_TMP/bg-$name.out" '^up' 15; then
		[ "$(readlink "/proc/$AL_BG_PID/exe")" = "$(realpath "$bin")" ] && return 0
		echo "pid $AL_BG_PID is not $bin" | al_diag
		return 1
	fi
	sed 's/^/err: /' "$AL_TMP/bg-$name.err" | al_diag
	return 1
}

stop_bg() {
	kill -TERM "$1" 2>/dev/null
	wait "$1" 2>/dev/null
}

al_is "$(ldd "$AIRLOCK" | grep -oE 'lib(nftnl|mnl|nl-3|nl-route-3)\.so' | tr '\n' ' ')" "" \
	"airlock does not link libnftnl, libmnl, libnl-3 or libnl-route-3"

al_need "${NET_TOOLS[@]}"
lacks=$(net_kernel_lacks | tr '\n' ' ')
if [ -n "$lacks" ]; then
	al_skip "networked runs" "the kernel lacks: $lacks"
	exit 0
fi
net_world_up "$AL_TMP" || {
	al_ok 1 "the test namespaces are built"
	exit 1
}
NET_INO=$(net_dir_name) # the key of its runtime directory
netpol=$(al_policy net <<'JSON'
{
  "version": 1,
  "limits": { "wall_time": "60s" },
  "network": {
    "egress": [ { "host": "allowed.test", "ports": [443] } ],
    "dns": { "upstream": ["11.1.0.53"] }
  }
}
JSON
)

# The first start reaps what earlier tests left; the second has nothing to reap.
net_in_host "$AIRLOCK" run --state-dir "$AL_STATE" --workspace "$AL_WS" -- "$PROBE" true \
	>/dev/null 2>&1 </dev/null
if run_bg plain "$AIRLOCK"; then
	al_is "$(net_maps "$AL_BG_PID")" "" \
		"a run without network maps neither the module nor the netfilter libraries"
else
	al_ok 1 "a run without network starts"
fi
stop_bg "$AL_BG_PID"

module=$(dirname "$(realpath "$AIRLOCK")")/airlock-net.so
if run_bg net "$AIRLOCK" --policy "$netpol"; then
	net_pid=$AL_BG_PID
	maps=$(net_maps "$net_pid")
	al_ok "$(echo "$maps" | grep -qxF "$module"; echo $?)" \
		"a networked run loads the module from beside the executable"
	al_ok "$(echo "$maps" | grep -q libnftnl; echo $?)" "and with it libnftnl"
	echo "$maps" | al_diag
	# A live networked run leaves nothing to reap: the next start still does not load it.
	if run_bg plain2 "$AIRLOCK"; then
		al_is "$(net_maps "$AL_BG_PID")" "" \
			"a run without network beside a live networked run does not load the module"
	else
		al_ok 1 "a run without network starts beside a networked one"
	fi
	stop_bg "$AL_BG_PID"
	stop_bg "$net_pid"
else
	al_ok 1 "a networked run starts"
fi
# A networked run stopped by SIGTERM tears its network down and, as the last one, removes
# its slot directory itself; the next start finds nothing to reap.
al_ok "$([ ! -e "/run/airlock/net/$NET_INO" ]; echo $?)" \
	"a finished networked run leaves no slot directory"
net_in_host "$AIRLOCK" run --state-dir "$AL_STATE" --workspace "$AL_WS" -- "$PROBE" true \
	>/dev/null 2>&1 </dev/null
al_ok "$([ ! -e "/run/airlock/net/$NET_INO" ]; echo $?)" \
	"the next start without network leaves none either"

if [ ! -f "$module" ]; then
	al_ok 1 "the build put airlock-net.so beside $AIRLOCK"
	exit 1
fi
copy=$AL_TMP/copy
mkdir -m 755 "$copy"
cp "$AIRLOCK" "$copy/airlock"
cp "$module" "$copy/airlock-net.so"
chmod 644 "$copy/airlock-net.so"
cp "$(dirname "$module")/airlock-dns-proxy" "$copy/" # the DNS proxy, found the same way
cp "$(dirname "$module")/airlock-signer" "$copy/" # the record signer, found the same way

# net_run AIRLOCK [RUN OPTIONS] -- CMD: a run in the test's host namespace; sets AL_RC, AL_ERR.
net_run() {
	local bin=$1
	shift
	net_in_host "$bin" run --state-dir "$AL_STATE" --workspace "$AL_WS" "$@" \
		>"$AL_TMP/out" 2>"$AL_TMP/err" </dev/null
	AL_RC=$?
	AL_ERR=$(cat "$AL_TMP/err")
}

# refused DESCRIPTION PROBLEM: a networked run of the copy exits 125 with one line naming
# the module and PROBLEM (another airlock on this machine may leave something to reap: the
# reaper's warning is not the refusal).
refused() {
	local lines
	net_run "$copy/airlock" --policy "$netpol" -- "$PROBE" true
	# The record signer beside it has the same problem when the directory has it: the
	# warning that its record is signed in-process instead is not the refusal.
	lines=$(echo "$AL_ERR" | grep -v 'Failed to reap the network leftovers' |
		grep -vx "airlock: Record signer program '$copy/airlock-signer' $2; signing the run record in-process")
	al_is "$AL_RC" 125 "$1: exit 125"
	al_ok "$([ "$(echo "$lines" | wc -l)" -eq 1 ] &&
		echo "$lines" | grep -qE "^airlock: refusing run: .*'$copy/airlock-net\.so' $2"
		echo $?)" "$1: one line naming the module and the problem"
	[ "$AL_RC" -eq 125 ] || al_show
}

net_run "$copy/airlock" --policy "$netpol" -- "$PROBE" true
al_is "$AL_RC" 0 "a copy of airlock loads the module beside it"
[ "$AL_RC" -eq 0 ] || al_show
net_run "$AIRLOCK" -- "$PROBE" true # reaps what that run left, with the good module

chmod 664 "$copy/airlock-net.so"
refused "a group-writable module" "is writable by group or others"
chmod 646 "$copy/airlock-net.so"
refused "a world-writable module" "is writable by group or others"
net_run "$copy/airlock" -- "$PROBE" true
al_is "$AL_RC" 0 "a run without network does not care about the module"
chmod 644 "$copy/airlock-net.so"
chown 65534 "$copy/airlock-net.so"
refused "a module not owned by root" "is not owned by root"
chown 0 "$copy/airlock-net.so"
chmod 775 "$copy"
refused "a module in a group-writable directory" "is in a directory writable by group or others"
chmod 755 "$copy"
mv "$copy/airlock-net.so" "$copy/real.so"
ln -s real.so "$copy/airlock-net.so"
refused "a symbolic link" "is a symbolic link"
rm "$copy/airlock-net.so"
refused "a missing module" "cannot be opened: No such file or directory"
echo "not a module" >"$copy/airlock-net.so"
refused "a file that is not a shared object" "cannot be loaded: "
