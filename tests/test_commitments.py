"""The commitments service on both databases: references, duplicates, events, authorisation."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from bot.commitments.due_dates import parse_due
from bot.commitments.lifecycle import EventKind, Outcome, Status
from bot.commitments.service import (
    change_commitment,
    due_for_owner,
    ensure_partnership,
    get_by_ref,
    history,
    list_commitments,
    log_commitment,
    save_person,
    undo_commitment,
    visible_by_ref,
)
from bot.partnerships.members import deactivate_member, upsert_member
from bot.refusal import Refusal
from storage.db import transaction
from storage.models import Commitment, CommitmentEvent

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


@pytest.fixture
def world(engine):
    def person(user_id, name, tz="Europe/London", team_id="T0001"):
        return save_person(
            engine, team_id=team_id, user_id=user_id, name=name, tz=tz, locale="en-GB", now=NOW
        )

    world = {
        "engine": engine,
        "alice": person("U0ALICE", "Alice"),
        "bob": person("U0BOB", "Bob", tz="America/New_York"),
        "carol": person("U0CAROL", "Carol", team_id="T0PARTNER"),
        "dave": person("U0DAVE", "Dave"),  # in this workspace, not in the channel
        "here": ensure_partnership(engine, team_id="T0001", channel_id="C0PARTNER", name="housing"),
    }
    for name in ("alice", "bob", "carol"):
        upsert_member(
            engine,
            partnership_id=world["here"].id,
            person=world[name],
            organisation=world[name].team_id,
            now=NOW,
        )
    return world


def log(
    world,
    *,
    by="alice",
    owner=None,
    recipient=None,
    title="send the budget",
    due=NOW + timedelta(days=3),
    source_text=None,
    now=NOW,
):
    return log_commitment(
        world["engine"],
        partnership=world["here"],
        creator=world[by],
        owner=world[owner or by],
        recipient=world[recipient] if recipient else None,
        title=title,
        due_at=due,
        has_time=False,
        now=now,
        source_text=source_text,
    )


def change(world, ref, who, kind, *, now=NOW, **extra):
    return change_commitment(
        world["engine"], team_id="T0001", ref=ref, actor=world[who], kind=kind, now=now, **extra
    )


def test_references_count_up_per_workspace(world):
    first, second = log(world).commitment, log(world, title="share the risks").commitment
    assert (first.ref, second.ref) == (1, 2)
    elsewhere = ensure_partnership(world["engine"], team_id="T0OTHER", channel_id="C0X")
    other = log_commitment(
        world["engine"],
        partnership=elsewhere,
        creator=world["carol"],
        owner=world["carol"],
        recipient=None,
        title="x",
        due_at=NOW + timedelta(days=1),
        has_time=False,
        now=NOW,
    )
    assert other.commitment.ref == 1


def test_a_reference_from_another_workspace_reaches_nothing(world):
    log(world)
    assert get_by_ref(world["engine"], team_id="T0OTHER", ref=1) is None
    with pytest.raises(Refusal, match="can't find commitment 1"):
        change_commitment(
            world["engine"],
            team_id="T0OTHER",
            ref=1,
            actor=world["alice"],
            kind=EventKind.DELIVERED,
            now=NOW,
        )


def test_concurrent_logging_hands_out_distinct_references(world):
    with ThreadPoolExecutor(max_workers=6) as pool:
        refs = list(pool.map(lambda i: log(world, title=f"task {i}").commitment.ref, range(24)))
    assert sorted(refs) == list(range(1, 25))


def test_the_same_text_within_a_minute_is_logged_once(world):
    first = log(world, source_text="send the budget by Friday")
    again = log(world, source_text="send the budget by Friday", now=NOW + timedelta(seconds=30))
    assert again.duplicate and again.commitment.ref == first.commitment.ref
    later = log(world, source_text="send the budget by Friday", now=NOW + timedelta(seconds=61))
    assert not later.duplicate and later.commitment.ref == 2
    # The duplicate gave its reference number back.
    with transaction(world["engine"]) as session:
        assert session.execute(select(func.count()).select_from(Commitment)).scalar_one() == 2


def test_own_commitments_are_accepted_and_others_are_proposed(world):
    mine = log(world).commitment
    assert mine.status == Status.OPEN
    proposed = log(world, owner="bob").commitment
    assert proposed.status == Status.PROPOSED
    assert proposed.outcome(now=NOW + timedelta(days=30)) == Outcome.NOT_COUNTED
    with pytest.raises(Refusal, match="Only Bob can accept"):
        change(world, proposed.ref, "alice", EventKind.ACCEPTED)
    accepted = change(world, proposed.ref, "bob", EventKind.ACCEPTED)
    assert accepted.status == Status.OPEN


def test_delivery_confirmation_and_dispute_stay_in_the_history(world):
    c = log(world, recipient="carol").commitment
    with pytest.raises(Refusal, match="Only Alice can mark"):
        change(world, c.ref, "bob", EventKind.DELIVERED)
    change(world, c.ref, "alice", EventKind.DELIVERED, note="https://example.org/budget")
    with pytest.raises(Refusal, match="Only Carol can"):
        change(world, c.ref, "alice", EventKind.CONFIRMED)
    disputed = change(world, c.ref, "carol", EventKind.DISPUTED, note="only half of it")
    assert disputed.status == Status.OPEN and disputed.delivered_at is None
    change(world, c.ref, "alice", EventKind.DELIVERED, note="the rest")
    confirmed = change(world, c.ref, "carol", EventKind.CONFIRMED)
    assert confirmed.confirmed and confirmed.evidence == "the rest"
    kinds = [e.kind for e in history(world["engine"], commitment_id=c.id)]
    assert kinds == [
        EventKind.CREATED,
        EventKind.DELIVERED,
        EventKind.DISPUTED,
        EventKind.DELIVERED,
        EventKind.CONFIRMED,
    ]
    assert history(world["engine"], commitment_id=c.id)[2].note == "only half of it"


def test_moving_before_the_due_date_keeps_it_kept_and_after_does_not(world):
    due = NOW + timedelta(days=2)
    early = log(world, due=due).commitment
    moved = change(
        world,
        early.ref,
        "alice",
        EventKind.MOVED,
        now=NOW + timedelta(days=1),
        due_at=due + timedelta(days=5),
        note="waiting for finance",
    )
    assert moved.original_due_at == due and moved.date_changes == 1
    done = change(world, early.ref, "alice", EventKind.DELIVERED, now=due + timedelta(days=4))
    assert done.outcome(now=due + timedelta(days=10)) == Outcome.KEPT

    late = log(world, title="other", due=due).commitment
    change(
        world,
        late.ref,
        "alice",
        EventKind.MOVED,
        now=due + timedelta(days=1),
        due_at=due + timedelta(days=5),
    )
    done = change(world, late.ref, "alice", EventKind.DELIVERED, now=due + timedelta(days=4))
    assert done.outcome(now=due + timedelta(days=10)) == Outcome.LATE


def test_withdrawing_and_undoing(world):
    c = log(world).commitment
    with pytest.raises(Refusal, match="Only Alice, who logged it, can undo"):
        undo_commitment(world["engine"], team_id="T0001", ref=c.ref, actor=world["bob"], now=NOW)
    undone = undo_commitment(
        world["engine"], team_id="T0001", ref=c.ref, actor=world["alice"], now=NOW
    )
    assert undone.status == Status.WITHDRAWN
    proposal = log(world, owner="bob").commitment
    undone = undo_commitment(
        world["engine"], team_id="T0001", ref=proposal.ref, actor=world["alice"], now=NOW
    )
    assert undone.status == Status.DECLINED


def test_a_refused_change_saves_nothing(world):
    c = log(world).commitment
    change(world, c.ref, "alice", EventKind.WITHDRAWN)
    with pytest.raises(Refusal):
        change(world, c.ref, "alice", EventKind.DELIVERED)
    with transaction(world["engine"]) as session:
        count = session.execute(
            select(func.count())
            .select_from(CommitmentEvent)
            .where(CommitmentEvent.commitment_id == c.id)
        ).scalar_one()
    assert count == 2  # created, withdrawn


def test_the_row_always_agrees_with_its_events(world):
    from bot.commitments.lifecycle import Event, derive_state

    c = log(world, recipient="carol").commitment
    change(world, c.ref, "alice", EventKind.MOVED, due_at=NOW + timedelta(days=9))
    change(world, c.ref, "alice", EventKind.DELIVERED, now=NOW + timedelta(days=1))
    events = [
        Event(kind=e.kind, at=e.at, actor_id=e.actor.user_id, due_at=e.due_at, note=e.note)
        for e in history(world["engine"], commitment_id=c.id)
    ]
    state = derive_state(events)
    row = get_by_ref(world["engine"], team_id="T0001", ref=c.ref)
    assert (row.status, row.due_at, row.judged_due_at, row.delivered_at, row.date_changes) == (
        state.status,
        state.due_at,
        state.judged_due_at,
        state.delivered_at,
        state.date_changes,
    )


def test_dates_without_a_time_end_the_day_in_the_owners_zone(world):
    due = parse_due("12 Dec", now=NOW, tz="Europe/London")
    assert due_for_owner(due, "America/New_York") == datetime(2026, 12, 13, 4, 59, 59, tzinfo=UTC)
    with_time = parse_due("12 Dec at 3pm", now=NOW, tz="Europe/London")
    assert due_for_owner(with_time, "America/New_York") == with_time.at


def test_listing_is_newest_due_first_and_paginated(world):
    for day in range(1, 13):
        log(world, title=f"task {day}", due=NOW + timedelta(days=day))
    page = list_commitments(
        world["engine"],
        team_id="T0001",
        viewer_user_id="U0BOB",
        now=NOW,
        involving_user_id="U0ALICE",
        page_size=10,
    )
    assert (page.total, page.pages, len(page.items)) == (12, 2, 10)
    assert [c.title for c in page.items[:2]] == ["task 12", "task 11"]
    second = list_commitments(
        world["engine"],
        team_id="T0001",
        viewer_user_id="U0BOB",
        now=NOW,
        involving_user_id="U0ALICE",
        page=2,
        page_size=10,
    )
    assert [c.title for c in second.items] == ["task 2", "task 1"]
    overdue = list_commitments(
        world["engine"],
        team_id="T0001",
        viewer_user_id="U0BOB",
        now=NOW + timedelta(days=3, hours=1),
        overdue_only=True,
    )
    assert {c.title for c in overdue.items} == {"task 1", "task 2", "task 3"}


def test_only_members_owners_and_recipients_see_a_commitment(world):
    engine = world["engine"]
    budget = log(world).commitment
    for_dave = log(world, title="brief dave", recipient="dave").commitment

    def seen_by(user_id: str) -> set[str]:
        listed = {
            c.title
            for c in list_commitments(
                engine, team_id="T0001", viewer_user_id=user_id, now=NOW
            ).items
        }
        found = [
            visible_by_ref(engine, team_id="T0001", ref=c.ref, viewer_user_id=user_id)
            for c in (budget, for_dave)
        ]
        assert listed == {c.title for c in found if c is not None}  # the list and lookup agree
        return listed

    assert seen_by("U0BOB") == {"send the budget", "brief dave"}
    assert seen_by("U0DAVE") == {"brief dave"}  # its recipient, though not in the channel
    with pytest.raises(Refusal) as refused:
        change(world, budget.ref, "dave", EventKind.DELIVERED)
    assert str(refused.value) == "I can't find commitment 1. `/saydo list` shows yours."
    deactivate_member(engine, partnership_id=world["here"].id, person_id=world["bob"].id)
    assert seen_by("U0BOB") == set()  # left the channel: sees nothing of it any more
    assert seen_by("U0ALICE") == {"send the budget", "brief dave"}


def test_titles_are_checked(world):
    with pytest.raises(Refusal, match="under 300 characters; you wrote 301"):
        log(world, title="x" * 301)
    with pytest.raises(Refusal, match="already passed"):
        log(world, due=NOW - timedelta(minutes=1))
