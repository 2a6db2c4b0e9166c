#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The task of test-artifacts.sh, run inside the sandbox: fills /out with the attack set.

Usage: artifacts-task.py attack CANARY DEST RACER_NAME | many N
"""
import ctypes
import os
import socket
import sys
import time

libc = ctypes.CDLL(None, use_errno=True)
AT_FDCWD = -100
RENAME_EXCHANGE = 2
PR_SET_NAME = 15


def tryit(f, *a):
    try:
        f(*a)
    except OSError:
        pass


def links(canary, dest):
    for name, target in (("shadow", "/etc/shadow"), ("root", "/"), ("canary", canary),
                         ("dest", dest), ("dest-manifest", dest + "/manifest.json"),
                         ("up", "../../../../../.."), ("loop1", "loop2"), ("loop2", "loop1"),
                         ("self", "."), ("manifest.json", canary), ("data2.txt", canary)):
        os.symlink(target, name)
    os.mkdir("a")
    os.symlink("../../../../etc", "a/up")
    os.symlink(dest, "a/data.txt")  # named like an exported file


def files():
    with open("data.txt", "w") as f:
        f.write("plain data\n")
    os.link("data.txt", "hard.txt")
    os.mkfifo("fifo")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind("sock")
    for name, mode in (("suid", 0o4755), ("sgid", 0o2755)):
        with open(name, "w") as f:
            f.write("#!/bin/sh\n")
        os.chmod(name, 0o755)
        tryit(os.chmod, name, mode)  # the seccomp filter may refuse set-id bits
    os.mkdir("sticky")
    tryit(os.chmod, "sticky", 0o1777)
    with open("sticky/in.txt", "w") as f:
        f.write("in sticky\n")
    with open("sparse", "wb") as f:
        f.truncate(1 << 40)
    for name in (b"new\nline", b"ctl\x01\x1b[31m", b"bad\xff\xfeutf8", b"...", b"..x",
                 b"-rf", b"back\\slash"):
        with open(name, "wb") as f:
            f.write(name + b"\n")
    with open("leak.txt", "w") as f:
        f.write("token=%s\n" % os.environ["TOK"])


def long_path():
    fd = os.open(".", os.O_RDONLY)
    for _ in range(24):  # 24 * 201 bytes: past PATH_MAX (4096)
        os.mkdir("L" * 200)
        os.chdir("L" * 200)
    with open("deep.txt", "w") as f:
        f.write("deep\n")
    os.fchdir(fd)


def racer(canary, name):
    """Swaps a file and a link to the canary without end; must die with the task."""
    with open("race-file", "w") as f:
        f.write("RACE-OK\n")
    os.symlink(canary, "race-link")
    if os.fork() == 0:
        libc.prctl(PR_SET_NAME, name.encode(), 0, 0, 0)
        os.setsid()
        while True:
            libc.renameat2(AT_FDCWD, b"race-file", AT_FDCWD, b"race-link", RENAME_EXCHANGE)


def main():
    os.chdir("/out")
    if sys.argv[1] == "many":
        os.mkdir("many")
        for i in range(int(sys.argv[2])):
            with open("many/%05d" % i, "w") as f:
                f.write("%d\n" % i)
        return
    canary, dest, name = sys.argv[2], sys.argv[3], sys.argv[4]
    links(canary, dest)
    files()
    long_path()
    racer(canary, name)
    time.sleep(0.3)


main()
