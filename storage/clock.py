"""The one clock Saydo reads for "now": real UTC time, optionally shifted forward.

It lives in `storage` (the lowest layer) because stored rows are stamped with it by default;
the rest of Saydo reads it as `storage.clock`, which is this module under its usual name.

Everything that stamps or compares instants (listeners, stored rows, the scheduler's sweeps)
asks :func:`now`. A deployment never shifts it. The playground does, to let a person watch
weeks of joint working in minutes: it moves the whole process's idea of now forward, so a
commitment delivered after "advancing a week" is late, exactly as it would be in Slack.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

_lock = threading.Lock()
_offset = timedelta(0)


def now() -> datetime:
    """The current instant, timezone-aware UTC (real time plus the offset)."""
    return datetime.now(UTC) + _offset


def offset() -> timedelta:
    """How far ahead of real time the clock is."""
    return _offset


def set_offset(value: timedelta) -> None:
    """Shift the clock: `now()` becomes real time plus `value`."""
    global _offset
    with _lock:
        _offset = value


def move_to(instant: datetime) -> None:
    """Make `now()` equal `instant` at this moment (it keeps running from there)."""
    if instant.tzinfo is None:
        raise ValueError("move_to needs a timezone-aware instant")
    set_offset(instant - datetime.now(UTC))
