#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Every shipped example policy (docs/examples/*.json) passes `policy check --host` and runs
# a command of the kind it was written for. A networked example runs in a throw-away
# network namespace with forwarding on, never in the machine's own.
. "$(dirname "$0")/lib.sh"
al_init

EXAMPLES=$AIRLOCK_SRC/docs/examples
NETNS=al-ex-$$

cleanup_netns() {
	ip netns del "$NETNS" 2>/dev/null
	true
}
trap 'cleanup_netns; al_finish' EXIT

# host_check EXAMPLE [PREFIX...]: policy check --host from the rw workspace passes.
host_check() {
	local ex=$1
	shift
	"$@" "$AIRLOCK" policy check "$EXAMPLES/$ex" --host --workspace "$AL_RWWS" \
		>"$AL_TMP/check.out" 2>&1
	al_ok $? "$ex: policy check --host passes"
	grep -q 'would be refused' "$AL_TMP/check.out" && al_diag <"$AL_TMP/check.out"
}

# A build the way CI runs one: bare `make` found on PATH, cc under the exec allowlist.
cat >"$AL_RWWS/hello.c" <<'C'
#include <stdio.h>
int main(void) { printf("hello from the ci example\n"); return 0; }
C
printf 'all:\n\tcc -O2 -o hello hello.c\n\t./hello\n' >"$AL_RWWS/Makefile"

for f in "$EXAMPLES"/*.json; do
	ex=$(basename "$f")
	case "$ex" in
	default.json)
		host_check "$ex"
		al_run --policy "$f" --workspace "$AL_RWWS" -- sh -c 'echo ok; ls /workspace/hello.c'
		al_is "$AL_OUT" "ok
/workspace/hello.c" "$ex: a shell command runs and sees the workspace"
		;;
	ci-build.json)
		host_check "$ex"
		al_run --policy "$f" --workspace "$AL_RWWS" -- make -s
		al_is "$AL_OUT" "hello from the ci example" "$ex: make builds and runs a C program"
		[ "$AL_RC" -eq 0 ] || al_show
		;;
	agent-overlay.json)
		if ! al_overlay_host_ok; then # refused, with one line naming what is missing
			al_run --policy "$f" --workspace "$AL_RWWS" --export "$AL_TMP/agent-export" -- true
			al_ok "$([ "$AL_RC" -eq 125 ] &&
				echo "$AL_ERR" | grep -q '/filesystem/workspace/mode: overlay: '
				echo $?)" "$ex: this kernel cannot build the overlay: the run is refused, naming it"
			continue
		fi
		host_check "$ex"
		al_run --policy "$f" --workspace "$AL_RWWS" --export "$AL_TMP/agent-export" -- \
			sh -c 'echo "/* reviewed */" >>/workspace/hello.c'
		al_ok "$([ "$AL_RC" -eq 0 ] && ! grep -q reviewed "$AL_RWWS/hello.c" &&
			grep -qxF '+/* reviewed */' "$AL_TMP/agent-export/workspace/changes.patch"
			echo $?)" "$ex: an edit lands in changes.patch, not in the workspace"
		[ "$AL_RC" -eq 0 ] || al_show
		;;
	network-egress.json)
		# an IPv6 default route (a veth as uplink) and IPv6 forwarding: the example has
		# IPv6 rules, which a host without IPv6 refuses
		ip netns add "$NETNS" && ip -n "$NETNS" link set lo up &&
			ip netns exec "$NETNS" sysctl -qw net.ipv4.ip_forward=1 &&
			ip netns exec "$NETNS" sysctl -qw net.ipv6.conf.all.forwarding=1 &&
			ip -n "$NETNS" link add up0 type veth peer name up1 &&
			ip -n "$NETNS" -6 addr add 2001:db8:ffff::1/64 dev up0 nodad &&
			ip -n "$NETNS" link set up0 up &&
			ip -n "$NETNS" -6 route add default via 2001:db8:ffff::2
		al_ok $? "$ex: a throw-away host namespace with forwarding on"
		host_check "$ex" nsenter --net="/run/netns/$NETNS"
		nsenter --net="/run/netns/$NETNS" "$AIRLOCK" run --policy "$f" \
			--workspace "$AL_RWWS" --state-dir "$AL_STATE" -- /usr/bin/git --version \
			>"$AL_TMP/out" 2>"$AL_TMP/err" </dev/null
		AL_RC=$? AL_OUT=$(cat "$AL_TMP/out")
		al_ok "$([ "$AL_RC" -eq 0 ] && [[ "$AL_OUT" == "git version "* ]]; echo $?)" \
			"$ex: an allowed command runs with its egress ruleset loaded"
		[ "$AL_RC" -eq 0 ] || al_show
		cleanup_netns
		;;
	*)
		al_ok 1 "$ex: an example without a case here (add one: every example must run)"
		;;
	esac
done
