/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * The policy model. policy_parse() turns untrusted JSON bytes into an immutable struct
 * policy; other modules only ever see `const struct policy *`. This module does no I/O
 * and never logs above debug.
 */

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define POLICY_VERSION 1
#define POLICY_MAX_BYTES (1024 * 1024)
#define POLICY_MAX_NAME 64
#define POLICY_MAX_PATH 1024
#define POLICY_MAX_COMMANDS 256
#define POLICY_MAX_ENV 256
#define POLICY_MAX_ENV_VALUE 4096
#define POLICY_MAX_BINDS 64
#define POLICY_MAX_TMPFS 16
#define POLICY_MAX_EXEC 64
#define POLICY_MAX_ETC 32
#define POLICY_MAX_ETC_NAME 255
#define POLICY_MAX_EGRESS_RULES 256
#define POLICY_MAX_PORTS 64
#define POLICY_MAX_DNS_UPSTREAMS 4
#define POLICY_MAX_HOSTNAME 253
/* A "*.suffix" rule: distinct names per run, and bytes the "*" may stand for. */
#define POLICY_WILDCARD_NAMES_DEFAULT 128
#define POLICY_MAX_WILDCARD_NAMES 4096
#define POLICY_WILDCARD_MATCH_DEFAULT 63
#define POLICY_MAX_WILDCARD_MATCH 200
#define POLICY_MAX_ERROR 256
#define POLICY_MAX_CREDENTIALS 32
#define POLICY_MAX_CREDENTIAL_NAME 64
#define POLICY_MAX_CREDENTIAL_TTL_S 86400
#define POLICY_MAX_CREDENTIAL_SCOPE 4096 /* bytes of a grant's scope as compact JSON */
#define POLICY_MAX_TEMPLATE 4096
#define POLICY_MAX_TEMPLATE_VALUES 4 /* "{{value}}" markers in one template */
#define POLICY_TEMPLATE_MARKER "{{value}}"
#define POLICY_MAX_REDACT_PATTERNS 64
#define POLICY_MAX_REDACT_PATTERN 1024 /* bytes of one logs.redact_patterns entry */

/* Upper bounds of sizable values (documented in docs/policy.md). */
#define POLICY_MAX_WALL_TIME_MS (7ULL * 24 * 3600 * 1000)
#define POLICY_MAX_UID 65535 /* ids must fit the 65536-id range mapped per run */
/* pids counts the sandbox's init as well as the task: below 2 nothing could run. */
#define POLICY_MIN_PIDS 2
#define POLICY_MAX_PIDS 1048576
#define POLICY_MAX_CPU_MILLI (1024 * 1000)
#define POLICY_MAX_OPEN_FILES 1048576
#define POLICY_MIN_MEMORY (4ULL << 20)
#define POLICY_MIN_TMPFS_SIZE (4ULL << 10)
#define POLICY_DEFAULT_WORKSPACE_SIZE (512ULL << 20) /* an overlay workspace's upper layer */
#define POLICY_MAX_SIZE (1ULL << 50) /* any size value: 1024T */
#define POLICY_MAX_IO_WEIGHT 10000
#define POLICY_MIN_OPEN_FILES 3
#define POLICY_MAX_LOG_SIZE (1ULL << 30) /* logs.max_size: 1G of each stream */
#define POLICY_MAX_ARTIFACT_FILES 1000000 /* artifacts.max_files */
#define POLICY_MAX_ARTIFACT_GLOBS 64 /* artifacts.include entries */
#define POLICY_MAX_ARTIFACT_GLOB 1024 /* bytes of one artifacts.include glob */

/* Defaults of the built-in policy (docs/policy.md, docs/examples/default.json). */
#define POLICY_DEFAULT_NAME "default"
#define POLICY_DEFAULT_UID 1000
#define POLICY_DEFAULT_GID 1000
#define POLICY_DEFAULT_HOSTNAME "airlock"
#define POLICY_DEFAULT_WALL_TIME_MS (10ULL * 60 * 1000)
#define POLICY_DEFAULT_OPEN_FILES 1024
#define POLICY_DEFAULT_OUTPUT (16ULL << 20)
#define POLICY_DEFAULT_LOG_SIZE (16ULL << 20)
#define POLICY_DEFAULT_MEMORY (2ULL << 30)
#define POLICY_DEFAULT_PIDS 1024
#define POLICY_DEFAULT_CPU_MILLI 2000
#define POLICY_DEFAULT_PATH "/usr/local/bin:/usr/bin:/bin"
#define POLICY_DEFAULT_LANG "C.UTF-8"
#define POLICY_DEFAULT_ARTIFACT_FILES 10000
#define POLICY_DEFAULT_ARTIFACT_SIZE (1ULL << 30)
#define POLICY_DEFAULT_ARTIFACT_FILE_SIZE (256ULL << 20)

enum policy_mode {
	POLICY_MODE_RO,
	POLICY_MODE_RW,
	POLICY_MODE_OVERLAY, /* the workspace only: writes go to a private upper layer */
	_POLICY_MODE_MAX,
	_POLICY_MODE_INVALID = -EINVAL,
};

enum policy_seccomp_profile {
	POLICY_SECCOMP_DEFAULT,
	_POLICY_SECCOMP_MAX,
	_POLICY_SECCOMP_INVALID = -EINVAL,
};

enum policy_protocol {
	POLICY_PROTOCOL_TCP = 1 << 0,
	POLICY_PROTOCOL_UDP = 1 << 1,
};

/* Where a credential slot's value comes from. */
enum policy_credential_source {
	POLICY_CREDENTIAL_SOURCE_CALLER, /* the caller of the run, by file or fd */
	POLICY_CREDENTIAL_SOURCE_ISSUER, /* minted per run by an issuer of the node config */
	_POLICY_CREDENTIAL_SOURCE_MAX,
	_POLICY_CREDENTIAL_SOURCE_INVALID = -EINVAL,
};

/* What happens when a minted credential expires while the task runs. */
enum policy_credential_on_expiry {
	POLICY_CREDENTIAL_ON_EXPIRY_RECORD, /* the record says so; the task goes on */
	POLICY_CREDENTIAL_ON_EXPIRY_KILL, /* the task is ended */
	_POLICY_CREDENTIAL_ON_EXPIRY_MAX,
	_POLICY_CREDENTIAL_ON_EXPIRY_INVALID = -EINVAL,
};

/* How the task receives a credential. */
enum policy_credential_delivery {
	POLICY_CREDENTIAL_DELIVER_FILE,
	POLICY_CREDENTIAL_DELIVER_ENV,
	_POLICY_CREDENTIAL_DELIVER_MAX,
	_POLICY_CREDENTIAL_DELIVER_INVALID = -EINVAL,
};

/* What the caller's terminal gets of the task's output (the captured logs: always neutral). */
enum policy_logs_terminal {
	POLICY_LOGS_TERMINAL_NEUTRAL, /* control characters rendered as visible escapes */
	POLICY_LOGS_TERMINAL_RAW, /* the bytes as the task wrote them (after redaction) */
	_POLICY_LOGS_TERMINAL_MAX,
	_POLICY_LOGS_TERMINAL_INVALID = -EINVAL,
};

/* What an export does with a file the redactor matches in (docs/artifacts.md). */
enum policy_artifacts_scan {
	POLICY_ARTIFACTS_SCAN_REDACT, /* matches rewritten in the exported copy */
	POLICY_ARTIFACTS_SCAN_REJECT, /* the file left out */
	POLICY_ARTIFACTS_SCAN_OFF, /* copied as is, matches counted */
	_POLICY_ARTIFACTS_SCAN_MAX,
	_POLICY_ARTIFACTS_SCAN_INVALID = -EINVAL,
};

/* Which optional limits a policy sets (the rest are unset = not enforced). */
enum policy_limit_flags {
	POLICY_LIMIT_WALL_TIME = 1 << 0,
	POLICY_LIMIT_MEMORY = 1 << 1,
	POLICY_LIMIT_PIDS = 1 << 2,
	POLICY_LIMIT_CPU = 1 << 3,
	POLICY_LIMIT_OPEN_FILES = 1 << 4,
	POLICY_LIMIT_OUTPUT = 1 << 5,
	POLICY_LIMIT_SWAP = 1 << 6,
	POLICY_LIMIT_IO_WEIGHT = 1 << 7,
};

struct policy_limits {
	unsigned set; /* enum policy_limit_flags */
	uint64_t wall_time_ms;
	uint64_t memory; /* bytes */
	uint64_t swap; /* bytes; unset means 0 (no swap) */
	uint32_t pids;
	uint32_t cpu_milli; /* 1000 = one core; "cpu": 1.5 -> 1500 */
	uint32_t io_weight; /* 1..10000 */
	uint32_t open_files; /* RLIMIT_NOFILE */
	uint64_t output; /* bytes of stdout+stderr forwarded before truncation */
};

struct policy_identity {
	uint32_t uid;
	uint32_t gid;
	char *hostname;
};

struct policy_bind {
	char *source; /* absolute host path */
	char *target; /* absolute path inside the sandbox */
	enum policy_mode mode;
};

struct policy_tmpfs {
	char *target;
	uint64_t size;
};

struct policy_filesystem {
	enum policy_mode workspace_mode;
	uint64_t workspace_size; /* overlay only: bytes of the upper layer's tmpfs; 0 otherwise */
	struct policy_bind *binds;
	size_t n_binds;
	struct policy_tmpfs *tmpfs; /* default: /tmp 256M, /out 64M */
	size_t n_tmpfs;
	/*
	 * Landlock execute allowlist; NULL = not requested. In the file's order (index i is
	 * /filesystem/exec/i); the canonical form sorts and de-duplicates it.
	 */
	char **exec;
	/*
	 * Names relative to /etc ("java-17-openjdk", "ssl/certs") bound read-only from the
	 * host (or rootfs) /etc; NULL = none. File order like exec.
	 */
	char **etc;
	char *rootfs; /* NULL = host system directories */
	bool cgroup; /* the run's own cgroup read-only at /sys/fs/cgroup (default true) */
};

struct policy_addr {
	int family; /* AF_INET or AF_INET6 */
	uint8_t addr[16]; /* network byte order; v4 uses the first 4 bytes */
};

struct policy_egress_rule {
	/* Exactly one of host and cidr is set. */
	char *host; /* lower-case, no trailing dot; "*.example.com" for a suffix */
	bool wildcard; /* host starts with "*." */
	bool is_cidr;
	struct policy_addr cidr;
	uint8_t prefixlen;
	uint16_t *ports; /* sorted, unique, 1..65535 */
	size_t n_ports;
	unsigned protocols; /* enum policy_protocol; default TCP */
	/* Wildcard rules only (0 otherwise): */
	uint32_t names; /* distinct names per run that go upstream */
	uint32_t match_length; /* most bytes the "*" may stand for */
	/* The policy set neither: the built-in defaults, which the node configuration's
	 * network.dns.wildcard_names and wildcard_match_length replace for a run. */
	bool names_default, match_length_default;
};

struct policy_network {
	bool enabled; /* false: loopback only (no "network" section) */
	struct policy_egress_rule *egress;
	size_t n_egress;
	struct policy_addr *dns_upstream; /* empty: the host's resolvers */
	size_t n_dns_upstream;
};

/* A credential slot: a name the caller fills per run, and where the task finds the value. */
struct policy_credential {
	char *name; /* [A-Za-z0-9_-], 1..64, starting with a letter or digit; unique */
	enum policy_credential_source source;
	enum policy_credential_delivery delivery;
	char *target; /* FILE: absolute path in the sandbox; ENV: the variable's name */
	/*
	 * FILE only: the file's text with each "{{value}}" replaced by the value (at most
	 * POLICY_MAX_TEMPLATE_VALUES of them), or NULL: the file holds the value alone.
	 */
	char *template;
	/* ISSUER only: */
	char *issuer; /* the issuer's name in the node config ("issuer:<name>") */
	uint64_t ttl_s; /* the longest lifetime asked for ("ttl"), 1s..24h */
	char *scope; /* "scope" as compact JSON text, or NULL */
	enum policy_credential_on_expiry on_expiry;
};

/* The "logs" section: the captured logs of a run, and what its output goes through. */
struct policy_logs {
	uint64_t max_size; /* bytes of each stream (stdout, stderr) kept; 0: nothing captured */
	enum policy_logs_terminal terminal;
	/* PCRE2 patterns whose matches are redacted, in the file's order; NULL: none. */
	char **redact_patterns;
};

/* The "artifacts" section: the checked export of the task's /out after the run. */
struct policy_artifacts {
	bool enabled; /* false: no "artifacts" section, nothing exported */
	uint64_t max_files; /* files and directories exported */
	uint64_t max_size; /* bytes exported in all */
	uint64_t max_file_size; /* apparent and allocated bytes of one file */
	char **include; /* globs over paths relative to /out, file order; NULL: "**" */
	enum policy_artifacts_scan scan;
};

struct policy {
	int version;
	char *name;
	char **command_allow; /* NULL: any command */
	struct policy_identity identity;
	struct policy_limits limits;
	char **environment; /* sorted "KEY=VALUE" */
	struct policy_filesystem filesystem;
	enum policy_seccomp_profile seccomp;
	struct policy_network network;
	struct policy_credential *credentials; /* sorted by name */
	size_t n_credentials;
	struct policy_logs logs;
	struct policy_artifacts artifacts;
	char digest[65]; /* hex SHA-256 of the canonical serialisation */
};

struct policy_error {
	char path[POLICY_MAX_PATH]; /* JSON pointer, e.g. "/limits/memory"; "" for the root */
	int line; /* 0 when unknown */
	int column;
	char message[POLICY_MAX_ERROR];
};

/*
 * Parses and validates a policy from len bytes of JSON (not NUL-terminated necessarily).
 * Fills every default. On success *ret owns a new immutable policy and 0 is returned.
 * On failure returns -EINVAL (bad input; *reterr says where and why, formatted as
 * "policy: <path>: <message>" by policy_error_format()) or -ENOMEM. Does not log.
 */
int policy_parse(const char *buf, size_t len, struct policy **ret, struct policy_error *reterr);

/* The built-in default policy (compiled in). Returns 0 or -ENOMEM. */
int policy_new_default(struct policy **ret);

/* Frees a policy; accepts and returns NULL. */
struct policy *policy_free(struct policy *p);

/*
 * The effective policy as canonical JSON text (sorted keys, every default filled,
 * indented when pretty). The digest is SHA-256 over the compact form. *ret is owned by
 * the caller. Returns 0 or -ENOMEM.
 */
int policy_to_json(const struct policy *p, bool pretty, char **ret);

/* Formats an error as "policy: /path: message" (or with line:column when known). */
void policy_error_format(const struct policy_error *e, char *buf, size_t len);

/* Whether argv0 is allowed by command.allow (path match or basename match). */
bool policy_command_allowed(const struct policy *p, const char *argv0);

/*
 * For a bare argv0 the allow list refuses: the allowed path with that basename, which the
 * command must be invoked by (for a clearer refusal), or NULL.
 */
const char *policy_command_allowed_path(const struct policy *p, const char *argv0);

/* "ro"/"rw"/"overlay"; NULL (to_string) or -EINVAL (from_string) for anything else. */
const char *policy_mode_to_string(enum policy_mode m);
enum policy_mode policy_mode_from_string(const char *s);
/* "default"; NULL (to_string) or -EINVAL (from_string) for anything else. */
const char *policy_seccomp_profile_to_string(enum policy_seccomp_profile s);
enum policy_seccomp_profile policy_seccomp_profile_from_string(const char *s);
/* "caller"; NULL (to_string) or -EINVAL (from_string) for anything else. */
const char *policy_credential_source_to_string(enum policy_credential_source s);
enum policy_credential_source policy_credential_source_from_string(const char *s);
/* "file" or "env"; NULL for anything else. */
const char *policy_credential_delivery_to_string(enum policy_credential_delivery d);
/* "record"/"kill"; NULL for anything else. */
const char *policy_credential_on_expiry_to_string(enum policy_credential_on_expiry e);
/* The slot named name, or NULL. */
const struct policy_credential *policy_credential_find(const struct policy *p, const char *name);
/* A credential or issuer name: 1..POLICY_MAX_CREDENTIAL_NAME of [A-Za-z0-9_-], not '-' or '_' first. */
bool policy_credential_name_is_valid(const char *s);
/* Whether p has a grant ("source": "issuer:<name>"). */
bool policy_has_grants(const struct policy *p);
/* "neutral" or "raw"; NULL (to_string) or -EINVAL (from_string) for anything else. */
const char *policy_logs_terminal_to_string(enum policy_logs_terminal t);
enum policy_logs_terminal policy_logs_terminal_from_string(const char *s);
/* "redact", "reject" or "off"; NULL (to_string) or -EINVAL (from_string) for anything else. */
const char *policy_artifacts_scan_to_string(enum policy_artifacts_scan s);
enum policy_artifacts_scan policy_artifacts_scan_from_string(const char *s);
/* "tcp", "udp" or "any" for a protocol mask; NULL for 0 or unknown bits. */
const char *policy_protocols_to_string(unsigned protocols);
/* Inverse of policy_protocols_to_string(): a mask, or -EINVAL. */
int policy_protocols_from_string(const char *s);

static inline void policy_freep(struct policy **p)
{
	policy_free(*p);
}
#define _cleanup_policy_free_ __attribute__((cleanup(policy_freep)))
