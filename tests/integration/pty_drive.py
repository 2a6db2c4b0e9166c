# SPDX-License-Identifier: GPL-2.0-or-later
"""Types at a program on a terminal of its own (a new pty), as a user at a keyboard does:
the integration tests' interactive shells, where ^Z, fg and jobs are typed at a prompt.

    import pty_drive
    try:
        term = pty_drive.spawn(["bash", "--norc", "--noprofile", "-i"], {"PS1": "$ "},
                               transcript="/tmp/x/pty.out")
    except pty_drive.NoPty as e:
        ...                       # the host has no pty: the caller skips, naming e
    term.send("sleep 9\\n")
    term.send(b"\\x1a")           # ^Z
    m = term.expect(rb"^\\[1\\]\\+\\s+(\\w+)", 10)   # the match, or None at the timeout
    term.close()

A test copies this file next to its driver script, where python finds it (tests/integration
is then not written to: no __pycache__ in the source tree).
"""
import os
import pty
import re
import select
import sys
import time


class NoPty(Exception):
    """The host cannot open a pseudo-terminal (no /dev/ptmx, no devpts mounted)."""


class Terminal:
    """The program on its terminal. pid: the program, which leads the terminal's session;
    fd: the terminal's master side; out: all the terminal said so far (bytes)."""

    def __init__(self, pid, fd, transcript=None):
        self.pid = pid
        self.fd = fd
        self.out = b""
        self._transcript = open(transcript, "wb") if transcript else None

    def pump(self, seconds):
        """Reads what the terminal says for SECONDS (all of them, also once it is closed)."""
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            if not select.select([self.fd], [], [], 0.05)[0]:
                continue
            try:
                data = os.read(self.fd, 4096)
            except OSError:  # EIO: no process has the terminal open any more
                data = b""
            if not data:
                time.sleep(max(0.0, end - time.monotonic()))
                return
            self.out += data
            if self._transcript:
                self._transcript.write(data)
                self._transcript.flush()

    def send(self, keys):
        """Types KEYS (bytes, or str as UTF-8): b"\\x1a" is ^Z, b"\\x03" ^C."""
        if isinstance(keys, str):
            keys = keys.encode()
        while keys:
            keys = keys[os.write(self.fd, keys):]

    def wait(self, cond, seconds):
        """Reads the terminal until COND() holds, for at most SECONDS; COND's last value."""
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            if cond():
                return True
            self.pump(0.1)
        return bool(cond())

    def said(self, pattern, since=0):
        """The first match of PATTERN (bytes; ^ and $ match at each line) in what the
        terminal said from offset SINCE of out on, or None."""
        return re.search(pattern, self.out[since:], re.M)

    def expect(self, pattern, seconds, since=0):
        """Reads until the terminal says PATTERN (as said()), for at most SECONDS: the
        match, or None."""
        self.wait(lambda: self.said(pattern, since), seconds)
        return self.said(pattern, since)

    def foreground(self):
        """The terminal's foreground process group, or -1 when it has none."""
        try:
            return os.tcgetpgrp(self.fd)
        except OSError:
            return -1

    def close(self):
        """Kills the program (SIGKILL), reaps it, closes the terminal and the transcript."""
        try:
            os.kill(self.pid, 9)
        except ProcessLookupError:
            pass
        os.waitpid(self.pid, 0)
        os.close(self.fd)
        if self._transcript:
            self._transcript.close()


def spawn(argv, env=None, transcript=None):
    """Runs ARGV (searched in PATH) on a new terminal, its environment this one's updated
    with ENV; a copy of all the terminal says goes to the file TRANSCRIPT when given.
    Raises NoPty when the host has no pty."""
    try:
        pid, fd = pty.fork()
    except OSError as e:
        raise NoPty(str(e)) from e
    if pid == 0:
        try:
            os.environ.update(env or {})
            os.execvp(argv[0], argv)
        except OSError as e:
            print("pty_drive: cannot run %s: %s" % (argv[0], e), file=sys.stderr)
        os._exit(127)
    return Terminal(pid, fd, transcript)
