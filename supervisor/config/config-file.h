/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * Reading the node configuration file (policy/node-config.h parses it). The file decides
 * where a privileged program keeps its state and which addresses it hands out, so it must
 * belong to root and be writable by nobody else; the environment changes none of it.
 */

#include <stdbool.h>

struct node_config;

/*
 * Loads path (NULL: NODE_CONFIG_PATH). A missing default file gives the built-in
 * configuration; a missing file named explicitly, a file that is not a regular file, not
 * owned by root or writable by group or others, or that does not parse, is refused with
 * one logged line naming the file and the JSON path. Directories and the cgroup parent
 * the file leaves out get the build's defaults. Returns 0 (read from the file) or 1 (the
 * default file is absent: built-in) with *ret owned by the caller, or a negative errno.
 */
int config_file_load(const char *path, struct node_config **ret);
