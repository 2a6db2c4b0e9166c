#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Real runtimes a user's agent runs: a JDK (javac and java, which need the host's
# /etc/java-17-openjdk through filesystem.etc) and Node.js. setup.sh installs them (and
# tests/vm/packages puts them in the guest): a missing one fails, it does not skip.
. "$(dirname "$0")/lib.sh"
al_init

# A runtime the test needs, or a failed case naming the package that brings it.
need() { # need COMMAND PACKAGE
	command -v "$1" >/dev/null && return 0
	al_ok 1 "$1 is installed (package $2, installed by setup.sh)"
	return 1
}

jws=$AL_TMP/java
mkdir -p "$jws"
cat >"$jws/Hello.java" <<'JAVA'
import java.security.MessageDigest;

public class Hello {
	public static void main(String[] args) throws Exception {
		byte[][] keep = new byte[64][];
		for (int i = 0; i < keep.length; i++)
			keep[i] = new byte[1 << 20]; /* 64 MiB live on the heap */
		byte[] d = MessageDigest.getInstance("SHA-256").digest("x".getBytes("UTF-8"));
		System.out.printf("hello from java %02x%02x%02x%02x %d%n", d[0], d[1], d[2], d[3],
				  keep.length);
	}
}
JAVA
chmod -R a+rX "$jws"
want_java="hello from java 2d711642 64"

# java_said DESCRIPTION: the last run printed Hello's line; else the whole run is shown.
java_said() {
	al_is "$AL_OUT" "$want_java" "$1"
	if [ "$AL_RC" -ne 0 ] || [ "$AL_OUT" != "$want_java" ]; then al_show; fi
}

# In the vm stage's guest (QEMU's TCG, vCPUs on host threads) a JVM whose threads run on
# both vCPUs now and then dies of SIGSEGV at the first instruction of a method C1 just
# compiled (seen there twice, 2026-12-07: "J 146 c1 java.lang.StringLatin1.newString ...
# [pc+0x0]"), never on a real CPU: the emulator's handling of code written on one vCPU
# and run on another. There the JVMs run on one vCPU (the affinity is inherited).
jvm=()
[ "${AIRLOCK_VM:-}" = 1 ] && jvm=(taskset -c 0)

if need javac openjdk-17-jdk-headless; then
	jdk=$(al_policy jdk <<'JSON'
{ "version": 1, "name": "jdk", "filesystem": { "etc": [ "java-17-openjdk" ] },
  "limits": { "memory": "768M", "wall_time": "5m" } }
JSON
	)
	# javac writes to /tmp; the JVM's default heap derives from what it can see (the
	# host's memory when the cgroup is not visible), the limit still holds the process.
	al_run --policy "$jdk" --workspace "$jws" -- "${jvm[@]}" /bin/sh -c \
		'javac -d /tmp /workspace/Hello.java && java -cp /tmp Hello'
	java_said "javac compiles and java runs under a 768M memory limit (etc: java-17-openjdk)"

	# The JVM sizes its default heap from the cgroup it finds (a quarter of the memory
	# limit), on v1 only when cpuset, cpu, cpuacct and memory are all in the view. The
	# host's own default, outside the sandbox, must be above 256M for the case to tell.
	max_heap() { awk '$2 == "MaxHeapSize" { print $4 }'; }
	host_heap=$(java -XX:+PrintFlagsFinal -version 2>/dev/null | max_heap)
	jdk512=$(al_policy jdk512 <<'JSON'
{ "version": 1, "name": "jdk512", "filesystem": { "etc": [ "java-17-openjdk" ] },
  "limits": { "memory": "512M", "cpu": 1, "wall_time": "5m" } }
JSON
	)
	if [ -z "$host_heap" ]; then
		al_ok 1 "java -XX:+PrintFlagsFinal -version prints MaxHeapSize on the host"
	elif [ "$host_heap" -le $((256 << 20)) ]; then
		al_skip "the JVM's default heap under a 512M limit is at most 256M" \
			"the host's own default is $host_heap already"
	else
		al_run --policy "$jdk512" -- "${jvm[@]}" java -XX:+PrintFlagsFinal -version
		heap=$(echo "$AL_OUT" | max_heap) small=1
		[ -n "$heap" ] && [ "$heap" -le $((256 << 20)) ] && small=0
		al_ok "$small" \
			"the JVM's default heap under a 512M limit is at most 256M ($heap, host $host_heap)"
		[ "$small" -eq 0 ] || al_show
	fi

	nojdk=$(al_policy nojdk <<'JSON'
{ "version": 1, "name": "nojdk", "limits": { "wall_time": "5m" } }
JSON
	)
	al_run --policy "$nojdk" --workspace "$jws" -- "${jvm[@]}" /bin/sh -c \
		'javac -d /tmp /workspace/Hello.java'
	case "$AL_RC:$AL_ERR" in
	0:*) al_ok 1 "control: without etc javac cannot load java.security"; al_show ;;
	*"java.security"*) al_ok 0 "control: without etc javac cannot load java.security" ;;
	*) al_ok 1 "control: without etc javac cannot load java.security"; al_show ;;
	esac

	# Under an exec allowlist of merged-/usr links: /bin for the shell, /lib for the
	# dynamic loader and the JDK's own launcher in /usr/lib/jvm (via /etc/alternatives).
	jdkexec=$(al_policy jdkexec <<'JSON'
{ "version": 1, "name": "jdkexec",
  "filesystem": { "etc": [ "java-17-openjdk" ], "exec": [ "/bin", "/lib" ] },
  "limits": { "memory": "768M", "wall_time": "5m" } }
JSON
	)
	al_run --policy "$jdkexec" --workspace "$jws" -- "${jvm[@]}" /bin/sh -c \
		'javac -d /tmp /workspace/Hello.java && java -cp /tmp Hello'
	java_said "javac and java run under exec [/bin, /lib]"

	# The /etc entry is read-only and noexec inside.
	al_run --policy "$jdk" --workspace "$jws" -- /bin/sh -c \
		'touch /etc/java-17-openjdk/x 2>/dev/null && echo writable;
		 grep " /etc/java-17-openjdk " /proc/self/mounts | cut -d " " -f 4 | tr , "\n" | grep -xE "ro|nosuid|nodev|noexec" | sort | tr "\n" " "'
	al_is "$AL_OUT" "nodev noexec nosuid ro " \
		"/etc/java-17-openjdk is mounted read-only, nosuid, nodev, noexec"
fi

if need node nodejs; then
	nws=$AL_TMP/node
	mkdir -p "$nws"
	cat >"$nws/t.js" <<'JS'
const crypto = require('crypto');
const zlib = require('zlib');
const fs = require('fs');
const { execFileSync } = require('child_process');
fs.writeFileSync('/tmp/x.gz', zlib.gzipSync('hello from node'));
const h = crypto.createHash('sha256').update('x').digest('hex').slice(0, 8);
const child = execFileSync('/bin/sh', ['-c', 'echo child']).toString().trim();
console.log(zlib.gunzipSync(fs.readFileSync('/tmp/x.gz')).toString(), h, child);
JS
	chmod -R a+rX "$nws"
	nodepol=$(al_policy node <<'JSON'
{ "version": 1, "name": "node", "filesystem": { "exec": [ "/bin", "/lib" ] },
  "limits": { "memory": "512M", "wall_time": "2m" } }
JSON
	)
	al_run --policy "$nodepol" --workspace "$nws" -- node /workspace/t.js
	al_is "$AL_OUT" "hello from node 2d711642 child" \
		"node runs a script (zlib, crypto, fs, a child process) under exec [/bin, /lib]"
	[ "$AL_RC" -eq 0 ] || al_show
fi
