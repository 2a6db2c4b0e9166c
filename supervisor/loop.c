/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "cleanup.h"
#include "loop.h"

#define LOOP_MAX_SOURCES 64

struct loop_source {
	int fd;
	loop_handler_t handler;
	void *userdata;
	bool used;
	uint32_t generation; /* bumped on every add: stale events of a reused slot are dropped */
};

struct loop {
	int epoll_fd;
	bool quit;
	struct loop_source sources[LOOP_MAX_SOURCES];
};

int loop_new(struct loop **ret)
{
	struct loop *l = calloc(1, sizeof(*l));

	if (!l)
		return -ENOMEM;
	l->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epoll_fd < 0) {
		int r = -errno;
		free(l);
		return r;
	}
	*ret = l;
	return 0;
}

struct loop *loop_free(struct loop *l)
{
	if (!l)
		return NULL;
	safe_close(l->epoll_fd);
	free(l);
	return NULL;
}

int loop_add(struct loop *l, int fd, uint32_t events, loop_handler_t handler, void *userdata)
{
	struct epoll_event ev = { .events = events };

	for (size_t i = 0; i < LOOP_MAX_SOURCES; i++) {
		struct loop_source *s = &l->sources[i];
		uint32_t gen = s->generation + 1;

		if (s->used)
			continue;
		ev.data.u64 = (uint64_t)gen << 32 | i;
		if (epoll_ctl(l->epoll_fd, EPOLL_CTL_ADD, fd, &ev) < 0)
			return -errno;
		*s = (struct loop_source){ fd, handler, userdata, true, gen };
		return 0;
	}
	return -ENOSPC;
}

int loop_remove(struct loop *l, int fd)
{
	for (size_t i = 0; i < LOOP_MAX_SOURCES; i++) {
		struct loop_source *s = &l->sources[i];

		if (!s->used || s->fd != fd)
			continue;
		s->used = false;
		if (epoll_ctl(l->epoll_fd, EPOLL_CTL_DEL, fd, NULL) < 0)
			return -errno;
		return 0;
	}
	return -ENOENT;
}

int loop_modify(struct loop *l, int fd, uint32_t events)
{
	for (size_t i = 0; i < LOOP_MAX_SOURCES; i++) {
		struct loop_source *s = &l->sources[i];
		struct epoll_event ev = { .events = events };

		if (!s->used || s->fd != fd)
			continue;
		ev.data.u64 = (uint64_t)s->generation << 32 | i;
		if (epoll_ctl(l->epoll_fd, EPOLL_CTL_MOD, fd, &ev) < 0)
			return -errno;
		return 0;
	}
	return -ENOENT;
}

void loop_quit(struct loop *l)
{
	l->quit = true;
}

int loop_run(struct loop *l)
{
	struct epoll_event evs[16];

	while (!l->quit) {
		int n = epoll_wait(l->epoll_fd, evs, 16, -1);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		for (int i = 0; i < n; i++) {
			uint32_t idx = (uint32_t)evs[i].data.u64;
			struct loop_source *s = &l->sources[idx % LOOP_MAX_SOURCES];
			int r;

			/* Removed earlier in this round, or removed and its slot reused. */
			if (!s->used || s->generation != (uint32_t)(evs[i].data.u64 >> 32))
				continue;
			r = s->handler(l, s->fd, evs[i].events, s->userdata);
			if (r < 0)
				return r;
		}
	}
	return 0;
}
