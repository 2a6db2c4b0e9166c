/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests of policy/: every error path (exact JSON path and a message fragment),
 * defaults, normalisation, digest stability, and the documented examples.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "cleanup.h"
#include "fd-util.h"
#include "macro.h"
#include "policy.h"
#include "strv.h"
#include "test.h"

struct error_case {
	const char *json; /* "V," is replaced by "\"version\": 1," */
	const char *path;
	const char *fragment;
};

#define V "{\"version\": 1, "
/* One credential slot with source "caller"; deliver is JSON text. */
#define CRED(name, deliver) \
	"{\"name\": \"" name "\", \"source\": \"caller\", \"deliver\": " deliver "}"

static const struct error_case error_cases[] = {
	/* syntax and root */
	{ "", "", "" },
	{ "{\"version\": 1", "", "" },
	{ "[1]", "", "expected an object" },
	{ "{\"version\": 1, \"version\": 1}", "", "duplicate object key" },
	{ "{\"version\": 1} x", "", "end of file expected" },
	{ "{}", "/version", "missing required key" },
	{ "{\"version\": \"1\"}", "/version", "expected the integer 1" },
	{ "{\"version\": 2}", "/version", "unsupported version 2" },
	{ V "\"bogus\": 1}", "/bogus", "unknown key" },
	{ V "\"a/b~c\": 1}", "/a~1b~0c", "unknown key" },
	/* name */
	{ V "\"name\": 1}", "/name", "expected a string" },
	{ V "\"name\": \"\"}", "/name", "expected a name" },
	{ V "\"name\": \"a b\"}", "/name", "expected a name" },
	{ V "\"name\": \"..\"}", "/name", "expected a name" },
	{ V "\"name\": \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}",
	  "/name", "expected a name" },
	/* command */
	{ V "\"command\": []}", "/command", "expected an object" },
	{ V "\"command\": {}}", "/command/allow", "missing required key" },
	{ V "\"command\": {\"deny\": []}}", "/command/deny", "unknown key" },
	{ V "\"command\": {\"allow\": \"sh\"}}", "/command/allow", "expected an array" },
	{ V "\"command\": {\"allow\": []}}", "/command/allow", "at least one" },
	{ V "\"command\": {\"allow\": [1]}}", "/command/allow/0", "expected an absolute" },
	{ V "\"command\": {\"allow\": [\"sh\", \"\"]}}", "/command/allow/1",
	  "expected an absolute" },
	{ V "\"command\": {\"allow\": [\"bin/sh\"]}}", "/command/allow/0", "expected an absolute" },
	{ V "\"command\": {\"allow\": [\"/usr/../bin/sh\"]}}", "/command/allow/0", "normalised" },
	{ V "\"command\": {\"allow\": [\"..\"]}}", "/command/allow/0", "basename" },
	{ V "\"command\": {\"allow\": [\"/\"]}}", "/command/allow/0", "absolute" },
	/* identity */
	{ V "\"identity\": 1}", "/identity", "expected an object" },
	{ V "\"identity\": {\"user\": 1}}", "/identity/user", "unknown key" },
	{ V "\"identity\": {\"uid\": -1}}", "/identity/uid", "0..65535" },
	{ V "\"identity\": {\"uid\": 65536}}", "/identity/uid", "0..65535, got 65536" },
	{ V "\"identity\": {\"gid\": \"1000\"}}", "/identity/gid",
	  "expected an integer in 0..65535" },
	{ V "\"identity\": {\"gid\": 1.5}}", "/identity/gid", "expected an integer" },
	{ V "\"identity\": {\"hostname\": 1}}", "/identity/hostname", "expected a string" },
	{ V "\"identity\": {\"hostname\": \"-a\"}}", "/identity/hostname", "RFC 1123" },
	{ V "\"identity\": {\"hostname\": \"a..b\"}}", "/identity/hostname", "RFC 1123" },
	{ V "\"identity\": {\"hostname\": \"a_b\"}}", "/identity/hostname", "RFC 1123" },
	{ V "\"identity\": {\"hostname\": \"\"}}", "/identity/hostname", "RFC 1123" },
	{ V "\"identity\": {\"hostname\": "
	    "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}}",
	  "/identity/hostname", "at most 64" },
	/* limits */
	{ V "\"limits\": []}", "/limits", "expected an object" },
	{ V "\"limits\": {\"disk\": \"1G\"}}", "/limits/disk", "unknown key" },
	{ V "\"limits\": {\"wall_time\": 10}}", "/limits/wall_time",
	  "expected a duration like \"10m\"" },
	{ V "\"limits\": {\"wall_time\": \"10\"}}", "/limits/wall_time",
	  "expected a duration like" },
	{ V "\"limits\": {\"wall_time\": \"0s\"}}", "/limits/wall_time", "1ms..168h" },
	{ V "\"limits\": {\"wall_time\": \"169h\"}}", "/limits/wall_time", "1ms..168h" },
	{ V "\"limits\": {\"wall_time\": \"99999999999999999999h\"}}", "/limits/wall_time",
	  "expected a duration" },
	{ V "\"limits\": {\"memory\": 512}}", "/limits/memory", "expected a size like \"512M\"" },
	{ V "\"limits\": {\"memory\": \"2X\"}}", "/limits/memory",
	  "expected a size like \"512M\"" },
	{ V "\"limits\": {\"memory\": \"1M\"}}", "/limits/memory", "expected a size in 4M..1024T" },
	{ V "\"limits\": {\"memory\": \"1025T\"}}", "/limits/memory", "4M..1024T" },
	{ V "\"limits\": {\"swap\": \"-1\"}}", "/limits/swap", "expected a size like" },
	{ V "\"limits\": {\"output\": \"1.5M\"}}", "/limits/output", "expected a size like" },
	{ V "\"limits\": {\"pids\": 0}}", "/limits/pids", "2..1048576" },
	{ V "\"limits\": {\"pids\": 1}}", "/limits/pids", "2..1048576" },
	{ V "\"limits\": {\"pids\": 1048577}}", "/limits/pids", "2..1048576" },
	{ V "\"limits\": {\"pids\": \"10\"}}", "/limits/pids", "expected an integer" },
	{ V "\"limits\": {\"cpu\": 0}}", "/limits/cpu", "0.001..1024" },
	{ V "\"limits\": {\"cpu\": -1.5}}", "/limits/cpu", "0.001..1024" },
	{ V "\"limits\": {\"cpu\": 0.0004}}", "/limits/cpu", "0.001..1024" },
	{ V "\"limits\": {\"cpu\": 1025}}", "/limits/cpu", "0.001..1024" },
	{ V "\"limits\": {\"cpu\": \"1\"}}", "/limits/cpu", "expected a number of CPUs" },
	{ V "\"limits\": {\"open_files\": 2}}", "/limits/open_files", "3..1048576" },
	{ V "\"limits\": {\"open_files\": 1048577}}", "/limits/open_files", "3..1048576" },
	{ V "\"limits\": {\"io_weight\": 0}}", "/limits/io_weight", "1..10000" },
	{ V "\"limits\": {\"io_weight\": 10001}}", "/limits/io_weight", "1..10000" },
	{ V "\"limits\": {\"io_weight\": 1e3}}", "/limits/io_weight", "expected an integer" },
	/* environment */
	{ V "\"environment\": []}", "/environment", "expected an object" },
	{ V "\"environment\": {\"1A\": \"x\"}}", "/environment/1A", "[A-Za-z_][A-Za-z0-9_]*" },
	{ V "\"environment\": {\"A-B\": \"x\"}}", "/environment/A-B", "expected a variable name" },
	{ V "\"environment\": {\"A=B\": \"x\"}}", "/environment/A=B", "expected a variable name" },
	{ V "\"environment\": {\"\": \"x\"}}", "/environment/", "expected a variable name" },
	{ V "\"environment\": {\"HOME\": \"/root\"}}", "/environment/HOME", "HOME is reserved" },
	{ V "\"environment\": {\"USER\": \"root\"}}", "/environment/USER", "USER is reserved" },
	{ V "\"environment\": {\"A\": 1}}", "/environment/A", "expected a string" },
	{ V "\"environment\": {\"A\": \"x\\u0000y\"}}", "", "NUL" },
	/* filesystem */
	{ V "\"filesystem\": 1}", "/filesystem", "expected an object" },
	{ V "\"filesystem\": {\"overlay\": 1}}", "/filesystem/overlay", "unknown key" },
	{ V "\"filesystem\": {\"workspace\": \"ro\"}}", "/filesystem/workspace",
	  "expected an object" },
	{ V "\"filesystem\": {\"workspace\": {}}}", "/filesystem/workspace/mode",
	  "missing required" },
	{ V "\"filesystem\": {\"workspace\": {\"mode\": \"upper\"}}}", "/filesystem/workspace/mode",
	  "expected \"ro\", \"rw\" or \"overlay\"" },
	{ V "\"filesystem\": {\"workspace\": {\"mode\": \"overlay\"}}}",
	  "/filesystem/workspace/mode", "needs an \"artifacts\" section" },
	{ V "\"filesystem\": {\"workspace\": {\"mode\": \"rw\", \"size\": \"1M\"}}}",
	  "/filesystem/workspace/size", "applies only to an \"overlay\" workspace" },
	{ V "\"filesystem\": {\"workspace\": {\"mode\": \"overlay\", \"size\": \"1\"}}}",
	  "/filesystem/workspace/size", "expected a size in" },
	{ V "\"filesystem\": {\"workspace\": {\"mode\": \"overlay\", \"size\": 5}}}",
	  "/filesystem/workspace/size", "expected a size like" },
	{ V "\"filesystem\": {\"workspace\": {\"mode\": \"overlay\", \"lower\": \"/\"}}}",
	  "/filesystem/workspace/lower", "unknown key" },
	{ V "\"filesystem\": {\"binds\": [{\"source\": \"/a\", \"target\": \"/b\", "
	    "\"mode\": \"overlay\"}]}}",
	  "/filesystem/binds/0/mode", "expected \"ro\" or \"rw\"" },
	{ V "\"filesystem\": {\"binds\": {}}}", "/filesystem/binds", "expected an array" },
	{ V "\"filesystem\": {\"binds\": [1]}}", "/filesystem/binds/0", "expected an object" },
	{ V "\"filesystem\": {\"binds\": [{\"target\": \"/a\"}]}}", "/filesystem/binds/0/source",
	  "missing required key" },
	{ V "\"filesystem\": {\"binds\": [{\"source\": \"/a\"}]}}", "/filesystem/binds/0/target",
	  "missing required key" },
	{ V "\"filesystem\": {\"binds\": [{\"source\": \"a\", \"target\": \"/a\"}]}}",
	  "/filesystem/binds/0/source", "expected an absolute normalised path" },
	{ V "\"filesystem\": {\"binds\": [{\"source\": \"/a//b\", \"target\": \"/a\"}]}}",
	  "/filesystem/binds/0/source", "normalised" },
	{ V "\"filesystem\": {\"binds\": [{\"source\": \"/a/\", \"target\": \"/a\"}]}}",
	  "/filesystem/binds/0/source", "normalised" },
	{ V "\"filesystem\": {\"binds\": [{\"source\": \"/a/./b\", \"target\": \"/a\"}]}}",
	  "/filesystem/binds/0/source", "normalised" },
	{ V "\"filesystem\": {\"binds\": [{\"source\": \"/a\\nb\", \"target\": \"/a\"}]}}",
	  "/filesystem/binds/0/source", "normalised" },
	{ V "\"filesystem\": {\"binds\": [{\"source\": \"/a\", \"target\": \"/\"}]}}",
	  "/filesystem/binds/0/target", "other than \"/\"" },
	{ V "\"filesystem\": {\"binds\": [{\"source\": \"/a\", \"target\": \"/proc/x\"}]}}",
	  "/filesystem/binds/0/target", "\"/proc\" is reserved" },
	{ V "\"filesystem\": {\"binds\": [{\"source\": \"/a\", \"target\": \"/usr\"}]}}",
	  "/filesystem/binds/0/target", "\"/usr\" is reserved" },
	{ V "\"filesystem\": {\"binds\": [{\"source\": \"/a\", \"target\": \"/lib64\"}]}}",
	  "/filesystem/binds/0/target", "\"/lib64\" is reserved" },
	{ V "\"filesystem\": {\"binds\": [{\"source\": \"/a\", \"target\": \"/workspace/x\"}]}}",
	  "/filesystem/binds/0/target", "\"/workspace\" is reserved" },
	{ V "\"filesystem\": {\"binds\": [{\"source\": \"/a\", \"target\": \"/a\", \"mode\": "
	    "\"x\"}]}}",
	  "/filesystem/binds/0/mode", "expected \"ro\" or \"rw\"" },
	{ V "\"filesystem\": {\"binds\": [{\"source\": \"/a\", \"target\": \"/a\", \"mode\": 1}]}}",
	  "/filesystem/binds/0/mode", "expected \"ro\" or \"rw\"" },
	{ V "\"filesystem\": {\"binds\": [{\"source\": \"/a\", \"target\": \"/a\", \"x\": 1}]}}",
	  "/filesystem/binds/0/x", "unknown key" },
	{ V "\"filesystem\": {\"binds\": [{\"source\": \"/a\", \"target\": \"/opt\"}, "
	    "{\"source\": \"/b\", \"target\": \"/opt\"}]}}",
	  "/filesystem/binds/1/target", "collides with /filesystem/binds/0 (\"/opt\")" },
	{ V "\"filesystem\": {\"binds\": [{\"source\": \"/a\", \"target\": \"/opt/a/b\"}, "
	    "{\"source\": \"/b\", \"target\": \"/opt/a\"}]}}",
	  "/filesystem/binds/1/target", "nested" },
	{ V "\"filesystem\": {\"binds\": [{\"source\": \"/a\", \"target\": \"/out\"}]}}",
	  "/filesystem/binds/0/target", "collides with the default tmpfs (\"/out\")" },
	{ V "\"filesystem\": {\"tmpfs\": [{\"target\": \"/scratch\", \"size\": \"1M\"}], "
	    "\"binds\": [{\"source\": \"/a\", \"target\": \"/scratch/x\"}]}}",
	  "/filesystem/binds/0/target", "collides with /filesystem/tmpfs/0 (\"/scratch\")" },
	{ V "\"filesystem\": {\"tmpfs\": [{\"target\": \"/a\", \"size\": \"1M\"}, "
	    "{\"target\": \"/a\", \"size\": \"1M\"}]}}",
	  "/filesystem/tmpfs/1/target", "collides" },
	{ V "\"filesystem\": {\"tmpfs\": \"/tmp\"}}", "/filesystem/tmpfs", "expected an array" },
	{ V "\"filesystem\": {\"tmpfs\": [{\"target\": \"/tmp\"}]}}", "/filesystem/tmpfs/0/size",
	  "missing required key" },
	{ V "\"filesystem\": {\"tmpfs\": [{\"size\": \"1M\"}]}}", "/filesystem/tmpfs/0/target",
	  "missing required key" },
	{ V "\"filesystem\": {\"tmpfs\": [{\"target\": \"/tmp\", \"size\": \"1K\"}]}}",
	  "/filesystem/tmpfs/0/size", "expected a size in 4K..1024T" },
	{ V "\"filesystem\": {\"tmpfs\": [{\"target\": \"/tmp\", \"size\": 1024}]}}",
	  "/filesystem/tmpfs/0/size", "expected a size like \"256M\"" },
	{ V "\"filesystem\": {\"tmpfs\": [{\"target\": \"/tmp\", \"size\": \"1Q\"}]}}",
	  "/filesystem/tmpfs/0/size", "expected a size like \"256M\"" },
	{ V "\"filesystem\": {\"tmpfs\": [{\"target\": \"/dev/shm\", \"size\": \"1M\"}]}}",
	  "/filesystem/tmpfs/0/target", "\"/dev\" is reserved" },
	{ V "\"filesystem\": {\"exec\": \"/usr\"}}", "/filesystem/exec", "expected an array" },
	{ V "\"filesystem\": {\"exec\": []}}", "/filesystem/exec", "at least one path" },
	{ V "\"filesystem\": {\"exec\": [\"/usr\", 1]}}", "/filesystem/exec/1",
	  "expected an absolute" },
	{ V "\"filesystem\": {\"exec\": [\"usr\"]}}", "/filesystem/exec/0",
	  "expected an absolute" },
	{ V "\"filesystem\": {\"etc\": \"java\"}}", "/filesystem/etc", "expected an array" },
	{ V "\"filesystem\": {\"etc\": []}}", "/filesystem/etc", "at least one name" },
	{ V "\"filesystem\": {\"etc\": [\"java\", 1]}}", "/filesystem/etc/1",
	  "expected a name relative to /etc" },
	{ V "\"filesystem\": {\"etc\": [\"/etc/java\"]}}", "/filesystem/etc/0",
	  "no leading \"/\"" },
	{ V "\"filesystem\": {\"etc\": [\"\"]}}", "/filesystem/etc/0", "relative to /etc" },
	{ V "\"filesystem\": {\"etc\": [\"..\"]}}", "/filesystem/etc/0", "relative to /etc" },
	{ V "\"filesystem\": {\"etc\": [\"java/../shadow\"]}}", "/filesystem/etc/0",
	  "relative to /etc" },
	{ V "\"filesystem\": {\"etc\": [\"java/\"]}}", "/filesystem/etc/0", "relative to /etc" },
	{ V "\"filesystem\": {\"etc\": [\"a//b\"]}}", "/filesystem/etc/0", "relative to /etc" },
	{ V "\"filesystem\": {\"etc\": [\"./java\"]}}", "/filesystem/etc/0", "relative to /etc" },
	{ V "\"filesystem\": {\"etc\": [\"java\", \"passwd\"]}}", "/filesystem/etc/1",
	  "\"/etc/passwd\" is generated by airlock" },
	{ V "\"filesystem\": {\"etc\": [\"resolv.conf\"]}}", "/filesystem/etc/0",
	  "generated by airlock" },
	{ V "\"filesystem\": {\"etc\": [\"hosts\"]}}", "/filesystem/etc/0",
	  "generated by airlock" },
	{ V "\"filesystem\": {\"etc\": [\"group\"]}}", "/filesystem/etc/0",
	  "generated by airlock" },
	{ V "\"filesystem\": {\"etc\": [\"hostname\"]}}", "/filesystem/etc/0",
	  "generated by airlock" },
	{ V "\"filesystem\": {\"etc\": [\"nsswitch.conf\"]}}", "/filesystem/etc/0",
	  "generated by airlock" },
	{ V "\"filesystem\": {\"etc\": [\"ssl/certs\"]}}", "/filesystem/etc/0",
	  "\"/etc/ssl\" is bound from the host by airlock already" },
	{ V "\"filesystem\": {\"etc\": [\"java\", \"java/security\"]}}", "/filesystem/etc/1",
	  "collides with /filesystem/etc/0" },
	{ V "\"filesystem\": {\"etc\": [\"java\", \"java\"]}}", "/filesystem/etc/1",
	  "may not be equal or nested" },
	{ V "\"filesystem\": {\"rootfs\": \"/\"}}", "/filesystem/rootfs", "other than \"/\"" },
	{ V "\"filesystem\": {\"rootfs\": \"srv\"}}", "/filesystem/rootfs",
	  "expected an absolute" },
	{ V "\"filesystem\": {\"rootfs\": [\"/srv\"]}}", "/filesystem/rootfs",
	  "expected an absolute" },
	/* seccomp */
	{ V "\"seccomp\": \"default\"}", "/seccomp", "expected an object" },
	{ V "\"seccomp\": {}}", "/seccomp/profile", "missing required key" },
	{ V "\"seccomp\": {\"profile\": \"none\"}}", "/seccomp/profile", "expected \"default\"" },
	{ V "\"seccomp\": {\"profile\": \"default\", \"x\": 1}}", "/seccomp/x", "unknown key" },
	/* network */
	{ V "\"network\": true}", "/network", "expected an object" },
	{ V "\"network\": {\"ingress\": []}}", "/network/ingress", "unknown key" },
	{ V "\"network\": {\"egress\": {}}}", "/network/egress", "expected an array" },
	{ V "\"network\": {\"egress\": [\"example.com\"]}}", "/network/egress/0",
	  "expected an object" },
	{ V "\"network\": {\"egress\": [{\"ports\": [443]}]}}", "/network/egress/0",
	  "exactly one of \"host\" and \"cidr\"" },
	{ V "\"network\": {\"egress\": [{\"host\": \"a.test\", \"cidr\": \"10.0.0.0/8\", "
	    "\"ports\": [443]}]}}",
	  "/network/egress/0", "exactly one" },
	{ V "\"network\": {\"egress\": [{\"host\": \"a.test\"}]}}", "/network/egress/0/ports",
	  "missing required key" },
	{ V "\"network\": {\"egress\": [{\"host\": \"a.test\", \"ports\": [443], \"via\": 1}]}}",
	  "/network/egress/0/via", "unknown key" },
	{ V "\"network\": {\"egress\": [{\"host\": 1, \"ports\": [443]}]}}",
	  "/network/egress/0/host", "expected a DNS name" },
	{ V "\"network\": {\"egress\": [{\"host\": \"-a.test\", \"ports\": [443]}]}}",
	  "/network/egress/0/host", "expected a DNS name" },
	{ V "\"network\": {\"egress\": [{\"host\": \"a..test\", \"ports\": [443]}]}}",
	  "/network/egress/0/host", "expected a DNS name" },
	{ V "\"network\": {\"egress\": [{\"host\": \"*\", \"ports\": [443]}]}}",
	  "/network/egress/0/host", "expected a DNS name" },
	{ V "\"network\": {\"egress\": [{\"host\": \"a.*.test\", \"ports\": [443]}]}}",
	  "/network/egress/0/host", "expected a DNS name" },
	{ V "\"network\": {\"egress\": [{\"host\": \"*.test\", \"ports\": [443]}]}}",
	  "/network/egress/0/host", "at least two labels" },
	{ V "\"network\": {\"egress\": [{\"host\": \"10.0.0.1\", \"ports\": [443]}]}}",
	  "/network/egress/0/host", "use \"cidr\"" },
	{ V "\"network\": {\"egress\": [{\"host\": \"a_b.test\", \"ports\": [443]}]}}",
	  "/network/egress/0/host", "expected a DNS name" },
	{ V
	  "\"network\": {\"egress\": [{\"host\": \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  "aaaaaaaaaaaaaaaaa.test\", \"ports\": [443]}]}}",
	  "/network/egress/0/host", "expected a DNS name" },
	{ V "\"network\": {\"egress\": [{\"cidr\": 10, \"ports\": [443]}]}}",
	  "/network/egress/0/cidr", "expected a CIDR like \"10.0.0.0/8\"" },
	{ V "\"network\": {\"egress\": [{\"cidr\": \"x/8\", \"ports\": [443]}]}}",
	  "/network/egress/0/cidr", "expected a CIDR" },
	{ V "\"network\": {\"egress\": [{\"cidr\": \"10.0.0.0/33\", \"ports\": [443]}]}}",
	  "/network/egress/0/cidr", "prefix length in 0..32" },
	{ V "\"network\": {\"egress\": [{\"cidr\": \"10.0.0.0/08\", \"ports\": [443]}]}}",
	  "/network/egress/0/cidr", "prefix length in 0..32" },
	{ V "\"network\": {\"egress\": [{\"cidr\": \"10.0.0.0/\", \"ports\": [443]}]}}",
	  "/network/egress/0/cidr", "prefix length in 0..32" },
	{ V "\"network\": {\"egress\": [{\"cidr\": \"10.0.0.0/+8\", \"ports\": [443]}]}}",
	  "/network/egress/0/cidr", "prefix length" },
	{ V "\"network\": {\"egress\": [{\"cidr\": \"fd00::/129\", \"ports\": [443]}]}}",
	  "/network/egress/0/cidr", "prefix length in 0..128" },
	{ V "\"network\": {\"egress\": [{\"cidr\": \"10.20.1.0/16\", \"ports\": [443]}]}}",
	  "/network/egress/0/cidr", "host bits are set beyond the /16 prefix" },
	{ V "\"network\": {\"egress\": [{\"cidr\": \"fd00::1/64\", \"ports\": [443]}]}}",
	  "/network/egress/0/cidr", "host bits" },
	{ V "\"network\": {\"egress\": [{\"cidr\": \"10.0.0.0/8000000000000000000000\", "
	    "\"ports\": [443]}]}}",
	  "/network/egress/0/cidr", "" },
	{ V "\"network\": {\"egress\": [{\"host\": \"a.test\", \"ports\": 443}]}}",
	  "/network/egress/0/ports", "expected an array of ports" },
	{ V "\"network\": {\"egress\": [{\"host\": \"a.test\", \"ports\": []}]}}",
	  "/network/egress/0/ports", "expected 1..64 ports" },
	{ V "\"network\": {\"egress\": [{\"host\": \"a.test\", \"ports\": [443, 0]}]}}",
	  "/network/egress/0/ports/1", "1..65535, got 0" },
	{ V "\"network\": {\"egress\": [{\"host\": \"a.test\", \"ports\": [65536]}]}}",
	  "/network/egress/0/ports/0", "1..65535" },
	{ V "\"network\": {\"egress\": [{\"host\": \"a.test\", \"ports\": [\"443\"]}]}}",
	  "/network/egress/0/ports/0", "expected an integer" },
	{ V "\"network\": {\"egress\": [{\"host\": \"a.test\", \"ports\": [443], \"protocol\": "
	    "\"icmp\"}]}}",
	  "/network/egress/0/protocol", "expected \"tcp\", \"udp\" or \"any\"" },
	{ V "\"network\": {\"egress\": [{\"host\": \"a.test\", \"ports\": [443], \"names\": 5}]}}",
	  "/network/egress/0/names", "only a wildcard host" },
	{ V "\"network\": {\"egress\": [{\"cidr\": \"11.0.0.0/8\", \"ports\": [443], "
	    "\"match_length\": 5}]}}",
	  "/network/egress/0/match_length", "only a wildcard host" },
	{ V
	  "\"network\": {\"egress\": [{\"host\": \"*.a.test\", \"ports\": [443], \"names\": 0}]}}",
	  "/network/egress/0/names", "1..4096, got 0" },
	{ V "\"network\": {\"egress\": [{\"host\": \"*.a.test\", \"ports\": [443], "
	    "\"names\": 4097}]}}",
	  "/network/egress/0/names", "1..4096" },
	{ V "\"network\": {\"egress\": [{\"host\": \"*.a.test\", \"ports\": [443], "
	    "\"names\": \"5\"}]}}",
	  "/network/egress/0/names", "expected" },
	{ V "\"network\": {\"egress\": [{\"host\": \"*.a.test\", \"ports\": [443], "
	    "\"match_length\": 201}]}}",
	  "/network/egress/0/match_length", "1..200" },
	{ V "\"network\": {\"dns\": []}}", "/network/dns", "expected an object" },
	{ V "\"network\": {\"dns\": {\"servers\": []}}}", "/network/dns/servers", "unknown key" },
	{ V "\"network\": {\"dns\": {\"upstream\": \"192.0.2.1\"}}}", "/network/dns/upstream",
	  "expected an array of IP addresses" },
	{ V "\"network\": {\"dns\": {\"upstream\": [\"dns.example\"]}}}", "/network/dns/upstream/0",
	  "expected an IPv4 or IPv6 address" },
	{ V "\"network\": {\"dns\": {\"upstream\": [\"192.0.2.1\", 2]}}}",
	  "/network/dns/upstream/1", "expected an IPv4 or IPv6 address" },
	{ V "\"network\": {\"dns\": {\"upstream\": [\"192.0.2.1\", \"1.1.1.2\", \"1.1.1.3\", "
	    "\"1.1.1.4\", \"1.1.1.5\"]}}}",
	  "/network/dns/upstream", "at most 4" },
	{ V "\"filesystem\": {\"cgroup\": \"no\"}}", "/filesystem/cgroup",
	  "expected true or false" },
	{ V "\"filesystem\": {\"cgroup\": 0}}", "/filesystem/cgroup", "expected true or false" },
	{ V "\"filesystem\": {\"cgroup\": null}}", "/filesystem/cgroup", "expected true or false" },
	{ V "\"filesystem\": {\"cgroups\": false}}", "/filesystem/cgroups", "unknown key" },
	/* credentials: the section and each slot */
	{ V "\"credentials\": {}}", "/credentials", "expected an array of credential slots" },
	{ V "\"credentials\": [1]}", "/credentials/0", "expected an object" },
	{ V "\"credentials\": [{}]}", "/credentials/0/name", "missing required key" },
	{ V "\"credentials\": [{\"name\": \"a\", \"source\": \"caller\"}]}",
	  "/credentials/0/deliver", "missing required key" },
	{ V "\"credentials\": [{\"name\": \"a\", \"deliver\": {\"env\": \"A\"}}]}",
	  "/credentials/0/source", "missing required key" },
	{ V "\"credentials\": [" CRED("a", "{\"env\": \"A\"}, \"ttl\": \"1m\"") "]}",
	  "/credentials/0/ttl", "only a grant" },
	{ V "\"credentials\": [" CRED("a", "{\"env\": \"A\"}, \"mode\": 1") "]}",
	  "/credentials/0/mode", "unknown key" },
	{ V "\"credentials\": [" CRED("a", "{\"env\": \"A\"}, \"scope\": \"x\"") "]}",
	  "/credentials/0/scope", "only a grant" },
	{ V "\"credentials\": [" CRED("a", "{\"env\": \"A\"}, \"on_expiry\": \"kill\"") "]}",
	  "/credentials/0/on_expiry", "only a grant" },
	{ V "\"credentials\": [" CRED("", "{\"env\": \"A\"}") "]}", "/credentials/0/name",
	  "expected a name" },
	{ V "\"credentials\": [" CRED("-a", "{\"env\": \"A\"}") "]}", "/credentials/0/name",
	  "starting with a letter or digit" },
	{ V "\"credentials\": [" CRED("a.b", "{\"env\": \"A\"}") "]}", "/credentials/0/name",
	  "expected a name" },
	{ V "\"credentials\": [" CRED(
		  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
		  "{\"env\": \"A\"}") "]}",
	  "/credentials/0/name", "1..64" },
	{ V "\"credentials\": [{\"name\": 1, \"source\": \"caller\", \"deliver\": {}}]}",
	  "/credentials/0/name", "expected a name" },
	{ V "\"credentials\": [{\"name\": \"a\", \"source\": \"vault\", \"deliver\": "
	    "{\"env\": \"A\"}}]}",
	  "/credentials/0/source", "expected \"caller\"" },
	{ V "\"credentials\": [{\"name\": \"a\", \"source\": \"issuer:github\", "
	    "\"deliver\": {\"env\": \"A\"}}]}",
	  "/credentials/0", "needs \"ttl\"" },
	{ V "\"credentials\": [{\"name\": \"a\", \"source\": \"issuer:\", "
	    "\"deliver\": {\"env\": \"A\"}, \"ttl\": \"1m\"}]}",
	  "/credentials/0/source", "issuer:<name>" },
	{ V "\"credentials\": [{\"name\": \"a\", \"source\": \"issuer:gh\", "
	    "\"deliver\": {\"env\": \"A\"}, \"ttl\": \"1500ms\"}]}",
	  "/credentials/0/ttl", "whole seconds" },
	{ V "\"credentials\": [{\"name\": \"a\", \"source\": \"issuer:gh\", "
	    "\"deliver\": {\"env\": \"A\"}, \"ttl\": \"25h\"}]}",
	  "/credentials/0/ttl", "1s..24h" },
	{ V "\"credentials\": [{\"name\": \"a\", \"source\": \"issuer:gh\", "
	    "\"deliver\": {\"env\": \"A\"}, \"ttl\": \"1m\", \"on_expiry\": \"x\"}]}",
	  "/credentials/0/on_expiry", "\"record\" or \"kill\"" },
	{ V "\"credentials\": [{\"name\": \"a\", \"source\": \"issuer:gh\", "
	    "\"deliver\": {\"env\": \"A\"}, \"ttl\": \"1m\", \"scope\": null}]}",
	  "/credentials/0/scope", "expected a string" },
	{ V "\"credentials\": [{\"name\": \"a\", \"source\": 1, \"deliver\": {}}]}",
	  "/credentials/0/source", "expected \"caller\"" },
	{ V "\"credentials\": [" CRED("a", "{}") "]}", "/credentials/0/deliver",
	  "exactly one of \"file\" and \"env\"" },
	{ V "\"credentials\": [" CRED("a", "{\"env\": \"A\", \"file\": \"/run/a\"}") "]}",
	  "/credentials/0/deliver", "exactly one" },
	{ V "\"credentials\": [" CRED("a", "{\"file\": \"/run/a\", \"mode\": \"0400\"}") "]}",
	  "/credentials/0/deliver/mode", "unknown key" },
	{ V "\"credentials\": [" CRED("a", "[]") "]}", "/credentials/0/deliver",
	  "an object with \"file\" or \"env\"" },
	{ V "\"credentials\": [" CRED("a", "{\"file\": \"run/a\"}") "]}",
	  "/credentials/0/deliver/file", "absolute normalised path" },
	{ V "\"credentials\": [" CRED("a", "{\"file\": \"/run/../a\"}") "]}",
	  "/credentials/0/deliver/file", "absolute normalised path" },
	{ V "\"credentials\": [" CRED("a", "{\"file\": \"/\"}") "]}", "/credentials/0/deliver/file",
	  "other than \"/\"" },
	{ V "\"credentials\": [" CRED("a", "{\"file\": \"/run\"}") "]}",
	  "/credentials/0/deliver/file", "\"/run\" is reserved" },
	{ V "\"credentials\": [" CRED("a", "{\"file\": \"/usr/a\"}") "]}",
	  "/credentials/0/deliver/file", "\"/usr\" is reserved" },
	{ V "\"credentials\": [" CRED("a", "{\"file\": \"/workspace/.npmrc\"}") "]}",
	  "/credentials/0/deliver/file", "\"/workspace\" is reserved" },
	{ V "\"credentials\": [" CRED("a", "{\"file\": \"/out/token\"}") "]}",
	  "/credentials/0/deliver/file", "\"/out\" holds the task's artifacts" },
	{ V "\"credentials\": [" CRED("a", "{\"file\": \"/out\"}") "]}",
	  "/credentials/0/deliver/file", "\"/out\" holds the task's artifacts" },
	{ V "\"credentials\": [" CRED("a", "{\"file\": \"/etc/pip.conf\"}") "]}",
	  "/credentials/0/deliver/file", "\"/etc\" is reserved" },
	{ V "\"credentials\": [" CRED("a", "{\"file\": \"/proc/a\"}") "]}",
	  "/credentials/0/deliver/file", "\"/proc\" is reserved" },
	{ V "\"credentials\": [" CRED("a", "{\"file\": 1}") "]}", "/credentials/0/deliver/file",
	  "expected an absolute path" },
	{ V "\"credentials\": [" CRED("a", "{\"env\": \"1A\"}") "]}", "/credentials/0/deliver/env",
	  "variable name" },
	{ V "\"credentials\": [" CRED("a", "{\"env\": \"A-B\"}") "]}", "/credentials/0/deliver/env",
	  "variable name" },
	{ V "\"credentials\": [" CRED("a", "{\"env\": \"HOME\"}") "]}",
	  "/credentials/0/deliver/env", "HOME is reserved" },
	{ V "\"credentials\": [" CRED("a", "{\"env\": \"A\", \"template\": \"{{value}}\"}") "]}",
	  "/credentials/0/deliver/template", "it needs \"file\"" },
	{ V "\"credentials\": [" CRED("a", "{\"file\": \"/run/a\", \"template\": \"x\"}") "]}",
	  "/credentials/0/deliver/template", "expected \"{{value}}\" in the template" },
	{ V "\"credentials\": [" CRED("a", "{\"file\": \"/run/a\", \"template\": "
					   "\"a={{value}} b={{ value }}\"}") "]}",
	  "/credentials/0/deliver/template", "unknown placeholder at byte 14" },
	{ V "\"credentials\": [" CRED("a", "{\"file\": \"/run/a\", \"template\": "
					   "\"{{name}}\"}") "]}",
	  "/credentials/0/deliver/template", "the only one is \"{{value}}\"" },
	{ V
	  "\"credentials\": [" CRED("a", "{\"file\": \"/run/a\", \"template\": "
					 "\"{{value}}{{value}}{{value}}{{value}}{{value}}\"}") "]}",
	  "/credentials/0/deliver/template", "at most 4" },
	{ V "\"credentials\": [" CRED("a", "{\"file\": \"/run/a\", \"template\": 1}") "]}",
	  "/credentials/0/deliver/template", "a string with \"{{value}}\"" },
	/* credentials: against each other and the rest of the policy */
	{ V "\"credentials\": [" CRED("a", "{\"env\": \"A\"}") ", " CRED("a",
									 "{\"env\": \"B\"}") "]}",
	  "/credentials/1/name", "\"a\" names /credentials/0 too" },
	{ V "\"credentials\": [" CRED("a", "{\"env\": \"A\"}") ", " CRED("b",
									 "{\"env\": \"A\"}") "]}",
	  "/credentials/1/deliver/env", "A is delivered by /credentials/0 too" },
	{ V "\"credentials\": [" CRED("a", "{\"file\": \"/run/a\"}") ", " CRED(
		  "b", "{\"file\": \"/run/a\"}") "]}",
	  "/credentials/1/deliver/file", "files may not be equal or nested" },
	{ V "\"credentials\": [" CRED("a", "{\"file\": \"/run/a/b\"}") ", " CRED(
		  "b", "{\"file\": \"/run/a\"}") "]}",
	  "/credentials/1/deliver/file", "collides with /credentials/0 (\"/run/a/b\")" },
	{ V "\"environment\": {\"GH_TOKEN\": \"x\"}, \"credentials\": [" CRED(
		  "gh", "{\"env\": \"GH_TOKEN\"}") "]}",
	  "/credentials/0/deliver/env", "GH_TOKEN is set by /environment too" },
	{ V "\"credentials\": [" CRED("p", "{\"env\": \"PATH\"}") "]}",
	  "/credentials/0/deliver/env", "PATH is set by the default environment" },
	{ V "\"environment\": {\"PATH\": \"/bin\"}, \"credentials\": [" CRED(
		  "p", "{\"env\": \"PATH\"}") "]}",
	  "/credentials/0/deliver/env", "PATH is set by /environment too" },
	{ V "\"filesystem\": {\"binds\": [{\"source\": \"/srv\", \"target\": \"/data\"}]}, "
	    "\"credentials\": [" CRED("a", "{\"file\": \"/data/key\"}") "]}",
	  "/credentials/0/deliver/file", "lies in the bind at \"/data\"" },
	{ V "\"filesystem\": {\"binds\": [{\"source\": \"/srv\", \"target\": \"/opt/t\"}]}, "
	    "\"credentials\": [" CRED("a", "{\"file\": \"/opt\"}") "]}",
	  "/credentials/0/deliver/file", "would cover the bind at \"/opt/t\"" },
	{ V "\"credentials\": [" CRED("a", "{\"file\": \"/tmp\"}") "]}",
	  "/credentials/0/deliver/file", "would cover the tmpfs at \"/tmp\"" },
	/* logs */
	{ V "\"logs\": []}", "/logs", "expected an object" },
	{ V "\"logs\": {\"max\": \"1M\"}}", "/logs/max", "unknown key" },
	{ V "\"logs\": {\"max_size\": 1048576}}", "/logs/max_size", "a size like \"16M\"" },
	{ V "\"logs\": {\"max_size\": \"16MB\"}}", "/logs/max_size", "a size like \"16M\"" },
	{ V "\"logs\": {\"max_size\": \"-1\"}}", "/logs/max_size", "a size like \"16M\"" },
	{ V "\"logs\": {\"max_size\": \"1025M\"}}", "/logs/max_size", "a size in 0..1G" },
	{ V "\"logs\": {\"max_size\": \"2T\"}}", "/logs/max_size", "\"0\": no captured logs" },
	{ V "\"logs\": {\"terminal\": \"Raw\"}}", "/logs/terminal",
	  "expected \"neutral\" or \"raw\"" },
	{ V "\"logs\": {\"terminal\": true}}", "/logs/terminal", "\"neutral\" or \"raw\"" },
	{ V "\"logs\": {\"redact_patterns\": \"x\"}}", "/logs/redact_patterns",
	  "an array of pattern strings" },
	{ V "\"logs\": {\"redact_patterns\": [\"a\", 1]}}", "/logs/redact_patterns/1",
	  "expected a pattern" },
	{ V "\"logs\": {\"redact_patterns\": [\"a\", \"\"]}}", "/logs/redact_patterns/1",
	  "a non-empty string of at most 1024 bytes" },
	{ V "\"logs\": {\"redact_patterns\": [null]}}", "/logs/redact_patterns/0",
	  "expected a pattern" },
	{ V "\"logs\": {\"redact_patterns\": [\"a\\u0000b\"]}}", "", "NUL" },
	/* artifacts */
	{ V "\"artifacts\": []}", "/artifacts", "expected an object" },
	{ V "\"artifacts\": {\"files\": 1}}", "/artifacts/files", "unknown key" },
	{ V "\"artifacts\": {\"max_files\": 0}}", "/artifacts/max_files", "1..1000000" },
	{ V "\"artifacts\": {\"max_files\": 1000001}}", "/artifacts/max_files", "1..1000000" },
	{ V "\"artifacts\": {\"max_size\": \"0\"}}", "/artifacts/max_size", "a size in 1.." },
	{ V "\"artifacts\": {\"max_file_size\": \"1GB\"}}", "/artifacts/max_file_size",
	  "a size like" },
	{ V "\"artifacts\": {\"scan\": \"Redact\"}}", "/artifacts/scan",
	  "\"redact\", \"reject\" or \"off\"" },
	{ V "\"artifacts\": {\"include\": []}}", "/artifacts/include", "1..64 globs" },
	{ V "\"artifacts\": {\"include\": [\"/etc/*\"]}}", "/artifacts/include/0",
	  "a relative glob" },
	{ V "\"artifacts\": {\"include\": [\"a/../b\"]}}", "/artifacts/include/0",
	  "a relative glob" },
	{ V "\"artifacts\": {\"include\": [\"a//b\"]}}", "/artifacts/include/0",
	  "a relative glob" },
	{ V "\"artifacts\": {\"include\": [\"ok\", \"a\\\\\"]}}", "/artifacts/include/1",
	  "a relative glob" },
	{ V "\"artifacts\": {\"include\": [\"a\\u0000b\"]}}", "", "NUL" },
	{ V "\"filesystem\": {\"tmpfs\": [{\"target\": \"/tmp\", \"size\": \"1M\"}]}, "
	    "\"artifacts\": {}}",
	  "/artifacts", "needs a filesystem.tmpfs entry at \"/out\"" },
};

static int parse_str(const char *s, struct policy **ret, struct policy_error *e)
{
	return policy_parse(s, strlen(s), ret, e);
}

TEST(error_paths)
{
	for (size_t i = 0; i < sizeof(error_cases) / sizeof(error_cases[0]); i++) {
		const struct error_case *c = &error_cases[i];
		struct policy *p = NULL;
		struct policy_error e;
		int r;

		memset(&e, 0xaa, sizeof(e));
		r = parse_str(c->json, &p, &e);
		if (r != -EINVAL || p)
			TEST_FAIL_("case %zu (%s): r=%d, expected -EINVAL", i, c->json, r);
		if (strcmp(e.path, c->path) != 0)
			TEST_FAIL_("case %zu (%s): path \"%s\", expected \"%s\" (%s)", i, c->json,
				   e.path, c->path, e.message);
		if (!strstr(e.message, c->fragment))
			TEST_FAIL_("case %zu (%s): message \"%s\" lacks \"%s\"", i, c->json,
				   e.message, c->fragment);
	}
}

/*
 * Builds {"version": 1, <prefix> item, item, ... <suffix>} with n items from fmt(i).
 * The formats come from the table below, never from input.
 */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
static char *build_many(const char *prefix, const char *fmt, size_t n, const char *suffix)
{
	size_t cap = 64 + strlen(prefix) + strlen(suffix) + n * (strlen(fmt) + 24);
	char *s = malloc(cap);
	size_t pos;

	if (!s)
		return NULL;
	pos = (size_t)snprintf(s, cap, "{\"version\": 1, %s", prefix);
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			pos += (size_t)snprintf(s + pos, cap - pos, ", ");
		pos += (size_t)snprintf(s + pos, cap - pos, fmt, i + 1);
	}
	snprintf(s + pos, cap - pos, "%s}", suffix);
	return s;
}
#pragma GCC diagnostic pop

struct many_case {
	const char *prefix, *fmt, *suffix, *path, *fragment;
	size_t max;
};

TEST(error_too_many)
{
	static const struct many_case cases[] = {
		{ "\"command\": {\"allow\": [", "\"c%zu\"", "]}", "/command/allow", "at most 256",
		  POLICY_MAX_COMMANDS },
		{ "\"environment\": {", "\"V%zu\": \"x\"", "}", "/environment", "at most 256",
		  POLICY_MAX_ENV },
		{ "\"filesystem\": {\"binds\": [", "{\"source\": \"/s\", \"target\": \"/b%zu\"}",
		  "]}", "/filesystem/binds", "at most 64", POLICY_MAX_BINDS },
		{ "\"filesystem\": {\"tmpfs\": [", "{\"target\": \"/t%zu\", \"size\": \"1M\"}",
		  "]}", "/filesystem/tmpfs", "at most 16", POLICY_MAX_TMPFS },
		{ "\"filesystem\": {\"exec\": [", "\"/e%zu\"", "]}", "/filesystem/exec",
		  "at most 64", POLICY_MAX_EXEC },
		{ "\"filesystem\": {\"etc\": [", "\"e%zu\"", "]}", "/filesystem/etc", "at most 32",
		  POLICY_MAX_ETC },
		{ "\"network\": {\"egress\": [", "{\"host\": \"h%zu.example\", \"ports\": [1]}",
		  "]}", "/network/egress", "at most 256", POLICY_MAX_EGRESS_RULES },
		{ "\"network\": {\"egress\": [{\"host\": \"a.example\", \"ports\": [", "%zu",
		  "]}]}", "/network/egress/0/ports", "1..64", POLICY_MAX_PORTS },
		{ "\"credentials\": [", CRED("c%1$zu", "{\"env\": \"C%1$zu\"}"), "]",
		  "/credentials", "at most 32", POLICY_MAX_CREDENTIALS },
		{ "\"logs\": {\"redact_patterns\": [", "\"token-%zu\"", "]}",
		  "/logs/redact_patterns", "at most 64", POLICY_MAX_REDACT_PATTERNS },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct many_case *c = &cases[i];
		_cleanup_free_ char *ok = build_many(c->prefix, c->fmt, c->max, c->suffix);
		_cleanup_free_ char *bad = build_many(c->prefix, c->fmt, c->max + 1, c->suffix);
		_cleanup_policy_free_ struct policy *p = NULL;
		struct policy_error e;

		ASSERT_TRUE(ok && bad);
		if (parse_str(ok, &p, &e) < 0)
			TEST_FAIL_("case %zu: %zu entries rejected: %s: %s", i, c->max, e.path,
				   e.message);
		p = policy_free(p);
		ASSERT_ERROR(parse_str(bad, &p, &e), EINVAL);
		ASSERT_STREQ(e.path, c->path);
		ASSERT_CONTAINS(e.message, c->fragment);
	}
}

TEST(error_long_values)
{
	char path[POLICY_MAX_PATH + 2], val[POLICY_MAX_ENV_VALUE + 2], json[8192];
	_cleanup_policy_free_ struct policy *p = NULL;
	struct policy_error e;

	memset(path, 'a', sizeof(path) - 1);
	path[0] = '/';
	path[POLICY_MAX_PATH] = '\0';
	snprintf(json, sizeof(json), "{\"version\": 1, \"filesystem\": {\"rootfs\": \"%s\"}}",
		 path);
	ASSERT_ERROR(parse_str(json, &p, &e), EINVAL);
	ASSERT_STREQ(e.path, "/filesystem/rootfs");
	path[POLICY_MAX_PATH - 1] = '\0';
	snprintf(json, sizeof(json), "{\"version\": 1, \"filesystem\": {\"rootfs\": \"%s\"}}",
		 path);
	ASSERT_OK(parse_str(json, &p, &e));
	p = policy_free(p);

	memset(val, 'v', sizeof(val) - 1);
	val[POLICY_MAX_ENV_VALUE + 1] = '\0';
	snprintf(json, sizeof(json), "{\"version\": 1, \"environment\": {\"X\": \"%s\"}}", val);
	ASSERT_ERROR(parse_str(json, &p, &e), EINVAL);
	ASSERT_STREQ(e.path, "/environment/X");
	ASSERT_CONTAINS(e.message, "at most 4096 bytes");
	val[POLICY_MAX_ENV_VALUE] = '\0';
	snprintf(json, sizeof(json), "{\"version\": 1, \"environment\": {\"X\": \"%s\"}}", val);
	ASSERT_OK(parse_str(json, &p, &e));
}

TEST(error_nul_byte)
{
	static const char json[] = "{\"version\": 1}\n\0 ";
	struct policy *p = NULL;
	struct policy_error e;

	/* jansson alone says "end of file expected near end of file": name the byte. */
	ASSERT_ERROR(policy_parse(json, sizeof(json) - 1, &p, &e), EINVAL);
	ASSERT_STREQ(e.path, "");
	ASSERT_CONTAINS(e.message, "NUL byte at byte offset 15");
	ASSERT_EQ(e.line, 2);
	ASSERT_EQ(e.column, 1);
	ASSERT_TRUE(p == NULL);
}

TEST(error_too_large)
{
	size_t n = POLICY_MAX_BYTES + 1;
	_cleanup_free_ char *buf = malloc(n);
	struct policy *p = NULL;
	struct policy_error e;

	ASSERT_TRUE(buf);
	memset(buf, ' ', n);
	memcpy(buf, "{\"version\": 1}", 14);
	ASSERT_ERROR(policy_parse(buf, n, &p, &e), EINVAL);
	ASSERT_STREQ(e.path, "");
	ASSERT_CONTAINS(e.message, "larger than 1048576 bytes");
	ASSERT_TRUE(p == NULL);
	/* One byte less is fine (trailing whitespace). */
	ASSERT_OK(policy_parse(buf, n - 1, &p, &e));
	policy_free(p);
}

TEST(error_line_column)
{
	struct policy *p = NULL;
	struct policy_error e;
	char buf[512];

	ASSERT_ERROR(parse_str("{\n  \"version\": 1,\n  \"name\": x\n}", &p, &e), EINVAL);
	ASSERT_EQ(e.line, 3);
	ASSERT_TRUE(e.column > 0);
	policy_error_format(&e, buf, sizeof(buf));
	ASSERT_CONTAINS(buf, "policy: / (line 3, column ");
	ASSERT_CONTAINS(buf, "invalid token");

	ASSERT_ERROR(parse_str("{\"version\": 1, \"limits\": {\"memory\": 512}}", &p, &e), EINVAL);
	ASSERT_EQ(e.line, 0);
	policy_error_format(&e, buf, sizeof(buf));
	ASSERT_STREQ(buf, "policy: /limits/memory: expected a size like \"512M\"");

	/* A NULL reterr is allowed. */
	ASSERT_ERROR(parse_str("{}", &p, NULL), EINVAL);
}

TEST(not_nul_terminated)
{
	static const char text[] = "{\"version\": 1}garbage";
	_cleanup_policy_free_ struct policy *p = NULL;
	struct policy_error e;

	ASSERT_OK(policy_parse(text, 14, &p, &e));
	ASSERT_EQ(p->version, 1);
}

TEST(defaults)
{
	_cleanup_policy_free_ struct policy *p = NULL;
	const struct policy_limits *l;

	ASSERT_OK(policy_new_default(&p));
	l = &p->limits;
	ASSERT_EQ(p->version, 1);
	ASSERT_STREQ(p->name, "default");
	ASSERT_TRUE(p->command_allow == NULL);
	ASSERT_EQ(p->identity.uid, 1000);
	ASSERT_EQ(p->identity.gid, 1000);
	ASSERT_STREQ(p->identity.hostname, "airlock");
	ASSERT_EQ(l->set, POLICY_LIMIT_WALL_TIME | POLICY_LIMIT_OPEN_FILES | POLICY_LIMIT_OUTPUT |
				  POLICY_LIMIT_MEMORY | POLICY_LIMIT_PIDS | POLICY_LIMIT_CPU);
	ASSERT_EQ(l->memory, 2ULL << 30);
	ASSERT_EQ(l->pids, 1024);
	ASSERT_EQ(l->cpu_milli, 2000);
	ASSERT_EQ(l->wall_time_ms, 600000);
	ASSERT_EQ(l->open_files, 1024);
	ASSERT_EQ(l->output, 16 << 20);
	ASSERT_EQ(strv_length(p->environment), 2);
	ASSERT_STREQ(p->environment[0], "LANG=C.UTF-8");
	ASSERT_STREQ(p->environment[1], "PATH=/usr/local/bin:/usr/bin:/bin");
	ASSERT_EQ(p->filesystem.workspace_mode, POLICY_MODE_RO);
	ASSERT_EQ(p->filesystem.n_binds, 0);
	ASSERT_EQ(p->filesystem.n_tmpfs, 2);
	ASSERT_STREQ(p->filesystem.tmpfs[0].target, "/out");
	ASSERT_EQ(p->filesystem.tmpfs[0].size, 64 << 20);
	ASSERT_STREQ(p->filesystem.tmpfs[1].target, "/tmp");
	ASSERT_EQ(p->filesystem.tmpfs[1].size, 256 << 20);
	ASSERT_TRUE(p->filesystem.exec == NULL);
	ASSERT_TRUE(p->filesystem.rootfs == NULL);
	ASSERT_TRUE(p->filesystem.cgroup);
	ASSERT_EQ(p->seccomp, POLICY_SECCOMP_DEFAULT);
	ASSERT_FALSE(p->network.enabled);
	ASSERT_EQ(p->network.n_egress, 0);
	ASSERT_EQ(p->logs.max_size, 16 << 20);
	ASSERT_EQ(p->logs.terminal, POLICY_LOGS_TERMINAL_NEUTRAL);
	ASSERT_TRUE(p->logs.redact_patterns == NULL);
	ASSERT_EQ(strlen(p->digest), 64);
}

TEST(default_equals_minimal_file)
{
	_cleanup_policy_free_ struct policy *d = NULL, *p = NULL;
	struct policy_error e;

	ASSERT_OK(policy_new_default(&d));
	ASSERT_OK(parse_str("{\"version\": 1}", &p, &e));
	ASSERT_STREQ(d->digest, p->digest);
}

TEST(artifacts_defaults_and_canonical_form)
{
	_cleanup_policy_free_ struct policy *d = NULL, *p = NULL, *q = NULL;
	_cleanup_free_ char *text = NULL;
	struct policy_error e;

	ASSERT_OK(policy_new_default(&d));
	ASSERT_FALSE(d->artifacts.enabled);
	ASSERT_OK(parse_str("{\"version\": 1, \"artifacts\": {}}", &p, &e));
	ASSERT_TRUE(p->artifacts.enabled);
	ASSERT_EQ(p->artifacts.max_files, 10000);
	ASSERT_EQ(p->artifacts.max_size, 1ULL << 30);
	ASSERT_EQ(p->artifacts.max_file_size, 256ULL << 20);
	ASSERT_TRUE(p->artifacts.include == NULL);
	ASSERT_EQ(p->artifacts.scan, POLICY_ARTIFACTS_SCAN_REDACT);
	ASSERT_FALSE(streq(p->digest, d->digest));
	ASSERT_OK(policy_to_json(p, false, &text));
	ASSERT_CONTAINS(text, "\"artifacts\":{\"include\":[\"**\"],\"max_file_size\":\"256M\","
			      "\"max_files\":10000,\"max_size\":\"1G\",\"scan\":\"redact\"}");
	/* The canonical form parses to the same digest; without the section, no key. */
	ASSERT_OK(parse_str(text, &q, &e));
	ASSERT_STREQ(q->digest, p->digest);
	free(text);
	text = NULL;
	ASSERT_OK(policy_to_json(d, false, &text));
	ASSERT_TRUE(strstr(text, "artifacts") == NULL);
}

TEST(artifacts_full)
{
	_cleanup_policy_free_ struct policy *p = NULL;
	struct policy_error e;

	ASSERT_OK(parse_str("{\"version\": 1, \"artifacts\": {\"max_files\": 5, \"max_size\": "
			    "\"2M\", \"max_file_size\": \"1K\", \"include\": [\"r/**\", "
			    "\"*.txt\", \"a\\\\*b\"], \"scan\": \"reject\"}}",
			    &p, &e));
	ASSERT_EQ(p->artifacts.max_files, 5);
	ASSERT_EQ(p->artifacts.max_size, 2 << 20);
	ASSERT_EQ(p->artifacts.max_file_size, 1024);
	ASSERT_STREQ(p->artifacts.include[0], "r/**");
	ASSERT_STREQ(p->artifacts.include[2], "a\\*b");
	ASSERT_EQ(p->artifacts.scan, POLICY_ARTIFACTS_SCAN_REJECT);
}

static const char full_policy[] =
	"{ \"version\": 1, \"name\": \"ci-validate\",\n"
	"  \"command\": { \"allow\": [\"sh\", \"/usr/bin/make\", \"sh\"] },\n"
	"  \"identity\": { \"uid\": 0, \"gid\": 65535, \"hostname\": \"build.airlock\" },\n"
	"  \"limits\": { \"wall_time\": \"90s\", \"memory\": \"2048M\", \"pids\": 512,\n"
	"              \"cpu\": 1.5, \"open_files\": 4096, \"output\": \"16384K\",\n"
	"              \"swap\": \"0\", \"io_weight\": 100 },\n"
	"  \"environment\": { \"PATH\": \"/usr/bin:/bin\", \"CI\": \"1\", \"_x\": \"a=b\" },\n"
	"  \"filesystem\": { \"workspace\": { \"mode\": \"rw\" },\n"
	"    \"binds\": [ { \"source\": \"/opt/tools\", \"target\": \"/opt/tools\" },\n"
	"                 { \"source\": \"/srv/cache\", \"target\": \"/cache\", \"mode\": \"rw\" } "
	"],\n"
	"    \"tmpfs\": [ { \"target\": \"/tmp\", \"size\": \"1G\" } ],\n"
	"    \"exec\": [ \"/usr\", \"/opt/tools\", \"/usr\" ],\n"
	"    \"etc\": [ \"java-17-openjdk\", \"gitconfig\", \"ssh/ssh_config\" ],\n"
	"    \"rootfs\": \"/srv/rootfs/bookworm\", \"cgroup\": false },\n"
	"  \"seccomp\": { \"profile\": \"default\" },\n"
	"  \"network\": { \"egress\": [\n"
	"      { \"host\": \"Registry.Example.COM.\", \"ports\": [443, 80, 443] },\n"
	"      { \"host\": \"*.files.example.org\", \"ports\": [443], \"names\": 200 },\n"
	"      { \"cidr\": \"10.20.0.0/16\", \"ports\": [5432], \"protocol\": \"tcp\" },\n"
	"      { \"cidr\": \"192.0.2.7\", \"ports\": [53], \"protocol\": \"any\" },\n"
	"      { \"cidr\": \"2001:DB8::/32\", \"ports\": [8080], \"protocol\": \"udp\" } ],\n"
	"    \"dns\": { \"upstream\": [\"192.0.2.53\", \"2001:db8::53\"] } } }\n";

TEST(full_policy_values)
{
	_cleanup_policy_free_ struct policy *p = NULL;
	const struct policy_egress_rule *r;
	struct policy_error e;
	uint8_t v6[16];

	ASSERT_OK(parse_str(full_policy, &p, &e));
	ASSERT_STREQ(p->name, "ci-validate");
	ASSERT_EQ(strv_length(p->command_allow), 2);
	ASSERT_STREQ(p->command_allow[0], "/usr/bin/make");
	ASSERT_STREQ(p->command_allow[1], "sh");
	ASSERT_EQ(p->identity.uid, 0);
	ASSERT_EQ(p->identity.gid, 65535);
	ASSERT_STREQ(p->identity.hostname, "build.airlock");
	ASSERT_EQ(p->limits.set, 0xff);
	ASSERT_EQ(p->limits.wall_time_ms, 90000);
	ASSERT_EQ(p->limits.memory, 2ULL << 30);
	ASSERT_EQ(p->limits.pids, 512);
	ASSERT_EQ(p->limits.cpu_milli, 1500);
	ASSERT_EQ(p->limits.open_files, 4096);
	ASSERT_EQ(p->limits.output, 16 << 20);
	ASSERT_EQ(p->limits.swap, 0);
	ASSERT_EQ(p->limits.io_weight, 100);
	ASSERT_EQ(strv_length(p->environment), 3);
	ASSERT_STREQ(p->environment[0], "CI=1");
	ASSERT_STREQ(p->environment[1], "PATH=/usr/bin:/bin");
	ASSERT_STREQ(p->environment[2], "_x=a=b");
	ASSERT_EQ(p->filesystem.workspace_mode, POLICY_MODE_RW);
	ASSERT_EQ(p->filesystem.n_binds, 2);
	ASSERT_STREQ(p->filesystem.binds[0].target, "/cache");
	ASSERT_EQ(p->filesystem.binds[0].mode, POLICY_MODE_RW);
	ASSERT_STREQ(p->filesystem.binds[1].source, "/opt/tools");
	ASSERT_EQ(p->filesystem.binds[1].mode, POLICY_MODE_RO);
	ASSERT_EQ(p->filesystem.n_tmpfs, 1);
	ASSERT_EQ(p->filesystem.tmpfs[0].size, 1ULL << 30);
	/* exec and etc keep the file's order: run-time refusals name their index. */
	ASSERT_EQ(strv_length(p->filesystem.exec), 3);
	ASSERT_STREQ(p->filesystem.exec[0], "/usr");
	ASSERT_STREQ(p->filesystem.exec[1], "/opt/tools");
	ASSERT_EQ(strv_length(p->filesystem.etc), 3);
	ASSERT_STREQ(p->filesystem.etc[0], "java-17-openjdk");
	ASSERT_STREQ(p->filesystem.etc[2], "ssh/ssh_config");
	ASSERT_STREQ(p->filesystem.rootfs, "/srv/rootfs/bookworm");
	ASSERT_FALSE(p->filesystem.cgroup);
	ASSERT_TRUE(p->network.enabled);
	ASSERT_EQ(p->network.n_egress, 5);

	r = &p->network.egress[0];
	ASSERT_STREQ(r->host, "registry.example.com");
	ASSERT_FALSE(r->wildcard || r->is_cidr);
	ASSERT_EQ(r->n_ports, 2);
	ASSERT_EQ(r->ports[0], 80);
	ASSERT_EQ(r->ports[1], 443);
	ASSERT_EQ(r->protocols, POLICY_PROTOCOL_TCP);
	r = &p->network.egress[1];
	ASSERT_TRUE(r->wildcard);
	ASSERT_STREQ(r->host, "*.files.example.org");
	ASSERT_EQ(r->names, 200);
	ASSERT_FALSE(r->names_default); /* set: the node configuration's default does not apply */
	ASSERT_EQ(r->match_length, POLICY_WILDCARD_MATCH_DEFAULT);
	ASSERT_TRUE(r->match_length_default); /* not set: it does */
	r = &p->network.egress[2];
	ASSERT_TRUE(r->is_cidr && r->host == NULL);
	ASSERT_EQ(r->cidr.family, AF_INET);
	ASSERT_EQ(r->prefixlen, 16);
	ASSERT_EQ(r->cidr.addr[0], 10);
	ASSERT_EQ(r->cidr.addr[1], 20);
	r = &p->network.egress[3];
	ASSERT_EQ(r->prefixlen, 32);
	ASSERT_EQ(r->protocols, POLICY_PROTOCOL_TCP | POLICY_PROTOCOL_UDP);
	r = &p->network.egress[4];
	ASSERT_EQ(r->cidr.family, AF_INET6);
	ASSERT_EQ(r->prefixlen, 32);
	ASSERT_EQ(r->protocols, POLICY_PROTOCOL_UDP);
	ASSERT_EQ(inet_pton(AF_INET6, "2001:db8::", v6), 1);
	ASSERT_TRUE(memcmp(r->cidr.addr, v6, 16) == 0);
	ASSERT_EQ(p->network.n_dns_upstream, 2);
	ASSERT_EQ(p->network.dns_upstream[1].family, AF_INET6);
}

TEST(section_semantics)
{
	_cleanup_policy_free_ struct policy *p = NULL;
	struct policy_error e;

	/* An empty "network" enables networking with DNS only. */
	ASSERT_OK(parse_str("{\"version\": 1, \"network\": {}}", &p, &e));
	ASSERT_TRUE(p->network.enabled);
	ASSERT_EQ(p->network.n_egress, 0);
	p = policy_free(p);

	/* An empty "environment" replaces the defaults; "tmpfs": [] means none. */
	ASSERT_OK(parse_str("{\"version\": 1, \"environment\": {}, \"filesystem\": "
			    "{\"tmpfs\": []}}",
			    &p, &e));
	ASSERT_EQ(strv_length(p->environment), 0);
	ASSERT_TRUE(p->environment != NULL);
	ASSERT_EQ(p->filesystem.n_tmpfs, 0);
	p = policy_free(p);

	/* With tmpfs given, /out is free for a bind; cidr /0 and the v6 edge work. */
	ASSERT_OK(parse_str("{\"version\": 1, \"filesystem\": {\"tmpfs\": [], \"binds\": "
			    "[{\"source\": \"/\", \"target\": \"/out\"}]}, \"network\": "
			    "{\"egress\": [{\"cidr\": \"0.0.0.0/0\", \"ports\": [65535, 1]}, "
			    "{\"cidr\": \"::/0\", \"ports\": [1]}]}}",
			    &p, &e));
	ASSERT_EQ(p->network.egress[0].prefixlen, 0);
	ASSERT_EQ(p->network.egress[0].ports[1], 65535);
	p = policy_free(p);

	/* cpu rounds to milli-cores; integers are numbers too. */
	ASSERT_OK(parse_str("{\"version\": 1, \"limits\": {\"cpu\": 2, \"wall_time\": \"1h\"}}", &p,
			    &e));
	ASSERT_EQ(p->limits.cpu_milli, 2000);
	ASSERT_EQ(p->limits.wall_time_ms, 3600000);
}

static int digest_of(const char *json, char out[65])
{
	_cleanup_policy_free_ struct policy *p = NULL;
	struct policy_error e;
	int r;

	r = parse_str(json, &p, &e);
	if (r < 0)
		return r;
	memcpy(out, p->digest, 65);
	return 0;
}

TEST(digest_stable)
{
	char a[65], b[65], c[65], d[65];

	ASSERT_OK(digest_of("{\"version\":1,\"name\":\"x\",\"limits\":{\"memory\":\"1G\","
			    "\"pids\":10}}",
			    a));
	ASSERT_OK(digest_of("{\n  \"limits\" : { \"pids\" : 10, \"memory\" : \"1024M\" },\n"
			    "  \"name\" : \"x\", \"version\" : 1 }\n",
			    b));
	ASSERT_STREQ(a, b);
	/* Defaults written out explicitly give the default digest. */
	ASSERT_OK(digest_of("{\"version\": 1}", c));
	ASSERT_OK(digest_of("{\"version\": 1, \"name\": \"default\", \"identity\": {\"uid\": 1000},"
			    " \"limits\": {\"wall_time\": \"600s\"}, \"seccomp\": {\"profile\":"
			    " \"default\"}, \"filesystem\": {\"workspace\": {\"mode\": \"ro\"}, "
			    "\"cgroup\": true}}",
			    d));
	ASSERT_STREQ(c, d);
	/* Turning the cgroup view off is a different policy. */
	ASSERT_OK(digest_of("{\"version\": 1, \"filesystem\": {\"cgroup\": false}}", d));
	ASSERT_FALSE(streq(c, d));
	/* Any change changes it. */
	ASSERT_OK(digest_of("{\"version\":1,\"name\":\"x\",\"limits\":{\"memory\":\"1G\","
			    "\"pids\":11}}",
			    b));
	ASSERT_FALSE(streq(a, b));
}

static void roundtrip(const char *json, bool *test_failed_)
{
	_cleanup_policy_free_ struct policy *p = NULL, *q = NULL;
	_cleanup_free_ char *s = NULL, *pretty = NULL, *s2 = NULL;
	struct policy_error e;

	ASSERT_OK(parse_str(json, &p, &e));
	ASSERT_OK(policy_to_json(p, false, &s));
	ASSERT_OK(policy_to_json(p, true, &pretty));
	ASSERT_TRUE(strchr(pretty, '\n') && !strchr(s, '\n'));
	ASSERT_OK(parse_str(pretty, &q, &e));
	ASSERT_STREQ(p->digest, q->digest);
	ASSERT_OK(policy_to_json(q, false, &s2));
	ASSERT_STREQ(s, s2);
}

TEST(to_json_roundtrip)
{
	roundtrip("{\"version\": 1}", test_failed_);
	roundtrip(full_policy, test_failed_);
	roundtrip("{\"version\": 1, \"filesystem\": {\"cgroup\": false}}", test_failed_);
	roundtrip("{\"version\": 1, \"limits\": {\"cpu\": 0.001}, \"network\": {}}", test_failed_);
	roundtrip("{\"version\": 1, \"limits\": {\"cpu\": 1023.999, \"wall_time\": \"1500ms\"}}",
		  test_failed_);
}

TEST(to_json_canonical)
{
	_cleanup_policy_free_ struct policy *p = NULL;
	_cleanup_free_ char *s = NULL;
	struct policy_error e;

	ASSERT_OK(policy_new_default(&p));
	ASSERT_OK(policy_to_json(p, false, &s));
	ASSERT_STREQ(
		s,
		"{\"environment\":{\"LANG\":\"C.UTF-8\",\"PATH\":\"/usr/local/bin:"
		"/usr/bin:/bin\"},\"filesystem\":{\"binds\":[],\"cgroup\":true,"
		"\"tmpfs\":[{\"size\":\"64M\",\"target\":\"/out\"},{\"size\":\"256M\","
		"\"target\":\"/tmp\"}],"
		"\"workspace\":{\"mode\":\"ro\"}},\"identity\":{\"gid\":1000,\"hostname\":"
		"\"airlock\",\"uid\":1000},\"limits\":{\"cpu\":2.0,\"memory\":\"2G\","
		"\"open_files\":1024,\"output\":"
		"\"16M\",\"pids\":1024,\"wall_time\":\"10m\"},\"logs\":{\"max_size\":\"16M\","
		"\"redact_patterns\":[],\"terminal\":\"neutral\"},\"name\":\"default\",\"seccomp\":"
		"{\"profile\":\"default\"},\"version\":1}");
	p = policy_free(p);
	free(s);
	s = NULL;

	ASSERT_OK(parse_str("{\"version\": 1, \"limits\": {\"cpu\": 1.25, \"memory\": "
			    "\"5632K\"}, \"network\": {\"egress\": [{\"cidr\": \"fd00::/8\", "
			    "\"ports\": [1]}]}}",
			    &p, &e));
	ASSERT_OK(policy_to_json(p, false, &s));
	ASSERT_CONTAINS(s, "\"cpu\":1.25,");
	ASSERT_CONTAINS(s, "\"memory\":\"5632K\"");
	ASSERT_CONTAINS(s, "\"network\":{\"dns\":{\"upstream\":[]},\"egress\":[{\"cidr\":"
			   "\"fd00::/8\",\"ports\":[1],\"protocol\":\"tcp\"}]}");
	p = policy_free(p);
	free(s);
	s = NULL;

	/* The canonical form sorts exec and etc (and drops duplicate exec entries). */
	ASSERT_OK(parse_str("{\"version\": 1, \"filesystem\": {\"exec\": [\"/usr\", \"/bin\", "
			    "\"/usr\"], \"etc\": [\"z\", \"a/b\"]}}",
			    &p, &e));
	ASSERT_OK(policy_to_json(p, false, &s));
	ASSERT_CONTAINS(s, "\"etc\":[\"a/b\",\"z\"],\"exec\":[\"/bin\",\"/usr\"]");
}

/* The example of docs/credentials.md, slots in a different order than their names. */
static const char credentials_policy[] =
	"{\"version\": 1, \"credentials\": ["
	"{\"name\": \"npmrc\", \"source\": \"caller\", \"deliver\": {\"file\": "
	"\"/home/airlock/.npmrc\", \"template\": "
	"\"//registry.example.com/:_authToken={{value}}\\n\"}},"
	"{\"name\": \"npm\", \"source\": \"caller\", \"deliver\": {\"file\": "
	"\"/run/secrets/npm\"}},"
	"{\"name\": \"gh\", \"source\": \"caller\", \"deliver\": {\"env\": \"GH_TOKEN\"}},"
	"{\"name\": \"pip\", \"source\": \"caller\", \"deliver\": {\"file\": "
	"\"/tmp/pip/pip.conf\"}}]}";

TEST(credentials)
{
	_cleanup_policy_free_ struct policy *p = NULL;
	const struct policy_credential *c;
	struct policy_error e;

	ASSERT_OK(parse_str(credentials_policy, &p, &e));
	ASSERT_EQ(p->n_credentials, 4);
	/* Sorted by name. */
	ASSERT_STREQ(p->credentials[0].name, "gh");
	ASSERT_STREQ(p->credentials[1].name, "npm");
	ASSERT_STREQ(p->credentials[2].name, "npmrc");
	ASSERT_STREQ(p->credentials[3].name, "pip");

	c = policy_credential_find(p, "gh");
	ASSERT_TRUE(c == &p->credentials[0]);
	ASSERT_EQ(c->source, POLICY_CREDENTIAL_SOURCE_CALLER);
	ASSERT_EQ(c->delivery, POLICY_CREDENTIAL_DELIVER_ENV);
	ASSERT_STREQ(c->target, "GH_TOKEN");
	ASSERT_TRUE(c->template == NULL);

	c = policy_credential_find(p, "npmrc");
	ASSERT_EQ(c->delivery, POLICY_CREDENTIAL_DELIVER_FILE);
	ASSERT_STREQ(c->target, "/home/airlock/.npmrc");
	ASSERT_STREQ(c->template, "//registry.example.com/:_authToken={{value}}\n");
	/* Below a tmpfs mount (the default /tmp) is a place for a file too. */
	ASSERT_STREQ(policy_credential_find(p, "pip")->target, "/tmp/pip/pip.conf");
	ASSERT_TRUE(policy_credential_find(p, "nope") == NULL);

	ASSERT_STREQ(policy_credential_source_to_string(POLICY_CREDENTIAL_SOURCE_CALLER), "caller");
	ASSERT_EQ(policy_credential_source_from_string("caller"), POLICY_CREDENTIAL_SOURCE_CALLER);
	ASSERT_EQ(policy_credential_source_from_string("issuer:x"),
		  _POLICY_CREDENTIAL_SOURCE_INVALID);
	ASSERT_FALSE(policy_has_grants(p));
	ASSERT_STREQ(policy_credential_delivery_to_string(POLICY_CREDENTIAL_DELIVER_ENV), "env");
	ASSERT_TRUE(policy_credential_delivery_to_string(_POLICY_CREDENTIAL_DELIVER_MAX) == NULL);
	p = policy_free(p);

	/* Four markers are allowed, and "}}" alone is text (JSON files have it). */
	ASSERT_OK(parse_str("{\"version\": 1, \"credentials\": [" CRED(
				    "a", "{\"file\": \"/run/a\", \"template\": "
					 "\"{\\\"t\\\": {\\\"k\\\": \\\"{{value}}{{value}}"
					 "{{value}}{{value}}\\\"}}\"}") "]}",
			    &p, &e));
	ASSERT_STREQ(p->credentials[0].template,
		     "{\"t\": {\"k\": \"{{value}}{{value}}{{value}}{{value}}\"}}");
}

TEST(grants)
{
	static const char grants[] =
		"{\"version\": 1, \"limits\": {\"wall_time\": \"10m\"}, \"credentials\": ["
		"{\"name\": \"gh\", \"source\": \"issuer:github\", \"ttl\": \"15m\", "
		"\"scope\": {\"repositories\": [\"org/app\"], \"permissions\": {\"contents\": "
		"\"read\"}}, \"deliver\": {\"file\": \"/run/secrets/gh\"}}, "
		"{\"name\": \"api\", \"source\": \"issuer:idp\", \"ttl\": \"90s\", "
		"\"on_expiry\": \"kill\", \"deliver\": {\"env\": \"API_TOKEN\"}}]}";
	_cleanup_policy_free_ struct policy *p = NULL;
	_cleanup_free_ char *s = NULL;
	const struct policy_credential *c;
	struct policy_error e;

	ASSERT_OK(parse_str(grants, &p, &e));
	ASSERT_TRUE(policy_has_grants(p));
	c = policy_credential_find(p, "gh");
	ASSERT_EQ(c->source, POLICY_CREDENTIAL_SOURCE_ISSUER);
	ASSERT_STREQ(c->issuer, "github");
	ASSERT_EQ(c->ttl_s, 900);
	ASSERT_STREQ(c->scope, "{\"permissions\":{\"contents\":\"read\"},"
			       "\"repositories\":[\"org/app\"]}");
	ASSERT_EQ(c->on_expiry, POLICY_CREDENTIAL_ON_EXPIRY_RECORD);
	c = policy_credential_find(p, "api");
	ASSERT_STREQ(c->issuer, "idp");
	ASSERT_EQ(c->ttl_s, 90);
	ASSERT_TRUE(c->scope == NULL);
	ASSERT_EQ(c->on_expiry, POLICY_CREDENTIAL_ON_EXPIRY_KILL);
	ASSERT_OK(policy_to_json(p, false, &s));
	ASSERT_CONTAINS(s, "\"name\":\"api\",\"on_expiry\":\"kill\",\"source\":\"issuer:idp\","
			   "\"ttl\":\"90s\"");
	roundtrip(grants, test_failed_);
}

TEST(credentials_canonical)
{
	_cleanup_policy_free_ struct policy *p = NULL;
	_cleanup_free_ char *s = NULL;
	struct policy_error e;
	char a[65], b[65], d[65];

	ASSERT_OK(parse_str(credentials_policy, &p, &e));
	ASSERT_OK(policy_to_json(p, false, &s));
	ASSERT_CONTAINS(s, "\"credentials\":[{\"deliver\":{\"env\":\"GH_TOKEN\"},\"name\":"
			   "\"gh\",\"source\":\"caller\"},{\"deliver\":{\"file\":"
			   "\"/run/secrets/npm\"},\"name\":\"npm\",\"source\":\"caller\"},"
			   "{\"deliver\":{\"file\":\"/home/airlock/.npmrc\",\"template\":"
			   "\"//registry.example.com/:_authToken={{value}}\\n\"},\"name\":"
			   "\"npmrc\",");
	roundtrip(credentials_policy, test_failed_);

	/* The order of the slots in the file does not matter; a template does. */
	ASSERT_OK(digest_of(
		"{\"version\": 1, \"credentials\": [" CRED("a", "{\"env\": \"A\"}") ", " CRED(
			"b", "{\"file\": \"/run/b\"}") "]}",
		a));
	ASSERT_OK(digest_of(
		"{\"version\": 1, \"credentials\": [" CRED("b", "{\"file\": \"/run/b\"}") ", " CRED(
			"a", "{\"env\": \"A\"}") "]}",
		b));
	ASSERT_STREQ(a, b);
	ASSERT_OK(digest_of(
		"{\"version\": 1, \"credentials\": [" CRED(
			"b",
			"{\"file\": \"/run/b\", "
			"\"template\": \"{{value}}\"}") ", " CRED("a", "{\"env\": \"A\"}") "]}",
		b));
	ASSERT_FALSE(streq(a, b));
	/* No slots is the policy without the section. */
	ASSERT_OK(digest_of("{\"version\": 1, \"credentials\": []}", a));
	ASSERT_OK(digest_of("{\"version\": 1}", d));
	ASSERT_STREQ(a, d);
}

TEST(logs)
{
	_cleanup_policy_free_ struct policy *p = NULL;
	_cleanup_free_ char *s = NULL, *json = NULL;
	char pattern[POLICY_MAX_REDACT_PATTERN + 2];
	struct policy_error e;
	char a[65], b[65], c[65];

	ASSERT_OK(parse_str("{\"version\": 1, \"logs\": {\"max_size\": \"1024K\", "
			    "\"terminal\": \"raw\", \"redact_patterns\": [\"tok_[a-z]{8}\", "
			    "\"(?i)secret=\\\\S+\", \"tok_[a-z]{8}\"]}}",
			    &p, &e));
	ASSERT_EQ(p->logs.max_size, 1 << 20);
	ASSERT_EQ(p->logs.terminal, POLICY_LOGS_TERMINAL_RAW);
	/* The file's order, duplicates and all: the redactor names them by position. */
	ASSERT_EQ(strv_length(p->logs.redact_patterns), 3);
	ASSERT_STREQ(p->logs.redact_patterns[0], "tok_[a-z]{8}");
	ASSERT_STREQ(p->logs.redact_patterns[1], "(?i)secret=\\S+");
	ASSERT_OK(policy_to_json(p, false, &s));
	ASSERT_CONTAINS(s, "\"logs\":{\"max_size\":\"1M\",\"redact_patterns\":[\"tok_[a-z]{8}\","
			   "\"(?i)secret=\\\\S+\",\"tok_[a-z]{8}\"],\"terminal\":\"raw\"}");
	p = policy_free(p);
	roundtrip("{\"version\": 1, \"logs\": {\"max_size\": \"0\", \"redact_patterns\": "
		  "[\"b\", \"a\"]}}",
		  test_failed_);

	/* "0" (no captured logs) and the bound are accepted. */
	ASSERT_OK(parse_str("{\"version\": 1, \"logs\": {\"max_size\": \"0\"}}", &p, &e));
	ASSERT_EQ(p->logs.max_size, 0);
	p = policy_free(p);
	ASSERT_OK(parse_str("{\"version\": 1, \"logs\": {\"max_size\": \"1G\"}}", &p, &e));
	ASSERT_EQ(p->logs.max_size, POLICY_MAX_LOG_SIZE);
	p = policy_free(p);

	/* A pattern of 1024 bytes is fine, one more is not. */
	memset(pattern, 'x', sizeof(pattern) - 1);
	pattern[POLICY_MAX_REDACT_PATTERN + 1] = '\0';
	ASSERT_TRUE(asprintf(&json, "{\"version\": 1, \"logs\": {\"redact_patterns\": [\"%s\"]}}",
			     pattern) > 0);
	ASSERT_ERROR(parse_str(json, &p, &e), EINVAL);
	ASSERT_STREQ(e.path, "/logs/redact_patterns/0");
	free(json);
	json = NULL;
	pattern[POLICY_MAX_REDACT_PATTERN] = '\0';
	ASSERT_TRUE(asprintf(&json, "{\"version\": 1, \"logs\": {\"redact_patterns\": [\"%s\"]}}",
			     pattern) > 0);
	ASSERT_OK(parse_str(json, &p, &e));
	ASSERT_EQ(strlen(p->logs.redact_patterns[0]), POLICY_MAX_REDACT_PATTERN);

	/* The defaults written out are the default; every key and the patterns' order count. */
	ASSERT_OK(digest_of("{\"version\": 1}", a));
	ASSERT_OK(digest_of("{\"version\": 1, \"logs\": {\"max_size\": \"16384K\", "
			    "\"terminal\": \"neutral\", \"redact_patterns\": []}}",
			    b));
	ASSERT_STREQ(a, b);
	ASSERT_OK(digest_of("{\"version\": 1, \"logs\": {\"terminal\": \"raw\"}}", b));
	ASSERT_FALSE(streq(a, b));
	ASSERT_OK(digest_of("{\"version\": 1, \"logs\": {\"max_size\": \"0\"}}", b));
	ASSERT_FALSE(streq(a, b));
	ASSERT_OK(
		digest_of("{\"version\": 1, \"logs\": {\"redact_patterns\": [\"a\", \"b\"]}}", b));
	ASSERT_OK(
		digest_of("{\"version\": 1, \"logs\": {\"redact_patterns\": [\"b\", \"a\"]}}", c));
	ASSERT_FALSE(streq(b, c));

	ASSERT_STREQ(policy_logs_terminal_to_string(POLICY_LOGS_TERMINAL_RAW), "raw");
	ASSERT_TRUE(policy_logs_terminal_to_string(_POLICY_LOGS_TERMINAL_MAX) == NULL);
	ASSERT_EQ(policy_logs_terminal_from_string("neutral"), POLICY_LOGS_TERMINAL_NEUTRAL);
	ASSERT_EQ(policy_logs_terminal_from_string("RAW"), _POLICY_LOGS_TERMINAL_INVALID);
	ASSERT_EQ(policy_logs_terminal_from_string(NULL), _POLICY_LOGS_TERMINAL_INVALID);
}

TEST(command_allowed)
{
	_cleanup_policy_free_ struct policy *p = NULL, *d = NULL;
	struct policy_error e;

	ASSERT_OK(policy_new_default(&d));
	ASSERT_TRUE(policy_command_allowed(d, "/anything/at/all"));

	ASSERT_OK(parse_str("{\"version\": 1, \"command\": {\"allow\": [\"/usr/bin/make\", "
			    "\"sh\"]}}",
			    &p, &e));
	ASSERT_TRUE(policy_command_allowed(p, "/usr/bin/make"));
	ASSERT_FALSE(policy_command_allowed(p, "make"));
	ASSERT_FALSE(policy_command_allowed(p, "/tmp/usr/bin/make"));
	ASSERT_FALSE(policy_command_allowed(p, "/usr/bin/make2"));
	ASSERT_TRUE(policy_command_allowed(p, "sh"));
	ASSERT_TRUE(policy_command_allowed(p, "/bin/sh"));
	ASSERT_TRUE(policy_command_allowed(p, "./sh"));
	ASSERT_FALSE(policy_command_allowed(p, "bash"));
	ASSERT_FALSE(policy_command_allowed(p, "/bin/sh/"));
	ASSERT_FALSE(policy_command_allowed(p, ""));
	ASSERT_FALSE(policy_command_allowed(p, NULL));
}

TEST(workspace_overlay)
{
	_cleanup_policy_free_ struct policy *p = NULL, *q = NULL;
	_cleanup_free_ char *json = NULL;
	struct policy_error e;

	ASSERT_OK(parse_str("{\"version\": 1, \"filesystem\": {\"workspace\": {\"mode\": "
			    "\"overlay\"}}, \"artifacts\": {}}",
			    &p, &e));
	ASSERT_EQ(p->filesystem.workspace_mode, POLICY_MODE_OVERLAY);
	ASSERT_EQ(p->filesystem.workspace_size, POLICY_DEFAULT_WORKSPACE_SIZE);
	ASSERT_OK(policy_to_json(p, false, &json));
	ASSERT_TRUE(strstr(json, "\"workspace\":{\"mode\":\"overlay\",\"size\":\"512M\"}") != NULL);

	ASSERT_OK(parse_str("{\"version\": 1, \"filesystem\": {\"workspace\": {\"mode\": "
			    "\"overlay\", \"size\": \"64K\"}}, \"artifacts\": {}}",
			    &q, &e));
	ASSERT_EQ(q->filesystem.workspace_size, 64ULL << 10);
	ASSERT_FALSE(streq(p->digest, q->digest));
	q = policy_free(q);

	/* ro and rw carry no size, in the struct or the canonical form (digests unchanged) */
	ASSERT_OK(parse_str("{\"version\": 1, \"filesystem\": {\"workspace\": {\"mode\": "
			    "\"rw\"}}}",
			    &q, &e));
	ASSERT_EQ(q->filesystem.workspace_size, 0);
	free(json);
	json = NULL;
	ASSERT_OK(policy_to_json(q, false, &json));
	ASSERT_TRUE(strstr(json, "\"workspace\":{\"mode\":\"rw\"}") != NULL);
}

TEST(enum_strings)
{
	ASSERT_STREQ(policy_mode_to_string(POLICY_MODE_RO), "ro");
	ASSERT_STREQ(policy_mode_to_string(POLICY_MODE_RW), "rw");
	ASSERT_STREQ(policy_mode_to_string(POLICY_MODE_OVERLAY), "overlay");
	ASSERT_EQ(policy_mode_from_string("overlay"), POLICY_MODE_OVERLAY);
	ASSERT_TRUE(policy_mode_to_string(_POLICY_MODE_MAX) == NULL);
	ASSERT_TRUE(policy_mode_to_string(_POLICY_MODE_INVALID) == NULL);
	ASSERT_EQ(policy_mode_from_string("rw"), POLICY_MODE_RW);
	ASSERT_EQ(policy_mode_from_string("RW"), -EINVAL);
	ASSERT_EQ(policy_mode_from_string(NULL), -EINVAL);
	ASSERT_STREQ(policy_seccomp_profile_to_string(POLICY_SECCOMP_DEFAULT), "default");
	ASSERT_EQ(policy_seccomp_profile_from_string("default"), POLICY_SECCOMP_DEFAULT);
	ASSERT_EQ(policy_seccomp_profile_from_string("strict"), -EINVAL);
	ASSERT_STREQ(policy_protocols_to_string(POLICY_PROTOCOL_UDP), "udp");
	ASSERT_STREQ(policy_protocols_to_string(POLICY_PROTOCOL_TCP | POLICY_PROTOCOL_UDP), "any");
	ASSERT_TRUE(policy_protocols_to_string(0) == NULL);
	ASSERT_EQ(policy_protocols_from_string("tcp"), POLICY_PROTOCOL_TCP);
	ASSERT_EQ(policy_protocols_from_string("TCP"), -EINVAL);
}

TEST(error_format)
{
	struct policy_error e = { .path = "/a/b", .message = "bad" };
	char buf[64];

	policy_error_format(&e, buf, sizeof(buf));
	ASSERT_STREQ(buf, "policy: /a/b: bad");
	e.line = 2;
	e.column = 7;
	policy_error_format(&e, buf, sizeof(buf));
	ASSERT_STREQ(buf, "policy: /a/b (line 2, column 7): bad");
	e.path[0] = '\0';
	e.line = 0;
	policy_error_format(&e, buf, sizeof(buf));
	ASSERT_STREQ(buf, "policy: /: bad");
	policy_error_format(&e, buf, 8);
	ASSERT_STREQ(buf, "policy:");
}

static int parse_example(const char *path, struct policy **ret, struct policy_error *e)
{
	_cleanup_free_ char *buf = NULL;
	size_t len = 0;
	int r;

	r = read_file_at(AT_FDCWD, path, POLICY_MAX_BYTES, &buf, &len);
	if (r < 0)
		return r;
	return policy_parse(buf, len, ret, e);
}

TEST(docs_examples_parse)
{
	static const char dir[] = "docs/examples";
	_cleanup_(closedirp) DIR *d = opendir(dir);
	size_t n = 0;
	struct dirent *de;

	ASSERT_TRUE(d);
	while ((de = readdir(d))) {
		_cleanup_policy_free_ struct policy *p = NULL;
		struct policy_error e = {};
		char path[512];
		size_t l = strlen(de->d_name);
		int r;

		if (l < 6 || !streq(de->d_name + l - 5, ".json"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		r = parse_example(path, &p, &e);
		if (r < 0)
			TEST_FAIL_("%s: %s: %s", path, e.path,
				   r == -EINVAL ? e.message : strerror(-r));
		n++;
	}
	ASSERT_TRUE(n >= 3);
}

TEST(docs_default_example_is_default)
{
	_cleanup_policy_free_ struct policy *p = NULL, *d = NULL;
	struct policy_error e;

	ASSERT_OK(parse_example("docs/examples/default.json", &p, &e));
	ASSERT_OK(policy_new_default(&d));
	ASSERT_STREQ(p->digest, d->digest);
}

TEST_MAIN()
