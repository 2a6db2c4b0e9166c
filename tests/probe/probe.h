/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * The parts of airlock-probe that live outside probe.c. Each is a subcommand: it takes the
 * arguments after its name, prints one finding per line on stdout and returns the exit
 * code (0 when the sandbox looks as expected, 1 when it does not).
 */

/*
 * "syscalls [NAME...]": tries every syscall family of the blocked and allowed tables (or
 * only the named ones), each in a forked child, and prints how each one answered.
 * Returns 0 when every blocked family failed with EPERM/ENOSYS or SIGSYS and every
 * allowed one did not, 1 otherwise.
 */
int probe_syscalls(int argc, char **argv);

/*
 * "abi NAME" (i386 or x32): tries getpid through that foreign syscall ABI in a child.
 * Prints one line and returns 0 when the kernel ran it, 1 when the kernel itself refused
 * it (SIGSEGV for i386, ENOSYS for x32), 2 for any other answer (a seccomp filter),
 * 3 for an unknown name.
 */
int probe_abi(int argc, char **argv);
