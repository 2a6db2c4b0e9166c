/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The network of one run: drives netfilter/ in order (checks, namespace and veth, host NAT,
 * the task ruleset, nflog, the DNS proxy and its guard) and undoes it in reverse. Every
 * DNS decision and every denied connection attempt goes into the run record; the first
 * denial of each destination is printed on stderr.
 *
 * This file is the network module, airlock-net.so (run-net-module.h): its functions are
 * static and reached only through run_net_module, so none of them shares a name with the
 * loader's run_net_*() in the executable.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "config.h"
#include "dns-proxy.h"
#include "egress-apply.h"
#include "fd-util.h"
#include "helper-file.h"
#include "host-nat.h"
#include "link.h"
#include "log.h"
#include "loop.h"
#include "macro.h"
#include "netns-util.h"
#include "ns-util.h"
#include "nflog.h"
#include "net-pool.h"
#include "net-sysctl.h"
#include "node-config.h"
#include "policy.h"
#include "run-net-dns.h"
#include "run-net-internal.h"
#include "run-net-module.h"
#include "time-util.h"

static int net_resolv_conf(const struct run_net *n, char *buf, size_t size)
{
	char host[INET_ADDRSTRLEN];

	if (!n || !n->link)
		return -EINVAL;
	run_net_addr_string(AF_INET, n->link->host_addr.addr, host, sizeof(host));
	return snprintf(buf, size,
			"# airlock: the run's DNS proxy, which answers only the names the "
			"policy allows\nnameserver %s\noptions timeout:2 attempts:2\n",
			host);
}

static struct run_net *net_free(struct run_net *n);

static void net_freep(struct run_net **n)
{
	net_free(*n);
}

/* The host's first IPv4 nameserver from /etc/resolv.conf (net-sysctl.h). */
static int host_resolver(struct policy_addr *ret)
{
	if (net_host_resolver4(ret->addr) <= 0)
		return -ENOENT;
	ret->family = AF_INET;
	return 0;
}

/*
 * Runs in different host namespaces must not share slots or the NAT refcount. The
 * directory is keyed by the namespace's cookie, never reused, so a dead namespace's
 * directory is never taken for that of a live one that got its inode number.
 */
static int own_net_dir(char *buf, size_t len)
{
	char key[64];
	int r;

	r = netns_key_self(key, sizeof(key));
	if (r < 0)
		return r;
	snprintf(buf, len, "%s/net/%s", AIRLOCK_RUNTIME_DIR, key);
	return 0;
}

/*
 * IPv6 egress needs an IPv6 default route on the host, and then forwarding like IPv4.
 * Without the route the run has no IPv6: a policy that names IPv6 destinations is refused.
 */
static int net_configure_v6(struct run_net *n, const struct policy *p,
			    const struct node_network *cfg)
{
	char a[INET6_ADDRSTRLEN], why[1024];
	int collision;

	/*
	 * Without a route, with IPv6 forwarding off, or with the host's IPv6 tables unreadable,
	 * the task gets no IPv6: AAAA answers come back empty (clients use IPv4 at once), and
	 * only a policy that names IPv6 destinations is refused, naming why.
	 */
	n->v6_off = node_network_v6_off(cfg, NULL, &collision, why, sizeof(why));
	if (collision < 0)
		log_warning_errno(collision, "No IPv6 for this run: cannot read this host's IPv6 "
					     "addresses and routes: %m");
	n->v6 = !n->v6_off;
	if (n->v6 && collision > 0) /* the pool matters to a run with IPv6 only */
		return log_error_errno(-EADDRINUSE, "refusing run: %s", why);
	for (size_t i = 0; !n->v6 && i < p->network.n_egress; i++) {
		const struct policy_egress_rule *rule = &p->network.egress[i];

		if (!rule->is_cidr || rule->cidr.family != AF_INET6)
			continue;
		run_net_addr_string(AF_INET6, rule->cidr.addr, a, sizeof(a));
		return log_error_errno(-ENETUNREACH,
				       "refusing run: /network/egress/%zu: cidr %s/%u is IPv6, but "
				       "%s",
				       i, a, rule->prefixlen, n->v6_off);
	}
	n->pool6 = cfg->pool6.addr;
	n->pool6_prefixlen = cfg->pool6.prefixlen;
	return 0;
}

static bool first_upstream(const struct policy_addr *a, size_t n, int family,
			   struct policy_addr *ret)
{
	for (size_t i = 0; i < n; i++)
		if (a[i].family == family) {
			*ret = a[i];
			return true;
		}
	return false;
}

/* The list's first IPv4 address, else its first IPv6 one. */
static bool pick_upstream(const struct policy_addr *a, size_t n, struct policy_addr *ret)
{
	return first_upstream(a, n, AF_INET, ret) || first_upstream(a, n, AF_INET6, ret);
}

/* The policy's upstream, else the node configuration's, else the host's own resolver. */
static int net_configure_upstream(struct run_net *n, const struct policy *p,
				  const struct node_network *cfg)
{
	const char *from = "the policy (/network/dns/upstream)";
	char why[NODE_POOL_LINE_MAX];

	n->upstream = (struct policy_addr){};
	if (!pick_upstream(p->network.dns_upstream, p->network.n_dns_upstream, &n->upstream) &&
	    pick_upstream(cfg->dns_upstream, cfg->n_dns_upstream, &n->upstream))
		from = "the configuration (/network/dns/upstream)";
	if (n->upstream.family == AF_INET6 && !n->v6)
		return log_error_errno(
			-ENETUNREACH, "refusing run: the DNS upstreams of %s are IPv6 only, but %s",
			from, n->v6_off);
	if (n->upstream.family != AF_UNSPEC)
		return 0; /* the policy's and the configuration's: run.c checked them */
	if (host_resolver(&n->upstream) < 0)
		return log_error_errno(-EOPNOTSUPP,
				       "refusing run: no DNS upstream in the policy or the "
				       "configuration (/network/dns/upstream) and no IPv4 one in "
				       "/etc/resolv.conf");
	if (node_network_resolver_refusal(cfg, n->upstream.addr, why, sizeof(why)) > 0)
		return log_error_errno(-ENETUNREACH, "refusing run: %s", why);
	return 0;
}

static int net_configure(struct run_net *n, const struct policy *p, const struct node_network *cfg)
{
	char why[1024];
	int r;

	n->manage_forwarding = cfg->forwarding == NODE_FORWARDING_MANAGE;
	r = net_ip_forward_enabled();
	if (r <= 0 && !n->manage_forwarding)
		return log_error_errno(-EOPNOTSUPP,
				       "refusing run: policy asks for network egress (/network) "
				       "but net.ipv4.ip_forward is off on this host; enable it "
				       "(sysctl net.ipv4.ip_forward=1) or let airlock manage it "
				       "(\"network\": { \"forwarding\": \"manage\" } in %s)",
				       cfg->config_path ? cfg->config_path : NODE_CONFIG_PATH);
	n->pool = cfg->pool4.addr;
	n->pool_prefixlen = cfg->pool4.prefixlen;
	n->ttl_min = cfg->dns_ttl_min_s;
	n->ttl_max = cfg->dns_ttl_max_s;
	n->flows = (struct egress_flow_limit){ .max = cfg->flows_max, .rate = cfg->flows_rate };
	r = node_network_pool_refusal(cfg, AF_INET, NULL, NULL, why, sizeof(why));
	if (r < 0)
		return log_error_errno(r, "Failed to read this host's addresses and routes: %m");
	if (r > 0)
		return log_error_errno(-EADDRINUSE, "refusing run: %s", why);
	r = net_configure_v6(n, p, cfg);
	if (r < 0)
		return r;
	r = net_configure_upstream(n, p, cfg);
	if (r < 0)
		return r;

	r = own_net_dir(n->dir, sizeof(n->dir));
	if (r < 0)
		return log_error_errno(r, "Failed to open own network namespace: %m");
	return 0;
}

static const char *pool_string(const struct run_net *n)
{
	static char buf[INET_ADDRSTRLEN];

	run_net_addr_string(AF_INET, n->pool.addr, buf, sizeof(buf));
	return buf;
}

/*
 * The slot and the host table, in one hold of the directory lock: no other run may see
 * the slot taken before the table (and the pool file) hold it (host-nat.h, "Ownership").
 */
static int net_take_slot(struct run_net *n)
{
	_cleanup_close_ int lock = -EBADF;
	bool existed = access(n->dir, F_OK) == 0;
	int r;

	lock = egress_dir_lock(n->dir);
	if (lock < 0)
		return log_error_errno(lock, "Failed to lock '%s': %m", n->dir);
	/* An older airlock's runs share the host table and link names, but not our slots. */
	r = egress_nat_reap_legacy(n->dir);
	if (r < 0 && !existed) /* the lock made it: leave nothing behind */
		egress_nat_tidy(n->dir);
	if (r == -EBUSY)
		return log_error_errno(r, "refusing run: networked runs of an older airlock are "
					  "live in this network namespace; wait for them to end");
	if (r < 0)
		return log_error_errno(
			r, "Failed to reap an older airlock's network leftovers in '%s': %m",
			n->dir);
	r = egress_link_new(n->dir, &n->pool, n->pool_prefixlen, &n->link);
	if (r < 0)
		return log_error_errno(
			r, "Failed to create the task's network namespace and veth: %m");
	if (n->v6) {
		r = egress_link_add_v6(n->link, &n->pool6, n->pool6_prefixlen);
		if (r < 0)
			return log_error_errno(r, "Failed to give the task's network IPv6: %m");
	}
	r = egress_nat_acquire(n->dir, n->link, &n->pool, n->pool_prefixlen, &n->pool6,
			       n->pool6_prefixlen, &n->flows, n->manage_forwarding);
	if (r == -EBUSY)
		return log_error_errno(r, "refusing run: networked runs of an older airlock are "
					  "live in this network namespace; wait for them to end");
	if (r == -EADDRNOTAVAIL)
		return log_error_errno(
			r,
			"refusing run: the configured pools (/network/pool %s/%u, "
			"/network/pool6) differ from those of the networked runs already "
			"live in this network namespace; use the same pools for all of them",
			pool_string(n), n->pool_prefixlen);
	if (r < 0)
		return log_error_errno(r, "Failed to set up table inet " EGRESS_HOST_TABLE ": %m");
	return 0;
}

/* The host table's log of connections to the host itself, for this run's slot only. */
static int net_setup_host_nflog(struct run_net *n)
{
	int group = egress_host_nflog_group(n->link->slot), r;

	if (group < 0) {
		log_warning("network: slot %u has no nflog group, connections to the host are "
			    "rejected but not recorded",
			    n->link->slot);
		return 0;
	}
	n->host_nflog_fd = egress_nflog_open(-EBADF, (uint16_t)group);
	if (n->host_nflog_fd < 0)
		return log_error_errno(n->host_nflog_fd,
				       "refusing run: cannot log denied connections to the host "
				       "(nflog group %d of this network namespace): %m",
				       group);
	r = loop_add(n->loop, n->host_nflog_fd, EPOLLIN, run_net_on_nflog, n);
	if (r < 0)
		return log_error_errno(r, "Failed to watch denied connections to the host: %m");
	return 0;
}

/*
 * Starts the DNS proxy program as soon as the task's namespace exists, where its listeners
 * go; net_ready() waits for it just before the task is released, so that its exec overlaps
 * the loading of the ruleset and the sandbox's start.
 */
static int net_start_proxy(struct run_net *n)
{
	struct dns_proxy_config cfg = { .net = n->net,
					.task = n->link->task_addr,
					.upstream = n->upstream,
					.v6_enabled = n->link->host_addr6.family == AF_INET6,
					.task_netns_fd = n->link->netns_fd };
	_cleanup_close_ int exe = -EBADF;
	const char *step;
	int r;

	/* The program as root may run it: found and checked like the module, run from this fd. */
	exe = helper_file_open(DNS_PROXY_PROGRAM, AIRLOCK_BINDIR, AIRLOCK_HELPER_DIR,
			       &n->proxy_program);
	if (exe < 0)
		return log_error_errno(exe, "refusing run: the DNS proxy program '%s' %s",
				       n->proxy_program.path, n->proxy_program.problem);
	cfg.exe_fd = exe;
	r = dns_proxy_start(&cfg, &n->proxy, &step);
	if (r < 0)
		return log_error_errno(r, "Failed to start the task's DNS proxy '%s' (%s): %m",
				       n->proxy_program.path, step);
	n->proxy_end.pid = n->proxy->pid;
	return 0;
}

static int net_setup_kernel(struct run_net *n)
{
	struct egress_config cfg = { .nflog_group = EGRESS_NFLOG_GROUP, .flows = n->flows };
	int r;

	r = net_take_slot(n);
	if (r < 0)
		return r;
	r = net_start_proxy(n);
	if (r < 0)
		return r;
	r = egress_socket_open(n->link->netns_fd, &n->nft);
	if (r < 0)
		return log_error_errno(r, "Failed to open nf_tables in the task namespace: %m");
	cfg.resolver = n->link->host_addr;
	cfg.pool = n->pool;
	cfg.pool_prefixlen = n->pool_prefixlen;
	cfg.pool6 = n->pool6;
	cfg.pool6_prefixlen = n->pool6_prefixlen;
	r = egress_apply(n->nft, n->net, &cfg);
	if (r == -EEXIST)
		return log_error_errno(
			r, "refusing run: overlapping cidr rules in /network/egress: %m");
	if (r < 0)
		return log_error_errno(
			r, "refusing run: cannot load the egress ruleset (/network): %m");

	n->nflog_fd = egress_nflog_open(n->link->netns_fd, EGRESS_NFLOG_GROUP);
	if (n->nflog_fd < 0)
		return log_error_errno(n->nflog_fd,
				       "refusing run: cannot log denied connections: %m");
	r = loop_add(n->loop, n->nflog_fd, EPOLLIN, run_net_on_nflog, n);
	if (r < 0)
		return log_error_errno(r, "Failed to watch denied connections: %m");
	return net_setup_host_nflog(n);
}

static int net_setup_dns(struct run_net *n)
{
	n->wild = calloc(MAX(n->net->n_egress, (size_t)1), sizeof(*n->wild));
	if (run_net_dns_init(&n->dns) < 0 || !n->wild)
		return log_oom();
	n->start_ms = now_mono_ms();
	n->guard = (struct dns_guard){ .net = n->net,
				       .nft = n->nft,
				       .upstream = n->upstream,
				       .ttl_min = n->ttl_min,
				       .ttl_max = n->ttl_max,
				       .decision = run_net_on_decision,
				       .userdata = n };
	return 0;
}

/* The proxy net_start_proxy() started: up under its filter, or the run is refused. */
static int net_ready(struct run_net *n)
{
	const char *step;
	int r;

	if (!n || !n->proxy)
		return 0;
	r = dns_proxy_wait_ready(n->proxy, &n->upstream, &step);
	if (r < 0)
		return log_error_errno(r, "Failed to start the task's DNS proxy '%s' (%s): %m",
				       n->proxy_program.path, step);
	r = loop_add(n->loop, n->proxy->ipc_fd, EPOLLIN, run_net_on_proxy, n);
	if (r < 0)
		return log_error_errno(r, "Failed to watch the DNS proxy: %m");
	n->final = RUN_NET_FINAL_PENDING; /* it serves the run: its final report is due */
	return 0;
}

/*
 * A wildcard rule that sets no "names" or "match_length" gets the node configuration's
 * (network.dns.wildcard_names, wildcard_match_length) in this run: a copy of the rules, the
 * policy itself is left as it was written.
 */
static int net_wildcard_defaults(struct run_net *n, const struct policy *p,
				 const struct node_network *cfg)
{
	const struct policy_network *pn = &p->network;

	for (size_t i = 0; i < pn->n_egress; i++) {
		const struct policy_egress_rule *r = &pn->egress[i];
		bool names = r->wildcard && r->names_default && r->names != cfg->wildcard_names;
		bool length = r->wildcard && r->match_length_default &&
			      r->match_length != cfg->wildcard_match_length;

		if (!names && !length)
			continue;
		if (!n->own_rules) { /* the first rule that differs: copy them all */
			n->own_rules = calloc(pn->n_egress, sizeof(*n->own_rules));
			if (!n->own_rules)
				return log_oom();
			memcpy(n->own_rules, pn->egress, pn->n_egress * sizeof(*n->own_rules));
			n->own_net = *pn;
			n->own_net.egress = n->own_rules;
			n->net = &n->own_net;
		}
		if (names)
			n->own_rules[i].names = cfg->wildcard_names;
		if (length)
			n->own_rules[i].match_length = cfg->wildcard_match_length;
	}
	return 0;
}

static void warn_pool_held(bool refusal, const char *line, void *userdata)
{
	if (!refusal) /* the refusals are run.c's, before anything of the run existed */
		log_warning("%s", line);
}

static int net_new(const struct policy *p, const struct node_network *cfg, const char *run_id,
		   struct loop *loop, struct run_net **ret)
{
	_cleanup_(net_freep) struct run_net *n = NULL;
	int r;

	*ret = NULL;
	if (!p->network.enabled)
		return 0;
	n = calloc(1, sizeof(*n));
	if (!n)
		return log_oom();
	n->cfg = cfg;
	n->net = &p->network;
	n->loop = loop;
	n->nflog_fd = -EBADF;
	n->host_nflog_fd = -EBADF;

	r = net_configure(n, p, cfg);
	if (r < 0)
		return r;
	r = net_wildcard_defaults(n, p, cfg);
	if (r < 0)
		return r;
	r = net_setup_kernel(n);
	if (r < 0)
		return r;
	r = net_setup_dns(n);
	if (r < 0)
		return r;
	/* Said once the run's network is up; the record has them too (pool_excluded). */
	(void)node_network_check_policy(cfg, &p->network, warn_pool_held, NULL);
	*ret = TAKE_PTR(n);
	return 0;
}

static int net_netns_fd(const struct run_net *n)
{
	return n && n->link ? n->link->netns_fd : -EBADF;
}

/*
 * Gives the slot back in one hold of the directory lock: out of the host table (or the
 * table itself, for the last run), then the slot lock, then the directory when it is
 * empty. A run that ends beside another one sees it either holding its slot with its
 * elements in the table, or gone with them. Returns the socket that changed the table
 * (to close later: see egress_nat_release()), or NULL.
 */
static struct egress_socket *net_give_slot(struct run_net *n)
{
	_cleanup_close_ int lock = -EBADF;
	struct egress_socket *nat = NULL;
	int r;

	lock = egress_dir_lock(n->dir);
	if (lock < 0) /* release all the same: a held slot lock would keep the table forever */
		log_warning_errno(lock, "Failed to lock '%s', releasing unlocked: %m", n->dir);
	r = egress_nat_release(n->dir, n->link, &nat);
	if (r < 0)
		log_warning_errno(r, "Failed to remove table inet " EGRESS_HOST_TABLE
				     ", ignoring: %m");
	r = egress_link_release(n->link);
	if (r < 0)
		log_warning_errno(r, "Failed to remove the address of '%s', ignoring: %m",
				  n->link->host_ifname);
	if (lock >= 0) /* the last run leaves no directory behind */
		egress_nat_tidy(n->dir);
	return nat;
}

static struct run_net *net_free(struct run_net *n)
{
	struct egress_socket *nat = NULL;

	if (!n)
		return NULL;
	if (n->proxy && n->loop)
		(void)loop_remove(n->loop, n->proxy->ipc_fd);
	n->proxy = dns_proxy_stop(n->proxy);
	if (n->nflog_fd >= 0 && n->loop)
		(void)loop_remove(n->loop, n->nflog_fd);
	n->nflog_fd = safe_close(n->nflog_fd);
	if (n->host_nflog_fd >= 0 && n->loop)
		(void)loop_remove(n->loop, n->host_nflog_fd);
	n->host_nflog_fd = safe_close(n->host_nflog_fd);
	n->nft = egress_socket_free(n->nft);
	dns_guard_done(&n->guard);
	if (n->link)
		nat = net_give_slot(n);
	/* The namespace's last reference: the kernel destroys it and the veth pair. */
	n->link = egress_link_free(n->link);
	egress_socket_free(nat);
	run_net_dns_done(&n->dns);
	free(n->wild);
	free(n->own_rules);
	free(n);
	return NULL;
}

static void net_reap_stale(void)
{
	_cleanup_(closedirp) DIR *d = NULL;
	char own[256], dir[512];
	struct dirent *de;
	int r, n = 0;

	if (own_net_dir(own, sizeof(own)) < 0)
		return;
	r = egress_nat_reap(own, true);
	if (r == -EBUSY) /* a networked run refuses, saying why; any other run goes on */
		log_debug("an older airlock's networked runs are live here, nothing reaped");
	else if (r < 0)
		log_warning_errno(
			r, "Failed to reap the network leftovers of dead runs, ignoring: %m");
	n += MAX(r, 0);

	/*
	 * Other namespaces' directories: only when the namespace is gone, and then only their
	 * files (its kernel state died with it). A namespace still in use is left to the runs
	 * in it: removing its files would lose what they need to reap its table and veths.
	 * That includes our own namespace's "<inode>" directory of an older airlock, which
	 * egress_nat_reap() took care of above.
	 */
	d = opendir(AIRLOCK_RUNTIME_DIR "/net");
	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(dir, sizeof(dir), "%s/net/%s", AIRLOCK_RUNTIME_DIR, de->d_name);
		if (streq(dir, own) || netns_name_in_use(de->d_name) != 0)
			continue;
		r = egress_nat_reap(dir, false);
		n += MAX(r, 0);
	}
	if (n > 0)
		log_notice("released the network slots of %d run(s) that ended without cleaning up",
			   n);
}

/* The module's one exported symbol (run-net.sym). */
const struct run_net_module run_net_module = {
	.abi = RUN_NET_MODULE_ABI,
	.version = AIRLOCK_VERSION,
	.new = net_new,
	.ready = net_ready,
	.netns_fd = net_netns_fd,
	.resolv_conf = net_resolv_conf,
	.conclude = run_net_conclude,
	.to_json = run_net_record_json,
	.reap_stale = net_reap_stale,
	.free = net_free,
};
