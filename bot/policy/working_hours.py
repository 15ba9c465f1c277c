"""When Saydo nudges a commitment's owner: pure calendar arithmetic, no Slack and no storage.

All instants in and out are timezone-aware; results are in UTC. Wall times are the owner's local
time (an IANA zone name such as "Europe/London"), applied with ``zoneinfo``.

Decisions (defaults; ``NudgePolicy`` holds them so a partnership can change them later):

- Working days are Monday to Friday, minus the policy's ``holidays`` (extra non-working dates,
  e.g. an organisation's public holidays). Working hours are 09:00 to 17:30 local, start
  included and end excluded: 17:30 itself is outside.
- The *due day* is the local calendar date of the due instant in the owner's time zone.
- Every slot is at 09:00 local on a working day. Slots are built from local dates and converted
  to UTC one by one, so a daylight-saving change moves the UTC instant, never the wall time, and
  never doubles or drops a slot.
- BEFORE: 09:00 on the last working day strictly before the due day, only if the commitment was
  made at least two days (``before_min_lead``) before its due instant and that 09:00 is still
  after it was made. A due day on a weekend or holiday gets no DUE slot; this BEFORE (e.g. on
  the Friday before a Saturday) stands in for it.
- DUE: 09:00 on the due day, only if the due day is a working day and the commitment is not
  already due by then: a commitment due at 08:00 gets no 09:00 DUE slot (the first overdue
  nudge follows). Due at exactly 09:00 keeps it.
- OVERDUE: 09:00 on the 1st, 3rd and 7th working day strictly after the due day, then weekly:
  every 5 working days (one week's worth of working days, ``len(working_days)``), so the 12th,
  17th and 22nd, at most six in all. ``seq`` numbers them 1..6.
- No slot is at or before the commitment was made. A slot's ``key_suffix`` ("before", "due",
  "overdue-1" … "overdue-6") names its place in the policy and never changes, so the outbox
  can use it in a unique key.
- ``plan_slots`` ignores "now": the outbox decides which slots are past.
- Away periods and snoozes move delivery, not the plan: a slot falling before ``away_until``
  is delivered at ``next_working_instant(away_until)``; a snoozed nudge at ``snoozed(at)``,
  09:00 on the next working day (Friday goes to Monday).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from itertools import pairwise
from zoneinfo import ZoneInfo

_ONE_DAY = timedelta(days=1)


@dataclass(frozen=True)
class NudgePolicy:
    """When and how often to nudge; the defaults are Saydo's policy."""

    working_days: frozenset[int] = frozenset({0, 1, 2, 3, 4})  # Monday=0
    day_start: time = time(9, 0)
    day_end: time = time(17, 30)
    nudge_time: time = time(9, 0)
    before_min_lead: timedelta = timedelta(days=2)
    overdue_working_days: tuple[int, ...] = (1, 3, 7)
    overdue_weekly_after: bool = True  # then every len(working_days) working days
    max_overdue: int = 6
    holidays: frozenset[date] = frozenset()

    def __post_init__(self) -> None:
        object.__setattr__(self, "working_days", frozenset(self.working_days))
        object.__setattr__(self, "holidays", frozenset(self.holidays))
        object.__setattr__(self, "overdue_working_days", tuple(self.overdue_working_days))
        if not self.working_days or not self.working_days <= set(range(7)):
            raise ValueError("working_days must be a non-empty set of weekdays 0..6")
        if not self.day_start <= self.nudge_time < self.day_end:
            raise ValueError("nudge_time must be within working hours")
        offsets = self.overdue_working_days
        if any(n < 1 for n in offsets) or any(a >= b for a, b in pairwise(offsets)):
            raise ValueError("overdue_working_days must be positive and strictly increasing")
        if self.max_overdue < 0 or self.before_min_lead < timedelta(0):
            raise ValueError("max_overdue and before_min_lead must not be negative")

    def is_working_day(self, day: date) -> bool:
        """Whether ``day`` is a working weekday and not a holiday."""
        return day.weekday() in self.working_days and day not in self.holidays

    def overdue_offsets(self) -> tuple[int, ...]:
        """Working days after the due day of each overdue slot: (1, 3, 7, 12, 17, 22) by default."""
        offsets = list(self.overdue_working_days[: self.max_overdue])
        while self.overdue_weekly_after and offsets and len(offsets) < self.max_overdue:
            offsets.append(offsets[-1] + len(self.working_days))
        return tuple(offsets)


class NudgeKind(StrEnum):
    BEFORE = "before"
    DUE = "due"
    OVERDUE = "overdue"


@dataclass(frozen=True)
class Slot:
    """One planned nudge: its kind, its number within the kind (1 for before/due), and when."""

    kind: NudgeKind
    seq: int
    at: datetime

    @property
    def key_suffix(self) -> str:
        """Stable name of the slot, "before", "due" or "overdue-N", for unique outbox keys."""
        return f"overdue-{self.seq}" if self.kind is NudgeKind.OVERDUE else str(self.kind)


def plan_slots(
    *, created_at: datetime, due_at: datetime, tz: str, policy: NudgePolicy = NudgePolicy()
) -> list[Slot]:
    """Every slot of the policy for a commitment, in time order, regardless of now."""
    _require_aware(created_at, due_at)
    zone = ZoneInfo(tz)
    due_day = due_at.astimezone(zone).date()
    slots: list[Slot] = []
    if due_at - created_at >= policy.before_min_lead:
        before_day = next(_working_days(due_day, policy, step=-1))
        slots.append(Slot(NudgeKind.BEFORE, 1, _at(before_day, policy.nudge_time, zone)))
    if policy.is_working_day(due_day):
        due_slot = Slot(NudgeKind.DUE, 1, _at(due_day, policy.nudge_time, zone))
        if due_slot.at <= due_at:
            slots.append(due_slot)
    offsets = policy.overdue_offsets()
    if offsets:
        days = _working_days(due_day, policy, step=1)
        counted = [next(days) for _ in range(offsets[-1])]
        slots.extend(
            Slot(NudgeKind.OVERDUE, seq, _at(counted[n - 1], policy.nudge_time, zone))
            for seq, n in enumerate(offsets, start=1)
        )
    return [slot for slot in slots if slot.at > created_at]


def in_working_hours(at: datetime, *, tz: str, policy: NudgePolicy = NudgePolicy()) -> bool:
    """Whether ``at`` is on a working day, at or after day_start and before day_end, locally."""
    _require_aware(at)
    local = at.astimezone(ZoneInfo(tz))
    return policy.is_working_day(local.date()) and policy.day_start <= local.time() < policy.day_end


def next_working_instant(
    after: datetime, *, tz: str, policy: NudgePolicy = NudgePolicy()
) -> datetime:
    """The earliest instant at or after ``after`` inside working hours on a working day."""
    if in_working_hours(after, tz=tz, policy=policy):
        return after.astimezone(UTC)
    zone = ZoneInfo(tz)
    local = after.astimezone(zone)
    if policy.is_working_day(local.date()) and local.time() < policy.day_start:
        return _at(local.date(), policy.day_start, zone)
    return _at(next(_working_days(local.date(), policy, step=1)), policy.day_start, zone)


def snoozed(at: datetime, *, tz: str, policy: NudgePolicy = NudgePolicy()) -> datetime:
    """Nudge time on the first working day after ``at``'s local date (Friday -> Monday)."""
    _require_aware(at)
    zone = ZoneInfo(tz)
    day = next(_working_days(at.astimezone(zone).date(), policy, step=1))
    return _at(day, policy.nudge_time, zone)


def _working_days(start: date, policy: NudgePolicy, *, step: int) -> Iterator[date]:
    """Working days strictly after (step=1) or before (step=-1) ``start``, nearest first."""
    day = start
    while True:
        day += step * _ONE_DAY
        if policy.is_working_day(day):
            yield day


def _at(day: date, wall: time, zone: ZoneInfo) -> datetime:
    """The UTC instant of a local wall time (``fold=0``: a skipped time moves forward)."""
    return datetime.combine(day, wall, tzinfo=zone).astimezone(UTC)


def _require_aware(*instants: datetime) -> None:
    if any(at.utcoffset() is None for at in instants):
        raise ValueError("datetimes must be timezone-aware")
