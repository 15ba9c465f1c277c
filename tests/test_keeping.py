"""Tests for bot.commitments.lifecycle: scenarios users recognise, refusals, and properties of any
history."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.commitments.lifecycle import (
    CommitmentState,
    Event,
    EventKind,
    Outcome,
    Status,
    TransitionError,
    check_transition,
    counts_in_period,
    derive_state,
    outcome,
)


@dataclass(frozen=True)
class SayDo:
    """Outcome counts for a period; withdrawn (by the due date) and pending are not in the ratio."""

    kept: int
    late: int
    missed: int
    withdrawn: int
    pending: int

    @property
    def ratio(self) -> float | None:
        """kept / (kept + late + missed), or None when nothing has been judged."""
        judged = self.kept + self.late + self.missed
        return self.kept / judged if judged else None


def say_do(
    states: Iterable[CommitmentState], *, now: datetime, start: datetime, end: datetime
) -> SayDo:
    """Count the outcomes at `now` of the commitments due in [start, end): the period rules in
    plain Python, for these tests (the reports count in SQL, see test_report_agreement)."""
    tally = dict.fromkeys(Outcome, 0)
    for state in states:
        if counts_in_period(state, start, end):
            tally[outcome(state, now=now)] += 1
    return SayDo(
        kept=tally[Outcome.KEPT],
        late=tally[Outcome.LATE],
        missed=tally[Outcome.MISSED],
        withdrawn=tally[Outcome.NOT_COUNTED],
        pending=tally[Outcome.PENDING],
    )


K = EventKind
DUE = datetime(2025, 3, 14, 17, 0, tzinfo=UTC)
DAY = timedelta(days=1)
OWNER, PARTNER = "U_OWNER", "U_PARTNER"


def created(*, due: datetime = DUE, at: datetime = DUE - 7 * DAY, proposed: bool = False) -> Event:
    return Event(K.CREATED, at, PARTNER if proposed else OWNER, due_at=due, proposed=proposed)


def ev(kind: EventKind, at: datetime, *, due: datetime | None = None, note: str | None = None):
    return Event(kind, at, OWNER, due_at=due, note=note)


def judge(*events: Event, now: datetime = DUE + 30 * DAY) -> Outcome:
    return outcome(derive_state(events), now=now)


# --- Scenarios -------------------------------------------------------------------------------


def test_delivered_on_time_is_kept() -> None:
    state = derive_state([created(), ev(K.DELIVERED, DUE - DAY, note="https://doc")])
    assert state.status is Status.DELIVERED
    assert state.evidence == "https://doc"
    assert outcome(state, now=DUE + DAY) is Outcome.KEPT


def test_delivered_at_the_deadline_instant_is_kept() -> None:
    assert judge(created(), ev(K.DELIVERED, DUE)) is Outcome.KEPT


def test_delivered_a_day_late_is_late() -> None:
    assert judge(created(), ev(K.DELIVERED, DUE + DAY)) is Outcome.LATE


def test_moved_before_due_then_delivered_by_new_date_is_kept() -> None:
    new_due = DUE + 5 * DAY
    state = derive_state(
        [created(), ev(K.MOVED, DUE - 2 * DAY, due=new_due), ev(K.DELIVERED, new_due - DAY)]
    )
    assert (state.due_at, state.judged_due_at, state.original_due_at) == (new_due, new_due, DUE)
    assert state.renegotiated and state.date_changes == 1
    assert outcome(state, now=new_due) is Outcome.KEPT


def test_moved_at_the_deadline_instant_counts_as_before() -> None:
    new_due = DUE + 2 * DAY
    state = derive_state([created(), ev(K.MOVED, DUE, due=new_due)])
    assert state.judged_due_at == new_due and state.renegotiated


def test_moved_after_due_then_delivered_by_new_date_is_late() -> None:
    new_due = DUE + 5 * DAY
    events = [created(), ev(K.MOVED, DUE + DAY, due=new_due)]
    state = derive_state(events)
    assert (state.due_at, state.judged_due_at) == (new_due, DUE)
    assert not state.renegotiated and state.date_changes == 1
    assert outcome(state, now=DUE + 2 * DAY) is Outcome.MISSED
    assert judge(*events, ev(K.DELIVERED, new_due - DAY)) is Outcome.LATE


def test_second_move_before_the_new_deadline_extends_again() -> None:
    first, second = DUE + 3 * DAY, DUE + 10 * DAY
    events = [created(), ev(K.MOVED, DUE - DAY, due=first), ev(K.MOVED, first - DAY, due=second)]
    state = derive_state(events)
    assert state.judged_due_at == second and state.date_changes == 2
    assert judge(*events, ev(K.DELIVERED, second)) is Outcome.KEPT


def test_second_move_after_a_late_first_move_does_not_rescue() -> None:
    first, second = DUE + 3 * DAY, DUE + 10 * DAY
    state = derive_state(
        [created(), ev(K.MOVED, DUE + DAY, due=first), ev(K.MOVED, first - DAY, due=second)]
    )
    assert (state.due_at, state.judged_due_at) == (second, DUE)


def test_never_delivered_is_pending_until_due_then_missed() -> None:
    state = derive_state([created()])
    assert outcome(state, now=DUE - DAY) is Outcome.PENDING
    assert outcome(state, now=DUE) is Outcome.PENDING
    assert outcome(state, now=DUE + timedelta(seconds=1)) is Outcome.MISSED


def test_missed_then_delivered_becomes_late() -> None:
    assert judge(created(), ev(K.DELIVERED, DUE + 3 * DAY)) is Outcome.LATE


def test_withdrawn_before_due_is_not_counted_but_listed() -> None:
    state = derive_state([created(), ev(K.WITHDRAWN, DUE - DAY, note="Project cancelled")])
    assert outcome(state, now=DUE + DAY) is Outcome.NOT_COUNTED
    assert counts_in_period(state, DUE - DAY, DUE + DAY)
    result = say_do([state], now=DUE + DAY, start=DUE - DAY, end=DUE + DAY)
    assert result == SayDo(kept=0, late=0, missed=0, withdrawn=1, pending=0)
    assert result.ratio is None


def test_withdrawn_after_due_is_missed() -> None:
    assert judge(created(), ev(K.WITHDRAWN, DUE + DAY)) is Outcome.MISSED


def test_proposed_never_counts_even_when_past_due() -> None:
    state = derive_state([created(proposed=True)])
    assert state.status is Status.PROPOSED
    assert outcome(state, now=DUE + DAY) is Outcome.NOT_COUNTED
    assert not counts_in_period(state, DUE - DAY, DUE + DAY)


def test_accepted_proposal_counts() -> None:
    state = derive_state([created(proposed=True), ev(K.ACCEPTED, DUE - 6 * DAY)])
    assert state.status is Status.OPEN
    assert counts_in_period(state, DUE - DAY, DUE + DAY)


def test_declined_never_counts() -> None:
    state = derive_state([created(proposed=True), ev(K.DECLINED, DUE - 6 * DAY)])
    assert outcome(state, now=DUE + DAY) is Outcome.NOT_COUNTED
    assert not counts_in_period(state, DUE - DAY, DUE + DAY)


def test_counter_proposal_sets_the_judged_date_whenever_it_happens() -> None:
    new_due = DUE + 4 * DAY
    state = derive_state(
        [created(proposed=True), ev(K.MOVED, DUE + DAY, due=new_due), ev(K.ACCEPTED, DUE + DAY)]
    )
    assert (state.status, state.judged_due_at) == (Status.OPEN, new_due)
    assert state.date_changes == 1 and not state.renegotiated


def test_confirmed_delivery() -> None:
    state = derive_state([created(), ev(K.DELIVERED, DUE), ev(K.CONFIRMED, DUE + DAY)])
    assert state.confirmed
    assert outcome(state, now=DUE + DAY) is Outcome.KEPT


def test_disputed_delivery_reopens_and_is_missed_if_past_due() -> None:
    events = [
        created(),
        ev(K.DELIVERED, DUE - DAY, note="sent it"),
        ev(K.DISPUTED, DUE + DAY, note="Not yet: the attachment is empty"),
    ]
    state = derive_state(events)
    assert state.status is Status.OPEN
    assert (state.delivered_at, state.evidence, state.confirmed) == (None, None, False)
    assert outcome(state, now=DUE + DAY) is Outcome.MISSED
    assert judge(*events, ev(K.DELIVERED, DUE + 2 * DAY)) is Outcome.LATE


def test_disputed_before_due_then_redelivered_in_time_is_kept() -> None:
    events = [created(), ev(K.DELIVERED, DUE - 3 * DAY), ev(K.DISPUTED, DUE - 2 * DAY)]
    assert judge(*events, now=DUE - DAY) is Outcome.PENDING
    assert judge(*events, ev(K.DELIVERED, DUE - DAY)) is Outcome.KEPT


def test_reopen_is_allowed_even_after_confirmation() -> None:
    state = derive_state(
        [
            created(),
            ev(K.DELIVERED, DUE - DAY),
            ev(K.CONFIRMED, DUE - DAY),
            ev(K.REOPENED, DUE + DAY),
        ]
    )
    assert state.status is Status.OPEN and not state.confirmed
    assert outcome(state, now=DUE + DAY) is Outcome.MISSED


def test_ratio_over_a_period_with_boundaries() -> None:
    start, end = datetime(2025, 3, 1, tzinfo=UTC), datetime(2025, 4, 1, tzinfo=UTC)
    now = end + DAY

    def due(at: datetime, *rest: Event) -> CommitmentState:
        return derive_state([created(due=at, at=at - 10 * DAY), *rest])

    states = [
        due(start, ev(K.DELIVERED, start)),  # kept, on the inclusive start
        due(DUE, ev(K.DELIVERED, DUE - DAY)),  # kept
        due(DUE, ev(K.DELIVERED, DUE + DAY)),  # late
        due(DUE),  # missed
        due(DUE, ev(K.WITHDRAWN, DUE - DAY)),  # listed as withdrawn
        due(DUE, ev(K.WITHDRAWN, DUE + DAY)),  # missed
        due(end),  # exclusive end: next period
        due(start - timedelta(seconds=1)),  # previous period
        derive_state([created(proposed=True)]),  # never counts
    ]
    result = say_do(states, now=now, start=start, end=end)
    assert result == SayDo(kept=2, late=1, missed=2, withdrawn=1, pending=0)
    assert result.ratio == pytest.approx(2 / 5)


def test_pending_is_not_in_the_ratio() -> None:
    states = [derive_state([created()]), derive_state([created(), ev(K.DELIVERED, DUE - DAY)])]
    result = say_do(states, now=DUE - DAY, start=DUE - DAY, end=DUE + DAY)
    assert result == SayDo(kept=1, late=0, missed=0, withdrawn=0, pending=1)
    assert result.ratio == 1.0


def test_honest_move_changes_the_period_a_late_move_does_not() -> None:
    next_month = DUE + 30 * DAY
    honest = derive_state([created(), ev(K.MOVED, DUE - DAY, due=next_month)])
    late = derive_state([created(), ev(K.MOVED, DUE + DAY, due=next_month)])
    assert not counts_in_period(honest, DUE - DAY, DUE + DAY)
    assert counts_in_period(late, DUE - DAY, DUE + DAY)


def test_as_columns_projects_every_field() -> None:
    state = derive_state([created(), ev(K.DELIVERED, DUE, note="done")])
    assert state.as_columns() == {
        "status": "delivered",
        "original_due_at": DUE,
        "due_at": DUE,
        "judged_due_at": DUE,
        "delivered_at": DUE,
        "confirmed": False,
        "withdrawn_at": None,
        "date_changes": 0,
        "renegotiated": False,
        "evidence": "done",
    }
    assert type(state.as_columns()["status"]) is str


# --- Refusals --------------------------------------------------------------------------------

BEFORE = DUE - DAY
REFUSALS: list[tuple[list[Event], EventKind, str]] = [
    ([created(proposed=True)], K.DELIVERED, "only a proposal, so it can't be delivered"),
    ([created(proposed=True)], K.WITHDRAWN, "decline it instead"),
    ([created()], K.CONFIRMED, "hasn't been delivered yet"),
    ([created()], K.DISPUTED, "hasn't been delivered yet"),
    ([created()], K.REOPENED, "hasn't been delivered yet"),
    ([created()], K.ACCEPTED, "already accepted"),
    ([created()], K.DECLINED, "withdraw it instead"),
    ([created()], K.CREATED, "already exists"),
    ([created(), ev(K.DELIVERED, BEFORE)], K.MOVED, "already delivered, so it can't be moved"),
    ([created(), ev(K.DELIVERED, BEFORE)], K.WITHDRAWN, "can't be withdrawn"),
    ([created(), ev(K.DELIVERED, BEFORE)], K.DELIVERED, "It's already delivered."),
    (
        [created(), ev(K.DELIVERED, BEFORE), ev(K.CONFIRMED, BEFORE)],
        K.DISPUTED,
        "already confirmed as received, so it can't be disputed",
    ),
    (
        [created(), ev(K.DELIVERED, BEFORE), ev(K.CONFIRMED, BEFORE)],
        K.CONFIRMED,
        "already been confirmed",
    ),
    ([created(), ev(K.WITHDRAWN, BEFORE)], K.MOVED, "It was withdrawn, so it can't be moved."),
    ([created(), ev(K.WITHDRAWN, BEFORE)], K.DELIVERED, "withdrawn, so it can't be delivered"),
    ([created(proposed=True), ev(K.DECLINED, BEFORE)], K.ACCEPTED, "declined, so it can't be"),
    ([created(proposed=True), ev(K.DECLINED, BEFORE)], K.MOVED, "declined, so it can't be"),
]


@pytest.mark.parametrize(("history", "kind", "message"), REFUSALS)
def test_refused_transitions_are_friendly(
    history: list[Event], kind: EventKind, message: str
) -> None:
    state = derive_state(history)
    with pytest.raises(TransitionError, match=message):
        check_transition(state, kind)
    due = DUE + DAY if kind in (K.CREATED, K.MOVED) else None
    with pytest.raises(TransitionError, match=message):
        derive_state([*history, ev(kind, DUE, due=due)])


@pytest.mark.parametrize(
    ("events", "message"),
    [
        ([], "start with its creation"),
        ([ev(K.DELIVERED, DUE)], "start with its creation"),
        ([created(), ev(K.DELIVERED, DUE - 8 * DAY)], "time order"),
        ([created(), ev(K.MOVED, DUE, due=DUE)], "later than now"),
    ],
)
def test_impossible_histories(events: list[Event], message: str) -> None:
    with pytest.raises(TransitionError, match=message):
        derive_state(events)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"kind": K.CREATED, "at": DUE},
        {"kind": K.DELIVERED, "at": DUE, "due_at": DUE},
        {"kind": K.ACCEPTED, "at": DUE, "proposed": True},
        {"kind": K.DELIVERED, "at": DUE.replace(tzinfo=None)},
    ],
)
def test_malformed_events(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        Event(actor_id=OWNER, **kwargs)


# --- Properties ------------------------------------------------------------------------------

T0 = datetime(2025, 1, 1, tzinfo=UTC)
HOUR = timedelta(hours=1)
hours = st.integers(min_value=0, max_value=72)


def allowed(state: CommitmentState) -> list[EventKind]:
    kinds = []
    for kind in EventKind:
        try:
            check_transition(state, kind)
        except TransitionError:
            continue
        kinds.append(kind)
    return kinds


@st.composite
def histories(draw: st.DrawFn) -> list[Event]:
    """Valid histories, built by only ever taking an allowed transition."""
    at = T0 + draw(hours) * HOUR
    events = [
        Event(K.CREATED, at, OWNER, due_at=at + draw(hours) * HOUR, proposed=draw(st.booleans()))
    ]
    for _ in range(draw(st.integers(min_value=0, max_value=8))):
        kinds = allowed(derive_state(events))
        if not kinds:
            break
        kind = draw(st.sampled_from(kinds))
        at += draw(hours) * HOUR
        due = at + draw(st.integers(min_value=1, max_value=72)) * HOUR if kind is K.MOVED else None
        events.append(Event(kind, at, draw(st.sampled_from([OWNER, PARTNER])), due_at=due))
    return events


instants = st.integers(min_value=-24, max_value=800).map(lambda h: T0 + h * HOUR)


def outcome_from_columns(row: dict[str, Any], now: datetime) -> Outcome:
    """The SQL rules from the module docstring, applied to a projected row."""
    status, judged = row["status"], row["judged_due_at"]
    if status == "delivered":
        return Outcome.KEPT if row["delivered_at"] <= judged else Outcome.LATE
    if status == "open":
        return Outcome.MISSED if now > judged else Outcome.PENDING
    if status == "withdrawn" and row["withdrawn_at"] > judged:
        return Outcome.MISSED
    return Outcome.NOT_COUNTED


@given(histories(), instants)
def test_valid_histories_derive_consistently(events: list[Event], now: datetime) -> None:
    state = derive_state(events)
    row = state.as_columns()
    assert outcome(state, now=now) is outcome_from_columns(row, now)
    assert state.date_changes == sum(e.kind is K.MOVED for e in events)
    assert (state.delivered_at is not None) == (state.status is Status.DELIVERED)
    assert (state.withdrawn_at is not None) == (state.status is Status.WITHDRAWN)
    assert state.judged_due_at <= state.due_at
    assert not state.confirmed or state.status is Status.DELIVERED
    for prefix in range(1, len(events)):
        check_transition(derive_state(events[:prefix]), events[prefix].kind)


@given(st.lists(histories(), max_size=12), instants, instants, instants)
def test_say_do_counts_add_up(
    many: list[list[Event]], now: datetime, start: datetime, end: datetime
) -> None:
    states = [derive_state(events) for events in many]
    in_period = [s for s in states if counts_in_period(s, start, end)]
    result = say_do(states, now=now, start=start, end=end)
    total = result.kept + result.late + result.missed + result.withdrawn + result.pending
    assert total == len(in_period)
    assert all(s.status not in (Status.PROPOSED, Status.DECLINED) for s in in_period)
    judged = result.kept + result.late + result.missed
    assert result.ratio == (result.kept / judged if judged else None)
