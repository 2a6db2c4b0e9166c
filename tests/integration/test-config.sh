#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The node configuration file: strict parsing with JSON paths, root ownership, and its
# settings reaching a run (state directory, cgroup parent); the environment changes nothing.
. "$(dirname "$0")/lib.sh"
al_init

# cfg NAME: writes a root-owned 0644 configuration from stdin, prints its path.
cfg() {
	cat >"$AL_TMP/$1"
	chmod 644 "$AL_TMP/$1"
	echo "$AL_TMP/$1"
}

good=$(cfg good.json <<JSON
{ "version": 1, "state_dir": "$AL_TMP/cfg-state",
  "network": { "pool": "10.240.0.0/16", "forwarding": "manage",
               "dns": { "upstream": [ "192.0.2.53" ], "ttl_min": "2s" } } }
JSON
)
"$AIRLOCK" config check "$good" >"$AL_TMP/o" 2>&1
al_is "$?" 0 "config check of a good file exits 0"
"$AIRLOCK" config show "$good" >"$AL_TMP/o" 2>&1
al_ok "$(python3 -c 'import json, sys
c = json.load(open(sys.argv[1]))
assert c["network"]["pool"] == "10.240.0.0/16" and c["network"]["forwarding"] == "manage"
assert c["network"]["dns"]["ttl_min"] == "2s" and c["network"]["dns"]["ttl_max"] == "5m"
assert "runtime_dir" not in c' "$AL_TMP/o" 2>&1; echo $?)" \
	"config show prints the effective configuration, defaults filled in"

bad=$(cfg bad.json <<'JSON'
{ "version": 1, "network": { "pool": "10.240.0.0/16", "colour": "blue" } }
JSON
)
"$AIRLOCK" config check "$bad" >"$AL_TMP/o" 2>&1
al_is "$?" 1 "config check of a bad file exits 1"
al_ok "$(grep -q 'config: /network/colour: unknown key' "$AL_TMP/o"; echo $?)" \
	"the error names the JSON path"
al_run --config "$bad" -- "$PROBE" true
al_is "$AL_RC" 125 "a run with a bad configuration is refused with 125"
al_ok "$(echo "$AL_ERR" | grep -c '^airlock: ' | grep -qx 1; echo $?)" "in one line"

# A DNS upstream inside an address pool (the runs' veths take those addresses) is an error
# of the file, named by its JSON path; one just beside the pool is none.
inpool=$(cfg inpool.json <<'JSON'
{ "version": 1, "network": { "pool": "10.240.0.0/16",
                             "dns": { "upstream": [ "192.0.2.53", "10.240.7.53" ] } } }
JSON
)
"$AIRLOCK" config check "$inpool" >"$AL_TMP/o" 2>&1
al_ok "$([ $? -eq 1 ] && [ "$(cat "$AL_TMP/o")" = "airlock: $inpool: config: /network/dns/upstream/1: 10.240.7.53 lies in the address pool 10.240.0.0/16 (/network/pool), the runs' own addresses: the run's DNS proxy cannot reach it; name an upstream outside the pool, or choose another pool" ]; echo $?)" \
	"config check: an upstream inside the pool is an error naming its path, the address and the pool"
al_diag <"$AL_TMP/o"
al_run --config "$inpool" -- "$PROBE" true
al_ok "$([ "$AL_RC" -eq 125 ] && [ "$(echo "$AL_ERR" | grep -c '^airlock: ')" -eq 1 ] &&
	echo "$AL_ERR" | grep -q 'upstream/1: 10.240.7.53 lies in the address pool'; echo $?)" \
	"a run under that configuration is refused (exit $AL_RC), in one line"
inpool6=$(cfg inpool6.json <<'JSON'
{ "version": 1, "network": { "dns": { "upstream": [ "fd61:6972:6c6b:ff::53" ] } } }
JSON
)
"$AIRLOCK" config check "$inpool6" >"$AL_TMP/o" 2>&1
al_ok "$([ $? -eq 1 ] && grep -qF 'config: /network/dns/upstream/0: fd61:6972:6c6b:ff::53 lies in the address pool fd61:6972:6c6b::/48 (/network/pool6)' "$AL_TMP/o"; echo $?)" \
	"config check: an upstream inside the default IPv6 pool is an error too"
beside=$(cfg beside.json <<'JSON'
{ "version": 1, "network": { "pool": "10.240.0.0/16",
                             "dns": { "upstream": [ "10.241.0.53", "10.239.255.255", "fd61:6972:6c6c::53" ] } } }
JSON
)
"$AIRLOCK" config check "$beside" >"$AL_TMP/o" 2>&1
al_is "$?" 0 "control: upstreams just beside the pools are fine"

chmod 664 "$good"
"$AIRLOCK" config check "$good" >"$AL_TMP/o" 2>&1
al_ok "$([ $? -eq 1 ] && grep -q 'writable by group or others' "$AL_TMP/o"; echo $?)" \
	"a group-writable configuration is refused"
chmod 644 "$good"
chown 65534 "$good"
"$AIRLOCK" config check "$good" >"$AL_TMP/o" 2>&1
al_ok "$([ $? -eq 1 ] && grep -q 'owned by uid 65534, not root' "$AL_TMP/o"; echo $?)" \
	"a configuration not owned by root is refused"
chown 0 "$good"
ln -s "$good" "$AL_TMP/link.json"
"$AIRLOCK" config check "$AL_TMP/link.json" >"$AL_TMP/o" 2>&1
al_ok "$([ $? -eq 1 ] && [ "$(cat "$AL_TMP/o")" = "airlock: refusing configuration '$AL_TMP/link.json': a symbolic link (name the file itself)" ]; echo $?)" \
	"a symbolic link as configuration is refused, in one line that says so"
al_diag <"$AL_TMP/o"
mkfifo "$AL_TMP/fifo.json"
timeout 10 "$AIRLOCK" config check "$AL_TMP/fifo.json" >"$AL_TMP/o" 2>&1
al_ok "$([ $? -eq 1 ] && grep -q 'not a regular file' "$AL_TMP/o"; echo $?)" \
	"a FIFO as configuration is refused at once"
al_run --config "$AL_TMP/no-such.json" -- "$PROBE" true
al_ok "$([ "$AL_RC" -eq 125 ] && echo "$AL_ERR" | grep -q "no-such.json': No such file"; echo $?)" \
	"a --config file that does not exist is refused"

# Its settings reach a run: the state directory (no --state-dir given) and the cgroup parent.
parent=airlock-it-cfg-$$
run_cfg=$(cfg run.json <<JSON
{ "version": 1, "state_dir": "$AL_TMP/cfg-state", "cgroup_parent": "$parent" }
JSON
)
# v1 (this host's hybrid): the pids hierarchy; v2: the unified one.
pids_root=/sys/fs/cgroup
[ -d /sys/fs/cgroup/pids ] && pids_root=/sys/fs/cgroup/pids
# run_cgroups: how many run cgroups (named <date>T<time>Z-<random>) live below the parent.
run_cgroups() {
	local d n=0
	for d in "$pids_root/$parent"/[0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]T*; do
		[ -d "$d" ] && n=$((n + 1))
	done
	echo "$n"
}
AIRLOCK_STATE_DIR=/nonexistent "$AIRLOCK" run --config "$run_cfg" --workspace "$AL_WS" \
	-- "$PROBE" sleep 2 >/dev/null 2>"$AL_TMP/err" &
AL_PIDS+=($!)
seen=1
for _ in $(seq 40); do
	if [ "$(run_cgroups)" -gt 0 ]; then
		seen=0
		break
	fi
	sleep 0.1
done
wait "${AL_PIDS[-1]}"
rc=$?
al_is "$rc" 0 "a run with a configuration file exits 0"
al_ok "$seen" "its cgroup lives below the configured cgroup_parent ($pids_root/$parent)"
al_ok "$(ls "$AL_TMP/cfg-state/records/"*.json >/dev/null 2>&1; echo $?)" \
	"its record lands in the configured state_dir"
# The parent stays (like the default one, airlock's home below each hierarchy); the
# run's own cgroup must not.
al_ok "$([ "$(run_cgroups)" -eq 0 ]; echo $?)" \
	"no run cgroup is left below the configured parent"
for d in /sys/fs/cgroup/*/"$parent" /sys/fs/cgroup/"$parent"; do
	[ -d "$d" ] && rmdir "$d" 2>/dev/null
done
true
