"""Keeping your word: how a commitment's history decides whether it was kept.

A commitment is an append-only list of events (created, accepted, declined, moved, delivered,
confirmed, disputed, reopened, withdrawn), each with who did it and when. Its state is always
derived from those events by `derive_state`; nothing else is stored as truth.

Outcomes
--------
- **Kept**: delivered by the due date in force. "By" is inclusive: delivering at the exact
  deadline instant is kept.
- **Late**: delivered after the due date in force.
- **Missed**: not delivered and past due. It stays missed until delivered, then it is late.
- **Pending**: open and not yet past due (at the deadline instant it is still pending).
- **Not counted**: proposed or declined commitments, and those withdrawn by their due date.
  Withdrawn ones are still listed (the reports' `withdrawn`). Withdrawn after the due date:
  missed.

The say/do ratio for a period is kept / (kept + late + missed), over commitments whose judged
due date falls in [start, end). It is undefined (None) when nothing has been judged yet.

Due dates
---------
- `due_at` is the date in force now (the latest move); `original_due_at` the first one.
- `judged_due_at` is the deadline kept/late is judged against. A move agreed while the deadline
  had not yet passed (moved at <= judged deadline, so a move at the exact instant counts as
  before) is honest renegotiation: the new date becomes the judged deadline. A second move before
  that new deadline extends it again.
- A move after the deadline passed changes `due_at` (the new plan) but not `judged_due_at`: it
  cannot rescue the commitment, and delivering by the new date is late.
- The new date of a move must be later than the move itself.
- Moving while still proposed is a counter-proposal: allowed, it sets both `due_at` and
  `judged_due_at` whatever the time (nothing was promised yet), counts in `date_changes` and does
  not mark the commitment `renegotiated`.
- Periods use `judged_due_at`: a renegotiated commitment belongs to the period of its agreed date,
  and moving a date after the fact cannot carry a miss out of the period where it happened.

Flows
-----
- A commitment logged on someone else's behalf starts *proposed*; the owner accepts (open) or
  declines (terminal, never counted). A proposal is dropped by declining it, not withdrawing it.
  Accepting a proposal whose date has passed makes it count against that date at once.
- Delivery may be confirmed ("Received") or disputed ("Not yet"). A dispute reopens the commitment
  by itself: the delivery no longer counts (past due means missed again) and a later delivery
  counts at its own time. A confirmed delivery cannot be disputed or confirmed twice.
- Reopened is a separate owner/admin action on a delivered commitment (confirmed or not), with the
  same effect as a dispute.
- Delivered commitments cannot be moved or withdrawn; withdrawn and declined are terminal.

Columns for SQL
---------------
`CommitmentState.as_columns()` projects the state onto a denormalised row kept in step with the
events, so aggregates need no replay. With `now` the reporting instant:

- kept: status = 'delivered' and delivered_at <= judged_due_at
- late: status = 'delivered' and delivered_at > judged_due_at
- missed: (status = 'open' and now > judged_due_at)
  or (status = 'withdrawn' and withdrawn_at > judged_due_at)
- pending: status = 'open' and now <= judged_due_at
- withdrawn (listed, not counted): status = 'withdrawn' and withdrawn_at <= judged_due_at
- in period: status not in ('proposed', 'declined') and start <= judged_due_at < end

`delivered_at` is set only while the status is delivered.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields, replace
from datetime import datetime
from enum import StrEnum
from itertools import pairwise
from typing import Any


class EventKind(StrEnum):
    CREATED = "created"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    MOVED = "moved"
    DELIVERED = "delivered"
    CONFIRMED = "confirmed"
    DISPUTED = "disputed"
    REOPENED = "reopened"
    WITHDRAWN = "withdrawn"


class Status(StrEnum):
    PROPOSED = "proposed"
    OPEN = "open"
    DELIVERED = "delivered"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"


class Outcome(StrEnum):
    KEPT = "kept"
    LATE = "late"
    MISSED = "missed"
    PENDING = "pending"
    NOT_COUNTED = "not_counted"


class TransitionError(ValueError):
    """An event that isn't possible now; the message is fit to show the user."""


def _is_aware(moment: datetime) -> bool:
    return moment.tzinfo is not None and moment.utcoffset() is not None


@dataclass(frozen=True)
class Event:
    """One change to a commitment: what, when (aware UTC) and by whom."""

    kind: EventKind
    at: datetime
    actor_id: str
    due_at: datetime | None = None
    proposed: bool = False
    note: str | None = None

    def __post_init__(self) -> None:
        dated = self.kind in (EventKind.CREATED, EventKind.MOVED)
        if dated != (self.due_at is not None):
            raise ValueError(f"A {self.kind} event {'needs' if dated else 'takes no'} due date.")
        if self.proposed and self.kind is not EventKind.CREATED:
            raise ValueError("Only a created event can be proposed.")
        if not _is_aware(self.at) or (self.due_at is not None and not _is_aware(self.due_at)):
            raise ValueError("Event times must be timezone-aware.")


@dataclass(frozen=True)
class CommitmentState:
    """A commitment as its events leave it."""

    status: Status
    original_due_at: datetime
    due_at: datetime
    judged_due_at: datetime
    delivered_at: datetime | None
    confirmed: bool
    withdrawn_at: datetime | None
    date_changes: int
    renegotiated: bool
    evidence: str | None

    def as_columns(self) -> dict[str, Any]:
        """Every field as a plain column value (status as its string)."""
        return {**asdict(self), "status": self.status.value}

    @classmethod
    def from_columns(cls, row: Any) -> CommitmentState:
        """The state from anything with these fields as attributes (a `commitment` row, a
        view, a result row selecting `STATE_COLUMNS`)."""
        values = {name: getattr(row, name) for name in STATE_COLUMNS}
        return cls(**{**values, "status": Status(values["status"])})


# The denormalised `commitment` columns kept in step with the events: the state's fields.
STATE_COLUMNS: tuple[str, ...] = tuple(f.name for f in fields(CommitmentState))


_ALLOWED: dict[Status, frozenset[EventKind]] = {
    Status.PROPOSED: frozenset({EventKind.ACCEPTED, EventKind.DECLINED, EventKind.MOVED}),
    Status.OPEN: frozenset({EventKind.MOVED, EventKind.DELIVERED, EventKind.WITHDRAWN}),
    Status.DELIVERED: frozenset({EventKind.CONFIRMED, EventKind.DISPUTED, EventKind.REOPENED}),
    Status.DECLINED: frozenset(),
    Status.WITHDRAWN: frozenset(),
}


def _refusal(state: CommitmentState, kind: EventKind) -> str | None:
    """Why `kind` can't happen in `state`, or None if it can."""
    status = state.status
    if kind is EventKind.CREATED:
        return "It already exists."
    if status in (Status.DECLINED, Status.WITHDRAWN):
        return f"It was {status}, so it can't be {kind}."
    if status is Status.DELIVERED and state.confirmed and kind is EventKind.CONFIRMED:
        return "It's already been confirmed as received."
    if status is Status.DELIVERED and state.confirmed and kind is EventKind.DISPUTED:
        return "It was already confirmed as received, so it can't be disputed."
    if kind in _ALLOWED[status]:
        return None
    if kind in (EventKind.CONFIRMED, EventKind.DISPUTED, EventKind.REOPENED):
        return "It hasn't been delivered yet."
    if status is Status.DELIVERED:
        if kind is EventKind.DELIVERED:
            return "It's already delivered."
        return f"It's already delivered, so it can't be {kind}."
    if status is Status.PROPOSED:
        if kind is EventKind.WITHDRAWN:
            return "It's only a proposal: decline it instead of withdrawing it."
        return f"It's only a proposal, so it can't be {kind} until it's accepted."
    if kind is EventKind.DECLINED:
        return "It's already accepted, so it can't be declined; withdraw it instead."
    return "It's already accepted."


def check_transition(state: CommitmentState, kind: EventKind) -> None:
    """Raise TransitionError if an event of `kind` isn't allowed in `state`."""
    reason = _refusal(state, kind)
    if reason is not None:
        raise TransitionError(reason)


def _apply(state: CommitmentState, event: Event) -> CommitmentState:
    check_transition(state, event.kind)
    match event.kind:
        case EventKind.ACCEPTED:
            return replace(state, status=Status.OPEN)
        case EventKind.DECLINED:
            return replace(state, status=Status.DECLINED)
        case EventKind.MOVED:
            assert event.due_at is not None
            if event.due_at <= event.at:
                raise TransitionError("The new due date has to be later than now.")
            changes = state.date_changes + 1
            if state.status is Status.PROPOSED:
                return replace(
                    state, due_at=event.due_at, judged_due_at=event.due_at, date_changes=changes
                )
            if event.at <= state.judged_due_at:
                return replace(
                    state,
                    due_at=event.due_at,
                    judged_due_at=event.due_at,
                    date_changes=changes,
                    renegotiated=True,
                )
            return replace(state, due_at=event.due_at, date_changes=changes)
        case EventKind.DELIVERED:
            return replace(
                state, status=Status.DELIVERED, delivered_at=event.at, evidence=event.note
            )
        case EventKind.CONFIRMED:
            return replace(state, confirmed=True)
        case EventKind.DISPUTED | EventKind.REOPENED:
            return replace(
                state, status=Status.OPEN, delivered_at=None, confirmed=False, evidence=None
            )
        case EventKind.WITHDRAWN:
            return replace(state, status=Status.WITHDRAWN, withdrawn_at=event.at)
    raise AssertionError(f"unhandled event kind {event.kind}")  # pragma: no cover


def derive_state(events: Sequence[Event]) -> CommitmentState:
    """Replay `events` (oldest first, starting with CREATED) into the commitment's state.

    Raises TransitionError if the sequence is impossible.
    """
    if not events or events[0].kind is not EventKind.CREATED:
        raise TransitionError("A commitment's history has to start with its creation.")
    first = events[0]
    assert first.due_at is not None
    state = CommitmentState(
        status=Status.PROPOSED if first.proposed else Status.OPEN,
        original_due_at=first.due_at,
        due_at=first.due_at,
        judged_due_at=first.due_at,
        delivered_at=None,
        confirmed=False,
        withdrawn_at=None,
        date_changes=0,
        renegotiated=False,
        evidence=None,
    )
    for previous, event in pairwise(events):
        if event.at < previous.at:
            raise TransitionError("Events have to be in time order.")
        state = _apply(state, event)
    return state


def outcome(state: CommitmentState, *, now: datetime) -> Outcome:
    """How the commitment stands at `now`."""
    judged = state.judged_due_at
    match state.status:
        case Status.DELIVERED:
            assert state.delivered_at is not None
            return Outcome.KEPT if state.delivered_at <= judged else Outcome.LATE
        case Status.OPEN:
            return Outcome.MISSED if now > judged else Outcome.PENDING
        case Status.WITHDRAWN:
            assert state.withdrawn_at is not None
            return Outcome.MISSED if state.withdrawn_at > judged else Outcome.NOT_COUNTED
        case _:
            return Outcome.NOT_COUNTED


def counts_in_period(state: CommitmentState, start: datetime, end: datetime) -> bool:
    """Whether the commitment belongs to the period [start, end).

    Uses `judged_due_at`, so an honest renegotiation moves it to its new date's period while a
    date moved after a miss leaves it where it was missed. Proposed and declined never belong.
    """
    if state.status in (Status.PROPOSED, Status.DECLINED):
        return False
    return start <= state.judged_due_at < end
