/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * A small epoll loop for one run: each source is an fd with a handler. Handlers return 0 to
 * continue, or a negative errno that stops the loop (loop_run returns it).
 */

#include <stdbool.h>
#include <stdint.h>

struct loop;

typedef int (*loop_handler_t)(struct loop *l, int fd, uint32_t events, void *userdata);

int loop_new(struct loop **ret);
struct loop *loop_free(struct loop *l);
/* Watches fd (not owned) for events (EPOLLIN...). Returns 0 or -errno. */
int loop_add(struct loop *l, int fd, uint32_t events, loop_handler_t handler, void *userdata);
int loop_remove(struct loop *l, int fd);
/* Changes the events a watched fd reports (0: only EPOLLERR and EPOLLHUP). 0 or -errno. */
int loop_modify(struct loop *l, int fd, uint32_t events);
/* Asks loop_run() to return 0 after the current dispatch round. */
void loop_quit(struct loop *l);
/* Dispatches until loop_quit() or a handler error. timeout_ms < 0 waits forever per round. */
int loop_run(struct loop *l);
