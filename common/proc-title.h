/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * The process's argument and environment strings: what /proc/PID/cmdline and
 * /proc/PID/environ show. A process forked from the supervisor (the sandbox init) carries
 * a copy of them, and with them the host's command line (state directory, policy path)
 * and environment. proc_title_save() remembers where they are; proc_title_set()
 * overwrites them in place with a name of the process's own. Neither allocates nor logs.
 */

/*
 * Remembers the argument area (argv[0] .. the end of the last argument) and the
 * environment strings that follow it. Call from main() before anything changes argv or
 * environ. Strings not laid out contiguously, as the kernel does, end the area there.
 */
void proc_title_save(int argc, char **argv);

/*
 * Overwrites the saved area: name (truncated to fit), then zeros, so that cmdline reads
 * name alone and environ reads nothing; also sets the thread name (PR_SET_NAME: comm and
 * the Name of /proc/PID/status, at most 15 bytes). argv, environ and anything getenv()
 * returned point at zeros afterwards: callers must not need them. No allocation: safe in
 * a forked child. Returns 0, or -ENODATA if nothing was saved (then only the thread name
 * is set).
 */
int proc_title_set(const char *name);
