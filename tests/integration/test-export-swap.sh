#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# --export DIR inside a read-write workspace: the task sees DIR and its .DIR.partial, and
# can rename the partial away and put a directory of its own in its place. What airlock
# moves into place at the end must be the partial it made and wrote (the scanned export),
# never the task's stand-in (unscanned files, links to host files).
. "$(dirname "$0")/lib.sh"
al_init
al_need stat

POL=$(al_policy swap <<'JSON'
{ "version": 1, "name": "swap",
  "filesystem": { "workspace": { "mode": "rw" },
                  "tmpfs": [ { "target": "/out", "size": "16M" } ] },
  "artifacts": { "scan": "off" } }
JSON
)
chmod 777 "$AL_WS"

# Control: an export into the workspace the task leaves alone is moved into place.
al_run --policy "$POL" --export "$AL_WS/out-ok" -- /bin/sh -c 'echo real >/out/a'
al_is "$AL_RC $(cat "$AL_WS/out-ok/a" 2>&1)" "0 real" "an export into the workspace is in place"

# The task renames the partial away and plants its own directory under the partial's name.
al_run --policy "$POL" --export "$AL_WS/out" -- /bin/sh -c 'echo real >/out/a
	mv /workspace/.out.partial /workspace/moved || exit 9
	mkdir /workspace/.out.partial && echo planted >/workspace/.out.partial/evil &&
	ln -s /etc/shadow /workspace/.out.partial/shadow'
al_ok "$([ ! -e "$AL_WS/out/evil" ] && [ ! -L "$AL_WS/out/shadow" ]; echo $?)" \
	"the task's stand-in for the partial directory is not moved into place as the export"
al_is "$(find "$AL_WS/out" -mindepth 1 2>&1 | wc -l)" 0 "DIR stays empty"
al_is "$AL_RC" 125 "airlock fails the run (125): its export is not in place"
al_ok "$(grep -q "partial directory .* was replaced while the task ran" "$AL_TMP/err"; echo $?)" \
	"one line says the partial directory was replaced" || al_diag <"$AL_TMP/err"
al_is "$(cat "$AL_WS/moved/a" 2>&1)" real "the export airlock wrote is where the task moved it"
