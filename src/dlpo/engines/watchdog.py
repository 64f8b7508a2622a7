"""A supervisor that ties a child process (the `llama-server`) to the life of its parent.

    python -m dlpo.engines.watchdog <parent pid> -- <command> [args...]

dlpo starts every managed server through this module, so that no server outlives the dlpo process
that started it, however that process ends:

* a normal end, an exception, Ctrl-C: dlpo stops the server itself (SIGTERM to this watchdog);
* SIGKILL of dlpo, or a crash: the kernel closes dlpo's end of this watchdog's stdin pipe, so the
  read below returns EOF, and the parent pid changes (the watchdog is re-parented); either one makes
  the watchdog stop the server and exit;
* SIGKILL of the watchdog itself: the server was started with `PR_SET_PDEATHSIG` (Linux) and gets
  SIGKILL from the kernel.

The server is stopped with SIGTERM and, after `GRACE_S`, SIGKILL. The watchdog exits with the
server's exit code when the server exits on its own (e.g. it could not load the model).
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import threading
import time

GRACE_S = 5.0
POLL_S = 0.2
_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """In the child, before exec: ask the kernel for SIGKILL when the watchdog dies (Linux only)."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):  # not Linux: the stdin/ppid checks still cover dlpo's death
        pass


def _stop(child: subprocess.Popen) -> int:
    if child.poll() is None:
        child.terminate()
        try:
            child.wait(timeout=GRACE_S)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
    return child.returncode if child.returncode is not None else 0


def _watch_stdin(gone: threading.Event) -> None:
    try:
        while sys.stdin.buffer.read(1):
            pass
    except (OSError, ValueError):
        pass
    gone.set()


def supervise(parent: int, command: list[str]) -> int:
    """Run `command` until it exits, the parent goes away, or this process is asked to stop."""
    stop_asked = threading.Event()

    def on_signal(signum: int, _frame: object) -> None:
        stop_asked.set()

    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, on_signal)
    # no other thread exists yet, so preexec_fn is safe here
    child = subprocess.Popen(command, preexec_fn=_die_with_parent, stdin=subprocess.DEVNULL)  # noqa: PLW1509
    parent_gone = threading.Event()
    threading.Thread(target=_watch_stdin, args=(parent_gone,), daemon=True).start()
    while True:
        code = child.poll()
        if code is not None:
            return code
        if stop_asked.is_set() or parent_gone.is_set() or os.getppid() != parent:
            _stop(child)
            return 0
        time.sleep(POLL_S)


def main(argv: list[str]) -> int:
    if len(argv) < 3 or argv[1] != "--" or not argv[0].isdigit():
        print("usage: python -m dlpo.engines.watchdog <parent pid> -- <command> [args...]", file=sys.stderr)
        return 2
    return supervise(int(argv[0]), argv[2:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
