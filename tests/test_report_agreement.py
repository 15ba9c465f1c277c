"""The reports' SQL and `bot.commitments.lifecycle` agree on every commitment.

Kept, late, missed, withdrawn and pending are decided in Python
(`bot.commitments.lifecycle.outcome`) and, for speed, again in the SQL of `bot.reports.figures` (the
weekly summary, `/saydo stats`, the Home tab) and `bot.coffee.service` (who keeps their word, for
coffee rounds). Hypothesis writes random histories through the domain functions (`log_commitment`,
`change_commitment`) to a real database, then reads the figures back through the very functions the
reports use and compares them with `keeping`'s verdict for each commitment. Each commitment has its
own owner, so a person's counts are one commitment's verdict.

All instants are built from fixed dates and Saydo's clock is pinned while the test runs, so the
verdicts do not depend on the day it runs.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.coffee import service as coffee
from bot.commitments.lifecycle import (
    Event,
    EventKind,
    Outcome,
    TransitionError,
    check_transition,
    counts_in_period,
    derive_state,
    outcome,
)
from bot.commitments.service import (
    change_commitment,
    ensure_partnership,
    log_commitment,
    save_person,
)
from bot.refusal import Refusal
from bot.reports import figures as reports
from storage import clock

T0 = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)  # a Monday; every history starts here
HOUR = timedelta(hours=1)
# Week boundaries around the histories: the trend the summary and `/saydo stats` read.
WEEKS = tuple(T0 - timedelta(days=7) + timedelta(days=7 * n) for n in range(7))
# When each event happens, in hours from the deadline in force (never before the previous
# event), and due dates, in hours after the moment they are set: small and repeated, so that
# events often land exactly on a deadline or a day before it (the boundary cases of "by" and
# of "early").
FROM_DEADLINE = st.sampled_from([-72, -25, -24, -23, -1, 0, 0, 0, 1, 25, 24 * 8])
DUE_OFFSETS = st.sampled_from([1, 6, 24, 25, 48, 72, 24 * 8, 24 * 15])
KINDS = st.sampled_from(
    [
        EventKind.ACCEPTED,
        EventKind.DECLINED,
        EventKind.MOVED,
        EventKind.DELIVERED,
        EventKind.CONFIRMED,
        EventKind.DISPUTED,
        EventKind.REOPENED,
        EventKind.WITHDRAWN,
    ]
)
RECIPIENT_ACTIONS = {EventKind.CONFIRMED, EventKind.DISPUTED}


@dataclass(frozen=True)
class Step:
    kind: EventKind  # tried as is when `wild` (often refused), else only for its position:
    wild: bool  # the nth of the kinds `keeping` allows at that moment
    from_deadline_hours: int  # from the deadline in force, at the earliest the previous event
    due_hours: int  # a move's new date, after the move


WILD = st.sampled_from([False, False, False, True])  # a quarter of the steps may be refused
HISTORY = st.tuples(
    st.booleans(),  # proposed by someone else (not logged by the owner)
    DUE_OFFSETS,
    st.lists(st.builds(Step, KINDS, WILD, FROM_DEADLINE, DUE_OFFSETS), max_size=6),
)
HISTORIES = st.lists(HISTORY, min_size=1, max_size=6)
REPORT_AT = st.sampled_from([24 * n + h for n in (0, 1, 3, 8, 13, 20, 34) for h in (0, 9)])


@pytest.fixture
def pinned_clock():
    clock.move_to(T0)
    yield
    clock.set_offset(timedelta(0))


_runs = itertools.count()


def _possible(state, pick: int) -> EventKind | None:
    """One of the kinds `keeping` allows in `state` (chosen by `pick`), or None."""
    allowed = []
    for kind in list(EventKind)[1:]:  # all but CREATED
        try:
            check_transition(state, kind)
        except TransitionError:
            continue
        allowed.append(kind)
    return allowed[pick % len(allowed)] if allowed else None


def _expected_tallies(states, report_at):
    """Per owner and week: the Tally `keeping` gives each commitment (kept early apart)."""
    expected = {}
    for owner_id, state in states.items():
        for week, (start, end) in enumerate(itertools.pairwise(WEEKS)):
            if not counts_in_period(state, start, end):
                continue
            verdict = outcome(state, now=report_at)
            early = verdict is Outcome.KEPT and (
                state.delivered_at <= state.judged_due_at - reports.EARLY
            )
            expected[owner_id, week] = reports.Tally(
                kept=int(verdict is Outcome.KEPT),
                late=int(verdict is Outcome.LATE),
                missed=int(verdict is Outcome.MISSED),
                withdrawn=int(verdict is Outcome.NOT_COUNTED),
                pending=int(verdict is Outcome.PENDING),
                early=int(early),
            )
    return expected


@settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(histories=HISTORIES, report_hours=REPORT_AT)
def test_report_counts_equal_keepings_verdicts(engine, pinned_clock, histories, report_hours):
    run = next(_runs)
    team = f"T{run:04d}"
    partnership = ensure_partnership(engine, team_id=team, channel_id="C0P", name=f"p{run}")

    def person(n):
        return save_person(
            engine,
            team_id=team,
            user_id=f"U{run}X{n}",
            name=f"P{n}",
            tz="UTC",
            locale=None,
            now=T0,
        )

    recipient = person("R")
    states = {}
    for n, (proposed, due_hours, steps) in enumerate(histories):
        owner = person(n)
        creator = recipient if proposed else owner
        due_at = T0 + due_hours * HOUR
        logged = log_commitment(
            engine,
            partnership=partnership,
            creator=creator,
            owner=owner,
            recipient=recipient,
            title=f"item {n}",
            due_at=due_at,
            has_time=True,
            now=T0,
        ).commitment
        events = [Event(EventKind.CREATED, T0, creator.user_id, due_at=due_at, proposed=proposed)]
        at = T0
        for step in steps:
            state = derive_state(events)
            at = max(at, state.judged_due_at + step.from_deadline_hours * HOUR)
            kind = step.kind if step.wild else _possible(state, list(EventKind).index(step.kind))
            if kind is None:
                continue
            actor = recipient if kind in RECIPIENT_ACTIONS else owner
            new_due = at + step.due_hours * HOUR if kind is EventKind.MOVED else None
            event = Event(kind, at, actor.user_id, due_at=new_due)
            try:
                derive_state([*events, event])
                allowed = True
            except TransitionError:
                allowed = False
            try:
                change_commitment(
                    engine,
                    team_id=team,
                    ref=logged.ref,
                    actor=actor,
                    kind=kind,
                    now=at,
                    due_at=new_due,
                )
                refused = False
            except Refusal:
                refused = True
            assert refused is not allowed, (step, events)
            if allowed:
                events.append(event)
        states[owner.id] = derive_state(events)

    report_at = T0 + report_hours * HOUR
    expected = _expected_tallies(states, report_at)

    # The tallies behind the weekly summary, `/saydo stats` and their trends, by person and week.
    by_week = reports.tallies(
        engine,
        partnership_id=partnership.id,
        bounds=WEEKS,
        now=report_at,
        by_person=True,
        renegotiated=True,
    )
    found = {
        (owner.person_id, week): tally
        for owner, weeks in by_week.series.items()
        for week, tally in enumerate(weeks)
        if tally != reports.EMPTY
    }
    assert found == expected
    renegotiated = [
        sum(
            1
            for state in states.values()
            if state.renegotiated and counts_in_period(state, start, end)
        )
        for start, end in itertools.pairwise(WEEKS)
    ]
    assert list(by_week.renegotiated) == renegotiated

    # The weekly summary's own read, for each week: everyone, each person, the withdrawn list.
    for week, (start, end) in enumerate(itertools.pairwise(WEEKS)):
        figures = reports.figures(
            engine, partnership_id=partnership.id, start=start, end=end, now=report_at
        )
        people = figures.people
        by_person = {p.owner.person_id: p.tally for p in people if p.tally != reports.EMPTY}
        assert by_person == {o: t for (o, w), t in expected.items() if w == week}
        withdrawn = sorted(item.ref for item in figures.withdrawn)
        assert len(withdrawn) == sum(t.withdrawn for (_, w), t in expected.items() if w == week)

    # The Home tab's own figures (last 30 and 90 days up to now) and coffee's say/do per member.
    ninety = reports.person_ratios(
        engine, person_ids=list(states), partnership_id=partnership.id, now=report_at
    ).last_90
    judged = [
        outcome(state, now=report_at)
        for state in states.values()
        if counts_in_period(state, report_at - timedelta(days=90), report_at)
    ]
    assert (ninety.kept, ninety.late, ninety.missed, ninety.withdrawn, ninety.pending) == (
        judged.count(Outcome.KEPT),
        judged.count(Outcome.LATE),
        judged.count(Outcome.MISSED),
        judged.count(Outcome.NOT_COUNTED),
        judged.count(Outcome.PENDING),
    )
    start = T0 - timedelta(days=7)
    members = coffee.say_do_by_member(
        engine, partnership_id=partnership.id, start=start, now=report_at
    )
    for owner_id, state in states.items():
        tally = members.get(owner_id, coffee.Tally(0, 0, 0))
        verdict = (
            outcome(state, now=report_at)
            if counts_in_period(state, start, report_at)
            else Outcome.NOT_COUNTED
        )
        assert (tally.kept, tally.late, tally.missed) == (
            int(verdict is Outcome.KEPT),
            int(verdict is Outcome.LATE),
            int(verdict is Outcome.MISSED),
        ), (state, report_at)
