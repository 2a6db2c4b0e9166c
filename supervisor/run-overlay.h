/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * A run's overlay workspace (docs/artifacts.md): the supervisor keeps the upper layer's
 * tmpfs and a clone of the host workspace from the sandbox's birth (the task's mount
 * namespace may die with its last process), and once every process of the run is dead
 * reads the change set and exports it into DIR/workspace/ beside the export of /out.
 */

#include <jansson.h>

struct run_export;
struct run_overlay;
struct sandbox_mounts;

/*
 * Takes the overlay's layers from m before m is freed. *ret is NULL when the workspace is
 * no overlay. Returns 0 or -ENOMEM (logged).
 */
int run_overlay_take(struct sandbox_mounts *m, struct run_overlay **ret);

/*
 * After every process of the run is dead and /out was exported (run_export_collect()):
 * computes the change set and exports it into the export's directory (e: the run's
 * export; a policy with an overlay workspace always has one). Logs the outcome (one
 * line). Returns 0 or -errno (the record says why). o may be NULL: nothing to do.
 */
int run_overlay_collect(struct run_overlay *o, const struct run_export *e);

/* The record's "workspace_changes" object (owned by the caller), or NULL (o NULL, OOM). */
json_t *run_overlay_to_json(const struct run_overlay *o);

/* Closes the layers (the upper tmpfs goes with the last of them). Accepts and returns NULL. */
struct run_overlay *run_overlay_free(struct run_overlay *o);
