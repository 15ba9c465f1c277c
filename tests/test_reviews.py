"""Quarterly reviews on both databases: planning the reminders, the evidence pack's figures for
a hand-computed quarter, the record, lessons, and the pack's constant query count."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import event, insert, select, update

from bot.blocks import reviews as messages
from bot.commitments.lifecycle import EventKind
from bot.commitments.service import (
    change_commitment,
    ensure_partnership,
    log_commitment,
    save_person,
)
from bot.outbox.sending import Item
from bot.policy.charter_settings import CharterSettings
from bot.refusal import Refusal
from bot.reports import reviews
from scheduler import renderers
from storage.db import transaction
from storage.models import (
    CharterProposal,
    CharterVersion,
    CoffeePairing,
    CoffeeRound,
    Commitment,
    Member,
    OutboxMessage,
    Partnership,
    ReviewRecord,
)
from tests.slack_contract import assert_valid_blocks, assert_valid_view

REVIEW = date(2026, 4, 15)  # the partnership began 15 Jan 2026: first review three months on


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


class World:
    def __init__(self, engine):
        self.engine = engine
        self.partnership = ensure_partnership(
            engine, team_id="T0001", channel_id="C0PARTNER", name="housing"
        )
        with transaction(engine) as session:
            session.execute(
                update(Partnership)
                .where(Partnership.id == self.partnership.id)
                .values(created_at=utc(2026, 1, 15, 10))
            )
        self.alice = self.person("U0ALICE", "Council")
        self.bob = self.person("U0BOB", "Council")
        self.carol = self.person("U0CAROL", "NHS", team_id="T0PARTNER")

    def person(self, user_id, organisation, team_id="T0001"):
        ref = save_person(
            self.engine,
            team_id=team_id,
            user_id=user_id,
            name=f"{user_id[2:].title()} Person",
            tz="Europe/London",
            locale="en-GB",
            now=utc(2025, 9, 1),
        )
        with transaction(self.engine) as session:
            session.add(
                Member(
                    partnership_id=self.partnership.id,
                    person_id=ref.id,
                    organisation=organisation,
                    joined_at=utc(2025, 9, 1),
                )
            )
        return ref

    def commit(self, owner, title, *, due, at=None, creator=None):
        at = at or due - timedelta(days=20)
        return log_commitment(
            self.engine,
            partnership=self.partnership,
            creator=creator or owner,
            owner=owner,
            recipient=None,
            title=title,
            due_at=due,
            has_time=True,
            now=at,
        ).commitment

    def change(self, commitment, kind, *, at, **kw):
        return change_commitment(
            self.engine,
            team_id="T0001",
            ref=commitment.ref,
            actor=commitment.owner,
            kind=kind,
            now=at,
            **kw,
        )


@pytest.fixture
def world(engine):
    return World(engine)


def hand_computed_quarter(w: World) -> None:
    """Council (Alice, Bob) and NHS (Carol): see the expected figures in the test below."""
    # This quarter: [15 Jan 2026, 15 Apr 2026) London time.
    a1 = w.commit(w.alice, "share the housing data", due=utc(2026, 2, 1, 12))
    w.change(a1, EventKind.DELIVERED, at=utc(2026, 1, 30))  # kept
    a2 = w.commit(w.alice, "draft the joint bid", due=utc(2026, 2, 10, 12))
    w.change(a2, EventKind.DELIVERED, at=utc(2026, 2, 12))  # late
    w.commit(w.alice, "book the venue <!channel>", due=utc(2026, 3, 1, 12))  # missed
    c1 = w.commit(w.carol, "send the bed figures", due=utc(2026, 2, 15, 12))
    w.change(c1, EventKind.DELIVERED, at=utc(2026, 2, 15, 12))  # kept at the very instant
    c2 = w.commit(w.carol, "agree discharge protocol", due=utc(2026, 3, 1, 12))
    w.change(c2, EventKind.MOVED, at=utc(2026, 2, 20), due_at=utc(2026, 3, 20, 12))
    w.change(c2, EventKind.DELIVERED, at=utc(2026, 3, 19))  # kept, renegotiated
    c3 = w.commit(w.carol, "run the workshop", due=utc(2026, 3, 10, 12))
    w.change(c3, EventKind.WITHDRAWN, at=utc(2026, 3, 5))  # withdrawn in time: not counted
    w.commit(w.carol, "next quarter's work", due=utc(2026, 4, 20, 12))  # after the quarter
    w.commit(w.carol, "proposed by someone else", due=utc(2026, 2, 20), creator=w.alice)
    # The quarter before: [15 Oct 2025, 15 Jan 2026).
    a0 = w.commit(w.alice, "old council work", due=utc(2025, 11, 1, 12))
    w.change(a0, EventKind.DELIVERED, at=utc(2025, 10, 30))  # kept
    w.commit(w.carol, "old nhs work", due=utc(2025, 12, 1, 12))  # missed
    w.commit(w.bob, "long ago", due=utc(2025, 9, 20, 12))  # before both quarters

    with transaction(w.engine) as session:
        session.add(
            CharterVersion(
                partnership_id=w.partnership.id,
                version=2,
                settings=CharterSettings(kept_target=0.8).to_json(),
                adopted_at=utc(2026, 1, 20),
            )
        )
        session.add(
            CharterProposal(
                partnership_id=w.partnership.id,
                base_version=2,
                proposed_by_id=w.carol.id,
                settings="{}",
                state="open",
                created_at=utc(2026, 3, 2),
            )
        )
        session.add(
            CharterProposal(
                partnership_id=w.partnership.id,
                base_version=1,
                proposed_by_id=w.carol.id,
                settings="{}",
                state="adopted",
                created_at=utc(2026, 1, 16),
            )
        )
        this_round = CoffeeRound(
            partnership_id=w.partnership.id, round_key="2026-02-03", scheduled_for=utc(2026, 2, 3)
        )
        old_round = CoffeeRound(
            partnership_id=w.partnership.id, round_key="2025-12-02", scheduled_for=utc(2025, 12, 2)
        )
        session.add_all([this_round, old_round])
        session.flush()
        session.add_all(
            [
                CoffeePairing(
                    round_id=this_round.id,
                    member_ids=",".join(sorted([str(w.alice.id), str(w.carol.id)])),
                    outcome="met",
                ),
                CoffeePairing(
                    round_id=this_round.id,
                    member_ids=f"{w.alice.id},{w.bob.id}",
                    outcome="not_yet",
                ),
                CoffeePairing(  # the quarter before: not in this pack
                    round_id=old_round.id, member_ids=f"{w.bob.id},{w.carol.id}", outcome="met"
                ),
            ]
        )
    reviews.log_lesson(
        w.engine,
        partnership=w.partnership,
        person=w.carol,
        text="share drafts a week earlier",
        now=utc(2026, 2, 1),
    )
    reviews.log_lesson(
        w.engine,
        partnership=w.partnership,
        person=w.alice,
        text="one owner per action <@U0BOB>",
        now=utc(2026, 3, 1),
    )
    reviews.log_lesson(
        w.engine, partnership=w.partnership, person=w.alice, text="old", now=utc(2026, 1, 2)
    )


def test_the_pack_has_the_quarters_figures_by_organisation(world):
    hand_computed_quarter(world)
    pack = reviews.evidence_pack(
        world.engine, partnership_id=world.partnership.id, review_date=REVIEW, now=utc(2026, 4, 1)
    )
    assert pack.start == utc(2026, 1, 15) and pack.end == utc(2026, 4, 14, 23)  # BST
    figures = {o.organisation: o for o in pack.organisations}
    council, nhs = figures["Council"], figures["NHS"]
    assert (council.current.kept, council.current.late, council.current.missed) == (1, 1, 1)
    assert (nhs.current.kept, nhs.current.late, nhs.current.missed) == (2, 0, 0)
    assert nhs.current.withdrawn == 1
    assert council.current.ratio == pytest.approx(1 / 3) and nhs.current.ratio == 1
    assert council.previous.ratio == 1 and nhs.previous.ratio == 0
    assert pack.total.ratio == pytest.approx(3 / 5)
    assert pack.previous_total.ratio == pytest.approx(1 / 2)
    assert pack.target == 0.8
    assert [m.title for m in pack.missed] == ["book the venue <!channel>"]
    assert [m.organisation for m in pack.missed] == ["Council"]
    assert [(r.title, r.organisation) for r in pack.renegotiated] == [
        ("agree discharge protocol", "NHS")
    ]
    assert pack.renegotiated_count == 1 and pack.missed_count == 1
    assert (pack.coffee_rounds, pack.coffees_held, pack.coffees_planned) == (1, 1, 2)
    assert pack.pairs_met == (("Council", "NHS"),)
    assert pack.lessons_count == 2
    assert [le.text for le in pack.lessons] == [
        "one owner per action <@U0BOB>",
        "share drafts a week earlier",
    ]
    assert pack.charter_version == 2 and pack.open_proposals_count == 1

    message = messages.reminder(pack, days_before=14)
    assert_valid_blocks(message["blocks"])
    body = json.dumps(message, ensure_ascii=False)
    assert "Council*: 33% (1 of 3 kept) · below target · previous quarter 100% (-67 points)" in body
    assert "NHS*: 100% (2 of 2 kept) · on target · previous quarter 0% (+100 points)" in body
    assert "1 kept · 1 late · 1 missed · 1 renegotiated" not in body  # totals, not one org
    assert "3 kept · 1 late · 1 missed · 1 renegotiated" in body
    assert "book the venue &lt;!channel&gt; — Council" in body
    assert "agree discharge protocol — NHS" in body
    assert "Council & NHS" in body and "1 held of 2 introduced in 1 round" in body
    assert "one owner per action &lt;@U0BOB&gt;" in body
    assert "version 2 · 1 open amendment proposal" in body
    assert "Are our objectives still right?" in body and "What will we change?" in body
    assert "Person" not in body  # owners' organisations, never their names
    assert "review_record" not in body  # no Record button 14 days ahead
    assert "review_record" in json.dumps(messages.reminder(pack, days_before=2))


def test_long_lists_are_trimmed_to_fit_a_message(world):
    for n in range(30):
        world.commit(world.alice, f"task {n:02d} " + "x" * 250, due=utc(2026, 2, 1) + timedelta(n))
    pack = reviews.evidence_pack(
        world.engine, partnership_id=world.partnership.id, review_date=REVIEW, now=utc(2026, 4, 1)
    )
    assert pack.missed_count == 30 and len(pack.missed) == reviews.LIST_LIMIT
    message = messages.reminder(pack, days_before=2)
    assert_valid_blocks(message["blocks"])
    assert len(message["blocks"]) <= 50
    assert f"and {30 - reviews.LIST_LIMIT} more — `saydo export`" in json.dumps(
        message, ensure_ascii=False
    )


def test_the_pack_takes_the_same_number_of_queries_for_10_and_1000_commitments(world):
    def many(count: int) -> int:
        with transaction(world.engine) as session:
            session.execute(
                insert(Commitment),
                [
                    {
                        "team_id": "T0001",
                        "ref": 100_000 + n,
                        "partnership_id": world.partnership.id,
                        "owner_id": (world.alice, world.carol)[n % 2].id,
                        "created_by_id": world.alice.id,
                        "title": f"bulk {n}",
                        "created_at": utc(2026, 1, 1),
                        "status": ("open", "delivered", "withdrawn")[n % 3],
                        "original_due_at": utc(2026, 2, 1) + timedelta(hours=n),
                        "due_at": utc(2026, 2, 1) + timedelta(hours=n),
                        "judged_due_at": utc(2026, 2, 1) + timedelta(hours=n),
                        "delivered_at": utc(2026, 2, 2) if n % 3 == 1 else None,
                        "withdrawn_at": utc(2026, 2, 3) if n % 3 == 2 else None,
                        "renegotiated": n % 5 == 0,
                    }
                    for n in range(count)
                ],
            )
        statements: list[str] = []

        def count_it(conn, cursor, statement, *args):
            statements.append(statement)

        event.listen(world.engine, "before_cursor_execute", count_it)
        try:
            pack = reviews.evidence_pack(
                world.engine,
                partnership_id=world.partnership.id,
                review_date=REVIEW,
                now=utc(2026, 4, 1),
            )
        finally:
            event.remove(world.engine, "before_cursor_execute", count_it)
        with transaction(world.engine) as session:
            session.execute(Commitment.__table__.delete())
        assert pack.total.judged + pack.total.withdrawn == count
        return len(statements)

    assert many(10) == many(1000)


def test_the_sweep_plans_three_slots_at_the_summary_time_once(world):
    def planned():
        with transaction(world.engine) as session:
            rows = session.execute(select(OutboxMessage).order_by(OutboxMessage.due_at))
            return [(r.slot_key, r.due_at, r.channel) for r in rows.scalars()]

    reviews.plan(world.engine, now=utc(2026, 3, 20, 12))
    assert planned() == []  # nothing is planned more than a week ahead
    pid = world.partnership.id
    reviews.plan(world.engine, now=utc(2026, 3, 31, 12))
    assert [key for key, *_ in planned()] == [f"review:{pid}:2026-04-15:14"]
    for now in (utc(2026, 4, 9, 12), utc(2026, 4, 9, 13)):
        reviews.plan(world.engine, now=now)
    assert planned() == [  # 09:00 London: GMT until 29 March, BST after
        (f"review:{pid}:2026-04-15:14", utc(2026, 4, 1, 8), "C0PARTNER"),
        (f"review:{pid}:2026-04-15:2", utc(2026, 4, 13, 8), "C0PARTNER"),
        (f"review:{pid}:2026-04-15:0", utc(2026, 4, 15, 8), "C0PARTNER"),
    ]


def test_a_slot_the_charter_no_longer_sets_is_cancelled(world):
    reviews.plan(world.engine, now=utc(2026, 3, 20))
    with transaction(world.engine) as session:
        session.add(
            CharterVersion(
                partnership_id=world.partnership.id,
                version=1,
                settings=CharterSettings(first_review_date=date(2026, 5, 1)).to_json(),
            )
        )
    key = f"review:{world.partnership.id}:2026-04-15:14"
    item = Item(1, key, reviews.REVIEW, "C0PARTNER", utc(2026, 4, 1, 8), None, None, 0)
    result = renderers.review_reminder(world.engine, item, utc(2026, 4, 1, 8))
    assert result.state.value == "cancelled"


def test_lessons_are_checked_kept_and_listed_newest_first(world):
    engine, here = world.engine, world.partnership
    for text in ("", "   ", "x" * 1001):
        with pytest.raises(Refusal):
            reviews.log_lesson(
                engine, partnership=here, person=world.alice, text=text, now=utc(2026, 2, 1)
            )
    reviews.log_lesson(
        engine, partnership=here, person=world.alice, text="x" * 1000, now=utc(2026, 2, 1)
    )
    reviews.log_lesson(
        engine, partnership=here, person=world.carol, text="<!here> *bold*", now=utc(2026, 2, 2)
    )
    shown, total = reviews.lessons(engine, partnership_id=here.id)
    assert total == 2
    assert [(le.person.user_id, le.organisation) for le in shown] == [
        ("U0CAROL", "NHS"),
        ("U0ALICE", "Council"),
    ]
    message = messages.lesson_list(shown, total, tz=here.tz)
    assert_valid_blocks(message["blocks"])
    assert "&lt;!here&gt;" in json.dumps(
        message, ensure_ascii=False
    ) and "<!here>" not in json.dumps(message, ensure_ascii=False)


def test_a_review_is_recorded_on_or_after_its_date_only(world):
    engine, pid = world.engine, world.partnership.id
    fields = dict(
        partnership_id=pid,
        review_date=REVIEW,
        recorded_by=world.carol,
        attendees=["U0ALICE", "U0CAROL", "U0ALICE"],
        outcomes="Objectives still right.",
        decisions="Meet monthly.",
        charter_changes="Coffee every week.",
    )
    with pytest.raises(Refusal, match="you can record it from that day"):
        reviews.record_review(engine, **fields, now=utc(2026, 4, 14, 22, 59))  # 23:59 BST
    with pytest.raises(Refusal, match="outcomes"):
        reviews.record_review(engine, **{**fields, "outcomes": " "}, now=utc(2026, 4, 15, 9))
    with transaction(engine) as session:
        assert session.execute(select(ReviewRecord)).first() is None
    record = reviews.record_review(engine, **fields, now=utc(2026, 4, 14, 23))  # midnight BST
    kept = reviews.records(engine, partnership_id=pid)
    assert kept == [record]
    assert record.attendees == ("U0ALICE", "U0CAROL")
    assert record.charter_changes == "Coffee every week."
    message = messages.record_message(record)
    assert_valid_blocks(message["blocks"])
    assert "<@U0ALICE> <@U0CAROL>" in json.dumps(message, ensure_ascii=False)
    assert_valid_view(messages.record_modal("housing <x>", REVIEW, metadata="{}"))
