"""Processes the tests start: stopped whatever happens, and none left behind when pytest ends.

Every process a test starts inherits ``SAYDO_TEST_SESSION`` from the pytest process (set before
xdist starts its workers), so a process left running is found by that mark even after its
parent has gone; ``/proc`` is read directly (Linux, like CI).
"""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

SESSION_MARK = "SAYDO_TEST_SESSION"
TERM_TIMEOUT_SECONDS = 30


def stop(process: subprocess.Popen, timeout: float = TERM_TIMEOUT_SECONDS) -> int:
    """SIGTERM, then SIGKILL if it has not exited after `timeout` seconds; the exit status
    (negative: the signal that ended it)."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        return process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        return process.wait()


def mark_session() -> None:
    """Mark this pytest run in the environment every process it starts inherits."""
    os.environ.setdefault(SESSION_MARK, f"{os.getpid()}")


def _is_marked(proc: Path, mark: bytes) -> bool:
    try:
        return mark in (proc / "environ").read_bytes().split(b"\0")
    except OSError:  # gone meanwhile, or not ours to read
        return False


def leftover() -> dict[int, str]:
    """Processes of this pytest run still alive, other than this one: pid -> command line."""
    mark = f"{SESSION_MARK}={os.environ[SESSION_MARK]}".encode()
    found: dict[int, str] = {}
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit() and int(proc.name) != os.getpid() and _is_marked(proc, mark):
            try:
                command = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            found[int(proc.name)] = command.strip()
    return found
