"""The nudge policy: tables of local slot times in three time zones, and properties."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.policy.working_hours import (
    NudgeKind,
    NudgePolicy,
    Slot,
    in_working_hours,
    next_working_instant,
    plan_slots,
    snoozed,
)

LONDON = "Europe/London"
NEW_YORK = "America/New_York"
KOLKATA = "Asia/Kolkata"
DEFAULT = NudgePolicy()
# Christmas Day, the substitute Boxing Day (26 Dec 2026 is a Saturday) and New Year's Day.
CHRISTMAS = NudgePolicy(
    holidays=frozenset({date(2026, 12, 25), date(2026, 12, 28), date(2027, 1, 1)})
)


def local(tz: str, wall: str) -> datetime:
    """An aware instant from a local wall time such as "2026-03-13 17:00"."""
    return datetime.fromisoformat(wall).replace(tzinfo=ZoneInfo(tz))


def show(at: datetime, tz: str) -> str:
    """An instant as the owner sees it, with its UTC offset: "Fri 2026-03-13 09:00 +0000"."""
    assert at.tzinfo is UTC
    return at.astimezone(ZoneInfo(tz)).strftime("%a %Y-%m-%d %H:%M %z")


def plan(tz: str, created: str, due: str, policy: NudgePolicy = DEFAULT) -> list[tuple[str, str]]:
    slots = plan_slots(created_at=local(tz, created), due_at=local(tz, due), tz=tz, policy=policy)
    return [(slot.key_suffix, show(slot.at, tz)) for slot in slots]


# (time zone, created, due, policy, expected slots in local time)
PLANS = {
    "due Friday, London (overdue crosses the 29 Mar change)": (
        LONDON, "2026-03-09 10:00", "2026-03-13 17:00", DEFAULT, [
            ("before", "Thu 2026-03-12 09:00 +0000"),
            ("due", "Fri 2026-03-13 09:00 +0000"),
            ("overdue-1", "Mon 2026-03-16 09:00 +0000"),
            ("overdue-2", "Wed 2026-03-18 09:00 +0000"),
            ("overdue-3", "Tue 2026-03-24 09:00 +0000"),
            ("overdue-4", "Tue 2026-03-31 09:00 +0100"),
            ("overdue-5", "Tue 2026-04-07 09:00 +0100"),
            ("overdue-6", "Tue 2026-04-14 09:00 +0100"),
        ],
    ),
    "due Friday, New York": (
        NEW_YORK, "2026-03-09 10:00", "2026-03-13 17:00", DEFAULT, [
            ("before", "Thu 2026-03-12 09:00 -0400"),
            ("due", "Fri 2026-03-13 09:00 -0400"),
            ("overdue-1", "Mon 2026-03-16 09:00 -0400"),
            ("overdue-2", "Wed 2026-03-18 09:00 -0400"),
            ("overdue-3", "Tue 2026-03-24 09:00 -0400"),
            ("overdue-4", "Tue 2026-03-31 09:00 -0400"),
            ("overdue-5", "Tue 2026-04-07 09:00 -0400"),
            ("overdue-6", "Tue 2026-04-14 09:00 -0400"),
        ],
    ),
    "due Friday, Kolkata": (
        KOLKATA, "2026-03-09 10:00", "2026-03-13 17:00", DEFAULT, [
            ("before", "Thu 2026-03-12 09:00 +0530"),
            ("due", "Fri 2026-03-13 09:00 +0530"),
            ("overdue-1", "Mon 2026-03-16 09:00 +0530"),
            ("overdue-2", "Wed 2026-03-18 09:00 +0530"),
            ("overdue-3", "Tue 2026-03-24 09:00 +0530"),
            ("overdue-4", "Tue 2026-03-31 09:00 +0530"),
            ("overdue-5", "Tue 2026-04-07 09:00 +0530"),
            ("overdue-6", "Tue 2026-04-14 09:00 +0530"),
        ],
    ),
    "due Saturday: the Friday before, no due slot": (
        NEW_YORK, "2026-06-08 10:00", "2026-06-13 12:00", DEFAULT, [
            ("before", "Fri 2026-06-12 09:00 -0400"),
            ("overdue-1", "Mon 2026-06-15 09:00 -0400"),
            ("overdue-2", "Wed 2026-06-17 09:00 -0400"),
            ("overdue-3", "Tue 2026-06-23 09:00 -0400"),
            ("overdue-4", "Tue 2026-06-30 09:00 -0400"),
            ("overdue-5", "Tue 2026-07-07 09:00 -0400"),
            ("overdue-6", "Tue 2026-07-14 09:00 -0400"),
        ],
    ),
    "due Sunday, made Friday after 09:00: no before, no due": (
        LONDON, "2026-06-12 10:00", "2026-06-14 23:00", DEFAULT, [
            ("overdue-1", "Mon 2026-06-15 09:00 +0100"),
            ("overdue-2", "Wed 2026-06-17 09:00 +0100"),
            ("overdue-3", "Tue 2026-06-23 09:00 +0100"),
            ("overdue-4", "Tue 2026-06-30 09:00 +0100"),
            ("overdue-5", "Tue 2026-07-07 09:00 +0100"),
            ("overdue-6", "Tue 2026-07-14 09:00 +0100"),
        ],
    ),
    "made one day before due: no before slot": (
        KOLKATA, "2026-06-11 09:30", "2026-06-12 17:00", DEFAULT, [
            ("due", "Fri 2026-06-12 09:00 +0530"),
            ("overdue-1", "Mon 2026-06-15 09:00 +0530"),
            ("overdue-2", "Wed 2026-06-17 09:00 +0530"),
            ("overdue-3", "Tue 2026-06-23 09:00 +0530"),
            ("overdue-4", "Tue 2026-06-30 09:00 +0530"),
            ("overdue-5", "Tue 2026-07-07 09:00 +0530"),
            ("overdue-6", "Tue 2026-07-14 09:00 +0530"),
        ],
    ),
    "made just under two days before due: no before slot": (
        LONDON, "2026-06-10 17:01", "2026-06-12 17:00", DEFAULT, [
            ("due", "Fri 2026-06-12 09:00 +0100"),
            ("overdue-1", "Mon 2026-06-15 09:00 +0100"),
            ("overdue-2", "Wed 2026-06-17 09:00 +0100"),
            ("overdue-3", "Tue 2026-06-23 09:00 +0100"),
            ("overdue-4", "Tue 2026-06-30 09:00 +0100"),
            ("overdue-5", "Tue 2026-07-07 09:00 +0100"),
            ("overdue-6", "Tue 2026-07-14 09:00 +0100"),
        ],
    ),
    "made exactly two days before due: before slot": (
        LONDON, "2026-06-10 08:00", "2026-06-12 08:00", DEFAULT, [
            ("before", "Thu 2026-06-11 09:00 +0100"),
            ("overdue-1", "Mon 2026-06-15 09:00 +0100"),
            ("overdue-2", "Wed 2026-06-17 09:00 +0100"),
            ("overdue-3", "Tue 2026-06-23 09:00 +0100"),
            ("overdue-4", "Tue 2026-06-30 09:00 +0100"),
            ("overdue-5", "Tue 2026-07-07 09:00 +0100"),
            ("overdue-6", "Tue 2026-07-14 09:00 +0100"),
        ],
    ),
    "made on the due day after 09:00: no due slot": (
        NEW_YORK, "2026-06-12 10:00", "2026-06-12 17:00", DEFAULT, [
            ("overdue-1", "Mon 2026-06-15 09:00 -0400"),
            ("overdue-2", "Wed 2026-06-17 09:00 -0400"),
            ("overdue-3", "Tue 2026-06-23 09:00 -0400"),
            ("overdue-4", "Tue 2026-06-30 09:00 -0400"),
            ("overdue-5", "Tue 2026-07-07 09:00 -0400"),
            ("overdue-6", "Tue 2026-07-14 09:00 -0400"),
        ],
    ),
    "due at exactly 09:00 keeps its due slot": (
        KOLKATA, "2026-06-08 10:00", "2026-06-12 09:00", NudgePolicy(max_overdue=1), [
            ("before", "Thu 2026-06-11 09:00 +0530"),
            ("due", "Fri 2026-06-12 09:00 +0530"),
            ("overdue-1", "Mon 2026-06-15 09:00 +0530"),
        ],
    ),
    "due at 08:00: no due slot at 09:00": (
        KOLKATA, "2026-06-08 10:00", "2026-06-12 08:00", NudgePolicy(max_overdue=1), [
            ("before", "Thu 2026-06-11 09:00 +0530"),
            ("overdue-1", "Mon 2026-06-15 09:00 +0530"),
        ],
    ),
    "London spring forward, 29 Mar": (
        LONDON, "2026-03-25 10:00", "2026-03-30 17:00", NudgePolicy(max_overdue=1), [
            ("before", "Fri 2026-03-27 09:00 +0000"),
            ("due", "Mon 2026-03-30 09:00 +0100"),
            ("overdue-1", "Tue 2026-03-31 09:00 +0100"),
        ],
    ),
    "London fall back, 25 Oct": (
        LONDON, "2026-10-21 10:00", "2026-10-26 17:00", NudgePolicy(max_overdue=1), [
            ("before", "Fri 2026-10-23 09:00 +0100"),
            ("due", "Mon 2026-10-26 09:00 +0000"),
            ("overdue-1", "Tue 2026-10-27 09:00 +0000"),
        ],
    ),
    "New York spring forward, 8 Mar": (
        NEW_YORK, "2026-03-04 10:00", "2026-03-09 17:00", NudgePolicy(max_overdue=1), [
            ("before", "Fri 2026-03-06 09:00 -0500"),
            ("due", "Mon 2026-03-09 09:00 -0400"),
            ("overdue-1", "Tue 2026-03-10 09:00 -0400"),
        ],
    ),
    "New York fall back, 1 Nov": (
        NEW_YORK, "2026-10-28 10:00", "2026-11-02 17:00", NudgePolicy(max_overdue=1), [
            ("before", "Fri 2026-10-30 09:00 -0400"),
            ("due", "Mon 2026-11-02 09:00 -0500"),
            ("overdue-1", "Tue 2026-11-03 09:00 -0500"),
        ],
    ),
    "year boundary, no holidays": (
        LONDON, "2026-12-14 10:00", "2026-12-24 17:00", DEFAULT, [
            ("before", "Wed 2026-12-23 09:00 +0000"),
            ("due", "Thu 2026-12-24 09:00 +0000"),
            ("overdue-1", "Fri 2026-12-25 09:00 +0000"),
            ("overdue-2", "Tue 2026-12-29 09:00 +0000"),
            ("overdue-3", "Mon 2027-01-04 09:00 +0000"),
            ("overdue-4", "Mon 2027-01-11 09:00 +0000"),
            ("overdue-5", "Mon 2027-01-18 09:00 +0000"),
            ("overdue-6", "Mon 2027-01-25 09:00 +0000"),
        ],
    ),
    "year boundary, Christmas holidays shift overdue slots": (
        LONDON, "2026-12-14 10:00", "2026-12-24 17:00", CHRISTMAS, [
            ("before", "Wed 2026-12-23 09:00 +0000"),
            ("due", "Thu 2026-12-24 09:00 +0000"),
            ("overdue-1", "Tue 2026-12-29 09:00 +0000"),
            ("overdue-2", "Thu 2026-12-31 09:00 +0000"),
            ("overdue-3", "Thu 2027-01-07 09:00 +0000"),
            ("overdue-4", "Thu 2027-01-14 09:00 +0000"),
            ("overdue-5", "Thu 2027-01-21 09:00 +0000"),
            ("overdue-6", "Thu 2027-01-28 09:00 +0000"),
        ],
    ),
    "due on a holiday: no due slot": (
        NEW_YORK, "2026-12-14 10:00", "2026-12-25 17:00", CHRISTMAS, [
            ("before", "Thu 2026-12-24 09:00 -0500"),
            ("overdue-1", "Tue 2026-12-29 09:00 -0500"),
            ("overdue-2", "Thu 2026-12-31 09:00 -0500"),
            ("overdue-3", "Thu 2027-01-07 09:00 -0500"),
            ("overdue-4", "Thu 2027-01-14 09:00 -0500"),
            ("overdue-5", "Thu 2027-01-21 09:00 -0500"),
            ("overdue-6", "Thu 2027-01-28 09:00 -0500"),
        ],
    ),
    "holidays before the due day move the before slot back": (
        KOLKATA, "2026-12-14 10:00", "2026-12-29 17:00", NudgePolicy(
            max_overdue=1, holidays=CHRISTMAS.holidays
        ), [
            ("before", "Thu 2026-12-24 09:00 +0530"),
            ("due", "Tue 2026-12-29 09:00 +0530"),
            ("overdue-1", "Wed 2026-12-30 09:00 +0530"),
        ],
    ),
    "custom policy: Sunday to Thursday, weekly = 5 working days": (
        KOLKATA, "2026-06-01 10:00", "2026-06-07 17:00", NudgePolicy(
            working_days=frozenset({6, 0, 1, 2, 3}), overdue_working_days=(1, 2), max_overdue=3
        ), [
            ("before", "Thu 2026-06-04 09:00 +0530"),
            ("due", "Sun 2026-06-07 09:00 +0530"),
            ("overdue-1", "Mon 2026-06-08 09:00 +0530"),
            ("overdue-2", "Tue 2026-06-09 09:00 +0530"),
            ("overdue-3", "Tue 2026-06-16 09:00 +0530"),
        ],
    ),
    "no weekly overdue nudges": (
        LONDON, "2026-06-08 10:00", "2026-06-12 17:00", NudgePolicy(overdue_weekly_after=False), [
            ("before", "Thu 2026-06-11 09:00 +0100"),
            ("due", "Fri 2026-06-12 09:00 +0100"),
            ("overdue-1", "Mon 2026-06-15 09:00 +0100"),
            ("overdue-2", "Wed 2026-06-17 09:00 +0100"),
            ("overdue-3", "Tue 2026-06-23 09:00 +0100"),
        ],
    ),
}  # fmt: skip


@pytest.mark.parametrize(("tz", "created", "due", "policy", "expected"), PLANS.values(), ids=PLANS)
def test_plan_slots(tz, created, due, policy, expected):
    assert plan(tz, created, due, policy) == expected


def test_dst_moves_the_utc_instant_not_the_wall_time():
    slots = plan_slots(
        created_at=local(LONDON, "2026-03-25 10:00"),
        due_at=local(LONDON, "2026-03-30 17:00"),
        tz=LONDON,
    )
    assert [slot.at for slot in slots[:2]] == [
        datetime(2026, 3, 27, 9, tzinfo=UTC),
        datetime(2026, 3, 30, 8, tzinfo=UTC),
    ]


def test_slots_carry_kind_seq_and_stable_key_suffix():
    slots = plan_slots(
        created_at=local(LONDON, "2026-06-08 10:00"),
        due_at=local(LONDON, "2026-06-12 17:00"),
        tz=LONDON,
    )
    assert [(slot.kind, slot.seq) for slot in slots] == [
        (NudgeKind.BEFORE, 1),
        (NudgeKind.DUE, 1),
        *((NudgeKind.OVERDUE, seq) for seq in range(1, 7)),
    ]
    assert Slot(NudgeKind.OVERDUE, 3, slots[0].at).key_suffix == "overdue-3"
    assert [slot.key_suffix for slot in slots[:2]] == ["before", "due"]


def test_default_overdue_offsets():
    assert DEFAULT.overdue_offsets() == (1, 3, 7, 12, 17, 22)
    assert NudgePolicy(max_overdue=2).overdue_offsets() == (1, 3)
    assert NudgePolicy(max_overdue=0).overdue_offsets() == ()


def test_policy_accepts_plain_sets_and_stays_hashable():
    policy = NudgePolicy(holidays={date(2026, 12, 25)}, working_days={0, 1, 2})  # type: ignore[arg-type]
    assert policy.holidays == frozenset({date(2026, 12, 25)})
    assert hash(policy) == hash(
        NudgePolicy(holidays=policy.holidays, working_days=policy.working_days)
    )


@pytest.mark.parametrize(
    "changes",
    [
        {"working_days": frozenset()},
        {"working_days": frozenset({7})},
        {"nudge_time": time(8, 0)},
        {"nudge_time": time(17, 30)},
        {"overdue_working_days": (3, 1)},
        {"overdue_working_days": (0, 1)},
        {"max_overdue": -1},
        {"before_min_lead": timedelta(days=-1)},
    ],
)
def test_policy_rejects_nonsense(changes):
    with pytest.raises(ValueError):
        NudgePolicy(**changes)


def test_naive_datetimes_are_rejected():
    with pytest.raises(ValueError):
        plan_slots(created_at=datetime(2026, 6, 8), due_at=datetime(2026, 6, 12), tz=LONDON)
    with pytest.raises(ValueError):
        snoozed(datetime(2026, 6, 8, 9), tz=LONDON)


# (time zone, instant as local wall time or aware ISO, policy, expected local result)
NEXT_WORKING = {
    "Saturday -> Monday 09:00": (LONDON, "2026-06-13 10:00", DEFAULT, "Mon 2026-06-15 09:00 +0100"),
    "Tuesday evening -> Wednesday 09:00": (
        LONDON, "2026-06-16 18:00", DEFAULT, "Wed 2026-06-17 09:00 +0100"
    ),
    "inside hours: unchanged": (LONDON, "2026-06-16 10:00", DEFAULT, "Tue 2026-06-16 10:00 +0100"),
    "early morning -> 09:00 the same day": (
        NEW_YORK, "2026-06-16 06:15", DEFAULT, "Tue 2026-06-16 09:00 -0400"
    ),
    "17:30 is outside": (NEW_YORK, "2026-06-16 17:30", DEFAULT, "Wed 2026-06-17 09:00 -0400"),
    "17:29 is inside": (NEW_YORK, "2026-06-16 17:29", DEFAULT, "Tue 2026-06-16 17:29 -0400"),
    "Friday evening -> Monday": (
        KOLKATA, "2026-06-12 17:45", DEFAULT, "Mon 2026-06-15 09:00 +0530"
    ),
    "Sunday, Kolkata": (KOLKATA, "2026-06-14 10:00", DEFAULT, "Mon 2026-06-15 09:00 +0530"),
    "UTC Saturday is local Friday evening": (
        NEW_YORK, "2026-06-13 02:00+00:00", DEFAULT, "Mon 2026-06-15 09:00 -0400"
    ),
    "UTC Sunday evening is local Monday morning": (
        KOLKATA, "2026-06-14 20:00+00:00", DEFAULT, "Mon 2026-06-15 09:00 +0530"
    ),
    "over the London spring change": (
        LONDON, "2026-03-27 18:00", DEFAULT, "Mon 2026-03-30 09:00 +0100"
    ),
    "over the New York fall back": (
        NEW_YORK, "2026-10-31 12:00", DEFAULT, "Mon 2026-11-02 09:00 -0500"
    ),
    "over Christmas holidays": (
        LONDON, "2026-12-24 18:00", CHRISTMAS, "Tue 2026-12-29 09:00 +0000"
    ),
    "on a holiday": (LONDON, "2027-01-01 10:00", CHRISTMAS, "Mon 2027-01-04 09:00 +0000"),
}  # fmt: skip


@pytest.mark.parametrize(
    ("tz", "after", "policy", "expected"), NEXT_WORKING.values(), ids=NEXT_WORKING
)
def test_next_working_instant(tz, after, policy, expected):
    instant = datetime.fromisoformat(after)
    instant = instant if instant.tzinfo else instant.replace(tzinfo=ZoneInfo(tz))
    assert show(next_working_instant(instant, tz=tz, policy=policy), tz) == expected


# (time zone, nudge instant, policy, expected local result)
SNOOZES = {
    "Friday -> Monday 09:00": (LONDON, "2026-06-12 09:00", DEFAULT, "Mon 2026-06-15 09:00 +0100"),
    "Tuesday afternoon -> Wednesday 09:00": (
        NEW_YORK, "2026-06-16 14:00", DEFAULT, "Wed 2026-06-17 09:00 -0400"
    ),
    "Kolkata Thursday -> Friday": (
        KOLKATA, "2026-06-11 09:00", DEFAULT, "Fri 2026-06-12 09:00 +0530"
    ),
    "over the London spring change": (
        LONDON, "2026-03-27 09:00", DEFAULT, "Mon 2026-03-30 09:00 +0100"
    ),
    "over the London fall back": (
        LONDON, "2026-10-23 09:00", DEFAULT, "Mon 2026-10-26 09:00 +0000"
    ),
    "over the New York spring change": (
        NEW_YORK, "2026-03-06 09:00", DEFAULT, "Mon 2026-03-09 09:00 -0400"
    ),
    "over the New York fall back": (
        NEW_YORK, "2026-10-30 09:00", DEFAULT, "Mon 2026-11-02 09:00 -0500"
    ),
    "over Christmas holidays": (
        LONDON, "2026-12-24 09:00", CHRISTMAS, "Tue 2026-12-29 09:00 +0000"
    ),
    "over New Year": (LONDON, "2026-12-31 09:00", CHRISTMAS, "Mon 2027-01-04 09:00 +0000"),
}  # fmt: skip


@pytest.mark.parametrize(("tz", "at", "policy", "expected"), SNOOZES.values(), ids=SNOOZES)
def test_snoozed(tz, at, policy, expected):
    assert show(snoozed(local(tz, at), tz=tz, policy=policy), tz) == expected


def test_snooze_over_dst_is_not_a_multiple_of_24_hours():
    friday = local(LONDON, "2026-03-27 09:00")
    assert snoozed(friday, tz=LONDON) - friday == timedelta(hours=71)


@pytest.mark.parametrize(
    ("tz", "wall", "expected"),
    [
        (LONDON, "2026-06-16 09:00", True),
        (LONDON, "2026-06-16 08:59", False),
        (LONDON, "2026-06-16 17:29", True),
        (LONDON, "2026-06-16 17:30", False),
        (NEW_YORK, "2026-06-13 10:00", False),
        (KOLKATA, "2026-12-25 10:00", True),
    ],
)
def test_in_working_hours(tz, wall, expected):
    assert in_working_hours(local(tz, wall), tz=tz) is expected


def test_in_working_hours_skips_holidays():
    assert not in_working_hours(local(KOLKATA, "2026-12-25 10:00"), tz=KOLKATA, policy=CHRISTMAS)


# Properties over random commitments, time zones, working weeks and holidays.

INSTANTS = st.datetimes(
    min_value=datetime(2020, 1, 1), max_value=datetime(2035, 12, 31), timezones=st.just(UTC)
)


@st.composite
def policies(draw: st.DrawFn, near: datetime) -> NudgePolicy:
    """The default policy or another working week, with holidays around ``near``."""
    working_days = draw(
        st.one_of(st.just(DEFAULT.working_days), st.frozensets(st.integers(0, 6), min_size=1))
    )
    offsets = st.integers(-15, 60).map(lambda days: near.date() + timedelta(days=days))
    return NudgePolicy(
        working_days=working_days, holidays=draw(st.frozensets(offsets, max_size=10))
    )


@st.composite
def commitments(draw: st.DrawFn) -> tuple[datetime, datetime, str, NudgePolicy]:
    created_at = draw(INSTANTS)
    due_at = created_at + draw(st.timedeltas(timedelta(minutes=1), timedelta(days=60)))
    return created_at, due_at, draw(st.timezone_keys()), draw(policies(due_at))


def is_nudge_time(at: datetime, tz: str, policy: NudgePolicy) -> bool:
    wall = at.astimezone(ZoneInfo(tz))
    return policy.is_working_day(wall.date()) and wall.time() == policy.nudge_time


@given(commitments())
def test_slot_properties(commitment):
    created_at, due_at, tz, policy = commitment
    slots = plan_slots(created_at=created_at, due_at=due_at, tz=tz, policy=policy)
    instants = [slot.at for slot in slots]
    assert instants == sorted(set(instants))
    assert all(at.tzinfo is UTC and is_nudge_time(at, tz, policy) for at in instants)
    assert all(at > created_at for at in instants)
    kinds = [slot.kind for slot in slots]
    order = list(NudgeKind)
    assert kinds == sorted(kinds, key=order.index)
    assert kinds.count(NudgeKind.BEFORE) <= 1
    assert kinds.count(NudgeKind.DUE) <= 1
    overdue = [slot for slot in slots if slot.kind is NudgeKind.OVERDUE]
    assert [slot.seq for slot in overdue] == list(range(1, policy.max_overdue + 1))
    assert all(slot.at > due_at for slot in overdue)
    assert len({slot.key_suffix for slot in slots}) == len(slots)


@given(INSTANTS, st.timezone_keys(), st.data())
def test_next_working_instant_is_the_earliest(after, tz, data):
    policy = data.draw(policies(after))
    result = next_working_instant(after, tz=tz, policy=policy)
    assert result >= after
    assert in_working_hours(result, tz=tz, policy=policy)
    if result != after:
        start, end = after.astimezone(ZoneInfo(tz)), result.astimezone(ZoneInfo(tz))
        assert end.time() == policy.day_start
        between = (start.date() + timedelta(days=n) for n in range(1, (end - start).days + 1))
        assert not any(policy.is_working_day(day) for day in between if day < end.date())
        if end.date() > start.date() and policy.is_working_day(start.date()):
            assert start.time() >= policy.day_end


@given(INSTANTS, st.timezone_keys(), st.data())
def test_snoozed_is_the_next_working_day(at, tz, data):
    policy = data.draw(policies(at))
    result = snoozed(at, tz=tz, policy=policy)
    assert is_nudge_time(result, tz, policy)
    start, end = at.astimezone(ZoneInfo(tz)).date(), result.astimezone(ZoneInfo(tz)).date()
    assert end > start
    assert not any(
        policy.is_working_day(start + timedelta(days=n)) for n in range(1, (end - start).days)
    )
