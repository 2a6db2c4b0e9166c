#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The DNS proxy as a program of its own (docs/network.md, "The DNS proxy's process"): the
# process of a live run holds nothing of the supervisor's (empty environment, its own
# executable and mappings, only its fds), its listeners are in the task's namespace so a
# resolver holding the host's *:53 neither keeps runs from starting nor gets the task's
# queries, and when the proxy dies the task's DNS is closed and the record says so.
# Networked runs happen only in the throw-away namespaces of net-lib.sh.
. "$(dirname "$0")/lib.sh"
al_init
# shellcheck source=tests/integration/net-lib.sh
. "$(dirname "$0")/net-lib.sh"

DECOY_PID=
finish() {
	local rc=$? p
	for p in "${AL_PIDS[@]}" $DECOY_PID; do
		kill -KILL "$p" 2>/dev/null && wait "$p" 2>/dev/null
	done
	net_world_down
	(exit "$rc")
	al_finish
}
trap finish EXIT

al_need "${NET_TOOLS[@]}"
lacks=$(net_kernel_lacks | tr '\n' ' ')
[ -z "$lacks" ] || al_skip_all "the kernel lacks: $lacks"
net_world_up "$AL_TMP" || {
	al_ok 1 "the test namespaces are built"
	exit 1
}
bin=$(dirname "$(realpath "$AIRLOCK")")
PROGRAM=$bin/airlock-dns-proxy
DECOY=11.1.0.12 # what the host's own resolver answers for every name; no one may learn it

# A resolver of the host's own on 0.0.0.0:53, UDP and TCP, as dnsmasq would be: answers
# every A query with $DECOY and logs it. No SO_REUSEADDR: it shares its port with no one.
cat >"$AL_TMP/decoy.py" <<'PY'
import socket, struct, sys, threading
log = open(sys.argv[1], 'a')
def answer(q, how):
    o = 12
    while q[o]:
        o += 1 + q[o]
    log.write(f'{how} {q[12:o].hex()}\n')
    log.flush()
    return (q[:2] + struct.pack('>HHHHH', 0x8180, 1, 1, 0, 0) + q[12:o + 5] +
            b'\xc0\x0c' + struct.pack('>HHIH', 1, 1, 60, 4) + socket.inet_aton(sys.argv[2]))
def udp(s):
    while True:
        q, peer = s.recvfrom(4096)
        s.sendto(answer(q, 'udp'), peer)
def tcp(s):
    while True:
        c, _ = s.accept()
        try:
            n = struct.unpack('>H', c.recv(2))[0]
            a = answer(c.recv(n), 'tcp')
            c.sendall(struct.pack('>H', len(a)) + a)
        except Exception:
            pass
        c.close()
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.bind(('0.0.0.0', 53))
t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
t.bind(('0.0.0.0', 53))
t.listen(8)
threading.Thread(target=udp, args=(u,), daemon=True).start()
threading.Thread(target=tcp, args=(t,), daemon=True).start()
print('ready', flush=True)
threading.Event().wait()
PY

decoy_up() {
	ip netns exec "$NET_H" python3 "$AL_TMP/decoy.py" "$AL_TMP/decoy.log" "$DECOY" \
		>"$AL_TMP/decoy.out" 2>&1 </dev/null &
	DECOY_PID=$!
	al_wait_for "$AL_TMP/decoy.out" '^ready' 10
}

decoy_down() {
	kill "$DECOY_PID" 2>/dev/null && wait "$DECOY_PID" 2>/dev/null
	DECOY_PID=
}

# The task: one query, then it waits for /workspace/GO and queries every way it can: UDP
# and TCP to its resolver (resolv.conf), UDP to another server, and libc's getent.
cat >"$AL_WS/proxy-task.py" <<'PY'
import errno, os, socket, struct, subprocess, sys, time
NAME = 'allowed.test'
resolver = [l.split()[1] for l in open('/etc/resolv.conf') if l.startswith('nameserver')][0]
def query(server, tcp=False):
    q = struct.pack('>HHHHHH', os.getpid() & 0xffff, 0x0100, 1, 0, 0, 0)
    q += b''.join(bytes([len(p)]) + p.encode() for p in NAME.split('.')) + b'\0'
    q += struct.pack('>HH', 1, 1)
    try:
        if tcp:
            s = socket.create_connection((server, 53), timeout=2)
            s.sendall(struct.pack('>H', len(q)) + q)
            r = s.recv(4096)[2:]
        else:
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.settimeout(2)
            s.connect((server, 53))  # connected: an ICMP error comes back as an errno
            s.send(q)
            r = s.recv(4096)
    except socket.timeout:
        return 'timeout'
    except OSError as e:
        return 'error-' + errno.errorcode.get(e.errno, str(e.errno))
    if len(r) < 12:
        return 'short'
    o = 12
    while r[o]:
        o += 1 + r[o]
    o += 5
    addrs = []
    for _ in range(struct.unpack('>H', r[6:8])[0]):
        o += 2 if r[o] >= 0xc0 else r.index(0, o) + 1 - o
        t, _, _, n = struct.unpack('>HHIH', r[o:o + 10])
        if t == 1:
            addrs.append(socket.inet_ntoa(r[o + 10:o + 14]))
        o += 10 + n
    return f'rcode{r[3] & 0xf} ' + (','.join(addrs) or '-')
print('before', query(resolver), flush=True)
go = '/workspace/' + sys.argv[1]
for _ in range(300):
    if os.path.exists(go):
        break
    time.sleep(0.1)
print('after-udp', query(resolver), flush=True)
print('after-udp-other', query('8.8.8.8'), flush=True)
print('after-tcp', query(resolver, tcp=True), flush=True)
t = time.monotonic()
g = subprocess.run(['getent', 'ahostsv4', NAME], capture_output=True, text=True)
print('after-getent', g.returncode, (g.stdout.split() or ['-'])[0],
      int((time.monotonic() - t) * 1000), flush=True)
PY

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

# run_task NAME GO: starts a networked run of proxy-task.py in the host namespace and
# waits for its first query. Sets SUP (the supervisor) and PROXY (its DNS proxy).
run_task() {
	local name=$1 go=$2 _ p
	# nsenter and env exec airlock: $! is the supervisor
	nsenter --net="/run/netns/$NET_H" env --default-signal=INT,QUIT "$AIRLOCK" run --state-dir "$AL_STATE" \
		--workspace "$AL_WS" --policy "$netpol" --record "$AL_TMP/record-$name.json" -- \
		/usr/bin/python3 /workspace/proxy-task.py "$go" \
		>"$AL_TMP/$name.out" 2>"$AL_TMP/$name.err" </dev/null &
	AL_PIDS+=($!)
	SUP=$! PROXY=
	al_wait_for "$AL_TMP/$name.out" '^before ' 20 || return 1
	for p in $(ps -o pid= --ppid "$SUP"); do # the supervisor's child that runs as nobody
		grep -q '^Uid:.65534' "/proc/$p/status" 2>/dev/null && PROXY=$p
	done
	[ -n "$PROXY" ]
}

# finish_task NAME GO: lets the task go on and waits for the run to end; sets AL_RC.
finish_task() {
	touch "$AL_WS/$2"
	wait "$SUP"
	AL_RC=$?
}

# ---- a resolver already on the host's *:53; the proxy process of a live run ----
decoy_up || al_ok 1 "the host's own resolver listens on 0.0.0.0:53"
if run_task up go-up; then
	al_ok 0 "a networked run starts while a resolver of the host's holds 0.0.0.0:53 (UDP, TCP)"
	al_is "$(sed -n 's/^before //p' "$AL_TMP/up.out")" "rcode0 11.1.0.10" \
		"the task's query is answered by the proxy, not the host's resolver"

	al_is "$(wc -c <"/proc/$PROXY/environ")" 0 "the proxy's environment is empty"
	al_ok "$([ "$(readlink "/proc/$PROXY/exe")" != "$(readlink "/proc/$SUP/exe")" ]; echo $?)" \
		"the proxy runs its own executable ($(readlink "/proc/$PROXY/exe")), not airlock's"
	maps=$(awk '$6 ~ /^\// { print $6 }' "/proc/$PROXY/maps" | sort -u)
	al_is "$(echo "$maps" | grep -E "^$(realpath "$AIRLOCK")\$|/airlock-net\.so\$|/lib(nftnl|mnl|nl-3|nl-route-3|jansson|curl|crypto|seccomp|cap-ng)\.so")" "" \
		"the proxy maps neither airlock, its module, nor their libraries"
	al_ok "$(echo "$maps" | grep -qxF "$PROGRAM"; echo $?)" "the proxy maps its own program"
	echo "$maps" | al_diag

	# Its fds: /dev/null on 0-2, its three sockets on 3-5 (listeners and the guard's), and
	# upstream sockets the guard passed it; nothing else (no file, pipe, memfd, namespace).
	fds=$(for f in "/proc/$PROXY/fd/"*; do echo "${f##*/} $(readlink "$f")"; done | sort -n)
	al_is "$(echo "$fds" | awk '$1 <= 5 { sub(/:\[[0-9]+\]/, "", $2); print $1, $2 }' | tr '\n' ' ')" \
		"0 /dev/null 1 /dev/null 2 /dev/null 3 socket 4 socket 5 socket " \
		"the proxy's fds 0-5 are /dev/null and its three sockets"
	others=$(echo "$fds" | awk '$1 > 5 && $2 !~ /^socket:/')
	n=$(echo "$fds" | wc -l)
	al_ok "$([ -z "$others" ] && [ "$n" -le $((6 + 16 + 1)) ]; echo $?)" \
		"every other fd of the proxy is an upstream socket ($n fds in all)"
	echo "$others" | al_diag

	st=/proc/$PROXY/status
	al_ok "$(grep -q '^Uid:.65534.65534.65534' "$st" && grep -q '^Seccomp:.2' "$st" &&
		grep -q '^NoNewPrivs:.1' "$st" && grep -q '^CapEff:.0000000000000000' "$st"; echo $?)" \
		"the proxy runs as nobody, no capabilities, no_new_privs, seccomp"
	al_is "$(stat -c %u "/proc/$PROXY/environ")" 0 \
		"the proxy is not dumpable (its /proc files stay root's after it became nobody)"

	# Its listeners: in the task's namespace, 127.0.0.1:53, the UDP one bound to lo.
	task=$(for p in /proc/[0-9]*; do
		grep -qs proxy-task.py "$p/cmdline" && [ "$(readlink "$p/ns/net")" != "$(readlink /proc/$SUP/ns/net)" ] &&
			echo "${p#/proc/}" && break
	done)
	listen=$(nsenter --net="/proc/$task/ns/net" ss -Hanup 'sport = :53' 2>/dev/null)
	al_ok "$(echo "$listen" | grep -qE "^(udp +)?UNCONN .* 127\.0\.0\.1%lo:53 .*pid=$PROXY,fd=3\)"; echo $?)" \
		"the proxy's UDP listener (fd 3) is on 127.0.0.1:53 in the task's namespace, bound to lo"
	echo "$listen" | al_diag
	listen=$(nsenter --net="/proc/$task/ns/net" ss -Hantp 'sport = :53' 2>/dev/null)
	al_ok "$(echo "$listen" | grep -qE "LISTEN .* 127\.0\.0\.1:53 .*pid=$PROXY,fd=5\)"; echo $?)" \
		"and its TCP listener (fd 5)"
	al_is "$(ip netns exec "$NET_H" ss -Hanup 'sport = :53' | grep -c 'airlock')" 0 \
		"no socket of airlock's is on the host's port 53"

	finish_task up go-up
	al_is "$AL_RC" 0 "the run exits 0"
	al_is "$(sed -n 's/^after-udp //p' "$AL_TMP/up.out")" "rcode0 11.1.0.10" \
		"a later query is answered too"
	al_is "$(sed -n 's/^after-tcp //p' "$AL_TMP/up.out")" "rcode0 11.1.0.10" \
		"over TCP as well"
	al_is "$(al_json "$AL_TMP/record-up.json" 'r["network"]["dns_proxy"]["state"]')" running \
		"the record says the proxy ran to the end"
	al_is "$(al_json "$AL_TMP/record-up.json" 'r["network"]["dns_proxy"]["sockets_refused"]')" 0 \
		"and that it asked for no upstream socket beyond its budget"
	al_is "$(cat "$AL_TMP/decoy.log" 2>/dev/null)" "" "the host's resolver saw no query"
else
	al_ok 1 "a networked run starts while a resolver of the host's holds 0.0.0.0:53 (UDP, TCP)"
	sed 's/^/err: /' "$AL_TMP/up.err" | al_diag
fi
decoy_down
rm -f "$AL_TMP/decoy.log"

# ---- the proxy dies; then a resolver takes the host's *:53 ----
if run_task died go-died; then
	killed=$PROXY
	kill -KILL "$killed"
	for _ in $(seq 50); do
		[ -e "/proc/$killed" ] || break
		sleep 0.1
	done
	al_ok "$([ ! -e "/proc/$killed" ]; echo $?)" "the supervisor reaps its killed proxy at once"
	decoy_up || al_ok 1 "the host's own resolver listens on 0.0.0.0:53"
	finish_task died go-died
	al_is "$AL_RC" 0 "the run goes on without DNS and exits 0"
	out=$AL_TMP/died.out
	for q in after-udp after-udp-other after-tcp; do
		r=$(sed -n "s/^$q //p" "$out")
		al_ok "$([[ "$r" =~ ^(error-ECONNREFUSED|timeout)$ ]]; echo $?)" \
			"$q: no answer once the proxy is dead, none from the host's resolver (got '$r')"
	done
	read -r _ rc addr ms < <(grep '^after-getent ' "$out")
	al_ok "$([ "${rc:-0}" -ne 0 ] && [ "$addr" = - ] && [ "${ms:-99999}" -lt 2000 ]; echo $?)" \
		"getent fails at once, without an address (exit ${rc:-?}, ${ms:-?} ms)"
	al_is "$(cat "$AL_TMP/decoy.log" 2>/dev/null)" "" "the host's resolver saw no query"
	al_ok "$(! grep -q "$DECOY" "$out"; echo $?)" "the host resolver's answer never reached the task"
	sed 's/^/out: /' "$out" | al_diag

	python3 - "$AL_TMP/record-died.json" "$killed" <<'PY'
import json, sys
p = json.load(open(sys.argv[1]))['network']['dns_proxy']
want = {'pid': int(sys.argv[2]), 'state': 'died', 'reason': 'killed', 'signal': 9,
        'action': 'dns-closed'}
assert {k: p.get(k) for k in want} == want, p
assert p['died_ms'] > 0, p
PY
	al_ok $? "the record says the proxy died, how, when, and that the task's DNS was closed"
	al_is "$(grep -c "network: the DNS proxy (pid $killed) was killed by signal 9 (SIGKILL); the task has no DNS from now on" "$AL_TMP/died.err")" 1 \
		"one line on stderr says so"
else
	al_ok 1 "a networked run starts"
	sed 's/^/err: /' "$AL_TMP/died.err" | al_diag
fi
decoy_down

# ---- the program is found like the module, and its start failures are named ----
copy=$AL_TMP/copy
mkdir -m 755 "$copy"
cp "$AIRLOCK" "$copy/airlock"
cp "$bin/airlock-net.so" "$PROGRAM" "$bin/airlock-signer" "$copy/"
chmod 644 "$copy/airlock-net.so"
chmod 755 "$copy/airlock-dns-proxy"
# copy_run DESCRIPTION PATTERN: a networked run of the copy is refused, exit 125, with one
# line matching PATTERN (other airlocks on this machine may leave leftovers: what the
# reaper says about them is not the refusal).
copy_run() {
	net_in_host "$copy/airlock" run --state-dir "$AL_STATE" --workspace "$AL_WS" \
		--policy "$netpol" -- /bin/true >"$AL_TMP/out" 2>"$AL_TMP/err" </dev/null
	AL_RC=$?
	lines=$(grep -vE 'Failed to reap the network leftovers|marked the record of run .* aborted|released the network slots|removed the cgroups of' "$AL_TMP/err")
	if [ "$AL_RC" -eq 125 ] && [ "$(echo "$lines" | wc -l)" -eq 1 ] && echo "$lines" | grep -qE "$2"; then
		al_ok 0 "$1"
	else
		al_ok 1 "$1"
		al_show
	fi
}
chmod 775 "$copy/airlock-dns-proxy"
copy_run "a group-writable proxy program is refused in one line" \
	"^airlock: refusing run: the DNS proxy program '$copy/airlock-dns-proxy' is writable by group or others$"
rm "$copy/airlock-dns-proxy"
copy_run "a missing one too" \
	"^airlock: refusing run: the DNS proxy program '$copy/airlock-dns-proxy' cannot be opened: No such file or directory$"
printf '#!/bin/sh\nexit 0\n' >"$copy/airlock-dns-proxy"
chmod 755 "$copy/airlock-dns-proxy"
copy_run "a script in its place fails at the exec, in one line" \
	"Failed to start the task's DNS proxy '$copy/airlock-dns-proxy' \(exec\): "
printf 'not a program\n' >"$copy/airlock-dns-proxy"
copy_run "so does a file that is no program" \
	"Failed to start the task's DNS proxy '$copy/airlock-dns-proxy' \(exec\): Exec format error"
net_in_host "$AIRLOCK" run --state-dir "$AL_STATE" --workspace "$AL_WS" -- /bin/true \
	>/dev/null 2>&1 </dev/null # reaps what the refused runs left
