"""Cup-of-coffee rounds and course correction, on both databases, against the Slack stand-in.

Sweeps run in process at chosen instants, exactly as the scheduler and `saydo tick` run them.
The partnership began on Monday 5 October 2026 (Europe/London); by default a round is every
second Tuesday at 10:00 local time: 6 Oct, 20 Oct (09:00 UTC, summer time), 3 Nov (10:00 UTC).
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select, update

from bot.blocks import coffee as coffee_messages
from bot.coffee import service as coffee
from bot.commitments.lifecycle import EventKind
from bot.commitments.nudges import set_away
from bot.commitments.service import (
    change_commitment,
    ensure_partnership,
    log_commitment,
    save_person,
)
from bot.config import Settings
from bot.objectives import service as objective_service
from bot.partnerships.members import set_coffee, upsert_member
from bot.policy.charter_settings import CharterSettings
from bot.slack_client import build_web_client
from scheduler.jobs import build_sweeper, run_sweeps
from storage.db import transaction
from storage.models import CharterVersion, CoffeePairing, CoffeeRound, OutboxMessage, Partnership
from tests.saydo_process import BOT_TOKEN
from tests.slack_contract import assert_valid_blocks

BEGAN = datetime(2026, 10, 5, 8, tzinfo=UTC)
ROUND_1 = datetime(2026, 10, 6, 9, tzinfo=UTC)  # Tue 6 Oct 10:00 BST
ROUND_2 = datetime(2026, 10, 20, 9, tzinfo=UTC)  # Tue 20 Oct 10:00 BST
ROUND_3 = datetime(2026, 11, 3, 10, tzinfo=UTC)  # Tue 3 Nov 10:00 GMT


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.fixture
def world(engine, people):
    slack = people
    slack.add_user("U0DAN", name="dan", real_name="Dan Dare", tz="Europe/London")
    slack.add_user("U0ERIN", name="erin", real_name="Erin Evans", team_id="T0PARTNER")
    slack.add_user("U0FAY", name="fay", real_name="Fay Fox", team_id="T0PARTNER")
    client = build_web_client(Settings(bot_token=BOT_TOKEN, slack_api_url=slack.url))
    sweeper = build_sweeper(engine, client)
    sweeper.sleep = lambda _seconds: None
    partnership = ensure_partnership(engine, team_id="T0001", channel_id="C0PARTNER")
    with transaction(engine) as session:
        session.execute(
            update(Partnership).where(Partnership.id == partnership.id).values(created_at=BEGAN)
        )
    people_by_user = {}

    def member(user_id, organisation, *, admin=False):
        person = save_person(
            engine,
            team_id="T0001",
            user_id=user_id,
            name=user_id.removeprefix("U0").title(),
            tz="Europe/London",
            locale="en-GB",
            now=BEGAN,
        )
        upsert_member(
            engine,
            partnership_id=partnership.id,
            person=person,
            organisation=organisation,
            now=BEGAN,
        )
        if admin:
            from storage.models import Member

            with transaction(engine) as session:
                session.execute(
                    update(Member).where(Member.person_id == person.id).values(is_admin=True)
                )
        people_by_user[user_id] = person
        return person

    def charter(**settings):
        with transaction(engine) as session:
            session.add(
                CharterVersion(
                    partnership_id=partnership.id,
                    version=1,
                    purpose="Get families into warm homes faster",
                    settings=CharterSettings(**settings).to_json(),
                    adopted_at=BEGAN,
                )
            )

    return {
        "engine": engine,
        "slack": slack,
        "partnership": partnership,
        "member": member,
        "people": people_by_user,
        "charter": charter,
        "sweep": lambda now: run_sweeps(sweeper, now=now),
    }


def rounds(engine):
    with transaction(engine) as session:
        return session.execute(select(CoffeeRound).order_by(CoffeeRound.id)).scalars().all()


def pairings(engine, round_key=None):
    query = select(CoffeePairing.member_ids).join(
        CoffeeRound, CoffeeRound.id == CoffeePairing.round_id
    )
    if round_key:
        query = query.where(CoffeeRound.round_key == round_key)
    with transaction(engine) as session:
        return [tuple(int(i) for i in ids.split(",")) for ids in session.execute(query).scalars()]


def posts(slack):
    return [c for c in slack.calls_to("chat.postMessage") if c.succeeded]


def opened(slack):
    return [
        tuple(sorted(c.args["users"].split(",")))
        for c in slack.calls_to("conversations.open")
        if c.succeeded
    ]


def four_members(world):
    m = world["member"]
    return [
        m("U0ALICE", "Northshire Council"),
        m("U0BOB", "Northshire Council"),
        m("U0CAROL", "Northshire NHS Trust"),
        m("U0ERIN", "Northshire NHS Trust"),
    ]


def test_a_round_is_created_once_and_each_pair_meets_in_its_own_group_dm(world):
    engine, slack = world["engine"], world["slack"]
    alice, bob, _carol, _erin = four_members(world)
    world["sweep"](ROUND_1 - timedelta(minutes=1))
    assert rounds(engine) == []

    world["sweep"](ROUND_1)
    world["sweep"](ROUND_1 + timedelta(minutes=1))  # a second replica, or the next sweep
    assert [r.round_key for r in rounds(engine)] == ["2026-10-06"]
    groups = pairings(engine)
    assert len(groups) == 2
    council = {alice.id, bob.id}
    assert all(len(set(g) & council) == 1 for g in groups), "each pair crosses organisations"

    user_of = {p.id: p.user_id for p in world["people"].values()}
    assert sorted(opened(slack)) == sorted(tuple(sorted(user_of[i] for i in g)) for g in groups)
    intros = posts(slack)
    assert len(intros) == 2
    assert {c.args["channel"][0] for c in intros} == {"G"}  # group DMs, never the channel
    text = " ".join(str(c.args["blocks"]) for c in intros)
    assert "Northshire NHS Trust" in text and "warm homes" not in text  # no charter adopted
    assert "What is going well" in text
    with transaction(engine) as session:
        ids = session.execute(select(CoffeePairing.conversation_id)).scalars().all()
    assert all(i and i.startswith("G") for i in ids)


def test_a_group_dm_slack_cannot_open_goes_privately_to_each_person_in_the_channel(world):
    """A pair across workspaces Saydo cannot put in one group DM (a Slack Connect partner the
    app may not DM): each is introduced privately in the partnership channel, never publicly."""
    engine, slack = world["engine"], world["slack"]
    m = world["member"]
    m("U0ALICE", "Northshire Council")
    m("U0CAROL", "Northshire NHS Trust")
    slack.refuse_dms("U0CAROL")

    reports = [r for r in world["sweep"](ROUND_1) if r.item.kind == "coffee_intro"]

    assert [r.result for r in reports] == ["sent"]
    assert posts(slack) == []  # nothing posted, in the channel or anywhere
    for user in ("U0ALICE", "U0CAROL"):
        seen = [msg for msg in slack.conversation("C0PARTNER", viewer=user) if msg.get("ephemeral")]
        assert len(seen) == 1 and "What is going well" in str(seen[0]["blocks"])
    assert slack.conversation("C0PARTNER", viewer="U0BOB") == []
    with transaction(engine) as session:
        (fallback,) = session.execute(
            select(OutboxMessage.fallback).where(OutboxMessage.kind == "coffee_intro")
        ).scalars()
    assert fallback == ("ephemeral to U0ALICE in C0PARTNER, U0CAROL in C0PARTNER: cannot_dm_bot")


def test_opted_out_paused_away_and_on_holiday_members_sit_out_and_hear_nothing(world):
    engine, slack = world["engine"], world["slack"]
    # Fridays every week, so the round falls on Christmas Day
    world["charter"](
        coffee_cadence_weeks=1, coffee_weekday=4, holiday_calendars={"welsh water": "GB-WLS"}
    )  # organisation names match ignoring case
    m = world["member"]
    alice = m("U0ALICE", "Northshire Council")
    bob = m("U0BOB", "Northshire Council")
    carol = m("U0CAROL", "Northshire NHS Trust")
    dan = m("U0DAN", "Northshire Council")
    erin = m("U0ERIN", "Northshire NHS Trust")
    fay = m("U0FAY", "Welsh Water")
    pid = world["partnership"].id
    christmas = utc(2026, 12, 25, 10)
    set_coffee(engine, partnership_id=pid, person_id=bob.id, opt_out=True)
    set_coffee(engine, partnership_id=pid, person_id=dan.id, paused_until=utc(2027, 1, 1))
    set_away(engine, person_id=erin.id, until=utc(2026, 12, 29))

    world["sweep"](christmas)
    assert pairings(engine) == [tuple(sorted((alice.id, carol.id)))]
    assert opened(slack) == [("U0ALICE", "U0CAROL")]
    told = {c.args["channel"] for c in posts(slack)}
    assert not told & {"U0BOB", "U0DAN", "U0ERIN", "U0FAY"}
    assert len(posts(slack)) == 1

    # Two weeks on, the holiday, Dan's pause and Erin's absence are over; Bob is still out
    world["sweep"](christmas + timedelta(days=14))
    groups = pairings(engine, "2027-01-08")
    assert {i for g in groups for i in g} == {alice.id, carol.id, dan.id, erin.id, fay.id}
    assert sorted(len(g) for g in groups) == [2, 3]  # an odd number: one trio


def test_earlier_pairings_are_history_so_nobody_meets_the_same_person_twice(world):
    engine = world["engine"]
    alice, bob, carol, erin = four_members(world)
    world["sweep"](ROUND_1)
    world["sweep"](ROUND_2)
    first, second = set(pairings(engine, "2026-10-06")), set(pairings(engine, "2026-10-20"))
    assert len(first) == len(second) == 2
    assert not first & second
    met = {frozenset(g) for g in first | second}
    council, trust = {alice.id, bob.id}, {carol.id, erin.id}
    assert met == {frozenset({a, b}) for a in council for b in trust}


def test_a_round_across_the_clock_change_keeps_its_local_time(world):
    engine = world["engine"]
    four_members(world)
    world["sweep"](ROUND_3 - timedelta(minutes=1))  # 09:59 UTC is 09:59 GMT: not yet
    assert "2026-11-03" not in [r.round_key for r in rounds(engine)]
    world["sweep"](ROUND_3)
    assert [r.round_key for r in rounds(engine)][-1] == "2026-11-03"


def test_the_follow_up_comes_a_week_later_unless_someone_answered(world):
    engine, slack = world["engine"], world["slack"]
    alice, _bob, _carol, _erin = four_members(world)
    world["sweep"](ROUND_1)
    ids = {g: _pairing_id(engine, g) for g in pairings(engine)}
    answered_group = next(g for g in ids if alice.id in g)
    coffee.record_answer(
        engine,
        pairing_id=ids[answered_group],
        person_id=alice.id,
        answer=coffee.Answer.MET,
        now=ROUND_1 + timedelta(days=2),
    )
    slack.clear()
    world["sweep"](ROUND_1 + timedelta(days=7) - timedelta(minutes=1))
    assert posts(slack) == []
    world["sweep"](ROUND_1 + timedelta(days=7))
    follow_ups = posts(slack)
    assert len(follow_ups) == 1  # only the pair that hasn't answered
    assert "did you manage to meet" in follow_ups[0].args["text"]
    actions = next(b for b in follow_ups[0].args["blocks"] if b["type"] == "actions")
    assert [e["text"]["text"] for e in actions["elements"]] == [
        "We met",
        "Not yet",
        "Skip this round",
    ]
    with transaction(engine) as session:
        row = session.get(CoffeePairing, ids[answered_group])
        other = session.execute(
            select(CoffeePairing).where(CoffeePairing.id != ids[answered_group])
        ).scalar_one()
    assert (row.outcome, row.answered_by_id) == ("met", alice.id)
    assert other.outcome is None


def test_only_the_people_introduced_can_answer(world):
    engine = world["engine"]
    alice, bob, carol, erin = four_members(world)
    world["sweep"](ROUND_1)
    group = next(g for g in pairings(engine) if alice.id in g)
    outsider = next(p for p in (bob, carol, erin) if p.id not in group)
    with pytest.raises(coffee.Refusal):
        coffee.record_answer(
            engine,
            pairing_id=_pairing_id(engine, group),
            person_id=outsider.id,
            answer=coffee.Answer.SKIPPED,
            now=ROUND_1,
        )


def _pairing_id(engine, group):
    with transaction(engine) as session:
        return session.execute(
            select(CoffeePairing.id).where(
                CoffeePairing.member_ids == ",".join(str(i) for i in group)
            )
        ).scalar_one()


# --- course correction ----------------------------------------------------------------------


def _miss_twice(world, person, *, before):
    """Two commitments `person` let pass their due date, inside the four weeks before `before`."""
    engine = world["engine"]
    for n, days in enumerate((10, 5)):
        log_commitment(
            engine,
            partnership=world["partnership"],
            creator=person,
            owner=person,
            recipient=None,
            title=f"send draft {n}",
            due_at=before - timedelta(days=days),
            has_time=True,
            now=before - timedelta(days=days + 3),
        )


WEEKLY = datetime(2026, 10, 13, 9, tzinfo=UTC)  # Tue 13 Oct 10:00 BST: not a round week


def test_course_correction_is_private_once_per_four_weeks_numbers_only_to_the_member(world):
    engine, slack = world["engine"], world["slack"]
    m = world["member"]
    alice = m("U0ALICE", "Northshire Council")
    bob = m("U0BOB", "Northshire Council")
    carol = m("U0CAROL", "Northshire NHS Trust", admin=True)
    erin = m("U0ERIN", "Northshire NHS Trust")
    _miss_twice(world, alice, before=WEEKLY)

    world["sweep"](WEEKLY)
    world["sweep"](WEEKLY + timedelta(minutes=5))
    corrections = [r for r in rounds(engine) if r.kind == "correction"]
    assert [r.round_key for r in corrections] == [f"correction:{alice.id}:2026-W42"]
    assert pairings(engine, corrections[0].round_key) == [tuple(sorted((alice.id, carol.id)))]

    sent = [c for c in posts(slack) if "coffee" in c.args["text"]]  # not Alice's own nudges
    assert {c.args["channel"] for c in sent} == {"U0ALICE", "U0CAROL", _group(slack)}
    assert len(sent) == 3
    assert opened(slack) == [("U0ALICE", "U0CAROL")]
    assert not any(c.args["channel"] == "C0PARTNER" for c in slack.calls_to("chat.postMessage"))
    to_alice = _text(next(c for c in sent if c.args["channel"] == "U0ALICE"))
    assert "kept 0 of 2" in to_alice and "2 missed" in to_alice
    for call in sent:
        if call.args["channel"] != "U0ALICE":  # Carol and the shared DM: no numbers at all
            assert not re.search(r"\d", _visible(call)), _visible(call)
    assert bob.id not in {i for g in pairings(engine) for i in g}
    assert erin.id not in {i for g in pairings(engine) for i in g}

    # Still struggling a week, and three weeks, later: not again within four weeks...
    world["sweep"](WEEKLY + timedelta(weeks=1))
    world["sweep"](WEEKLY + timedelta(weeks=3))
    assert len([r for r in rounds(engine) if r.kind == "correction"]) == 1
    # ...but four weeks on, if misses keep happening, once more.
    _miss_twice(world, alice, before=WEEKLY + timedelta(weeks=4))
    world["sweep"](WEEKLY + timedelta(weeks=4, hours=1))
    assert len([r for r in rounds(engine) if r.kind == "correction"]) == 2


def test_a_ratio_below_the_charters_target_counts_and_the_charter_can_turn_it_off(world):
    engine = world["engine"]
    world["charter"](kept_target=0.9, course_correction=False)
    alice, _bob, _carol, _erin = four_members(world)
    _miss_twice(world, alice, before=WEEKLY)
    world["sweep"](WEEKLY)
    assert [r for r in rounds(engine) if r.kind == "correction"] == []


def test_say_do_by_member_follows_the_keeping_rules_in_one_query(world):
    engine = world["engine"]
    alice, _bob, _carol, _erin = four_members(world)
    _miss_twice(world, alice, before=WEEKLY)
    tallies = coffee.say_do_by_member(
        engine,
        partnership_id=world["partnership"].id,
        start=WEEKLY - timedelta(weeks=4),
        now=WEEKLY,
    )
    assert tallies == {alice.id: coffee.Tally(kept=0, late=0, missed=2)}
    assert tallies[alice.id].ratio == 0


def _group(slack):
    """The group DM the stand-in opened (its ids start with G)."""
    return next(c.args["channel"] for c in posts(slack) if c.args["channel"].startswith("G"))


def _visible(call):
    """What people read: the text of the message's sections and context lines."""
    texts = [call.args["text"]]
    for block in call.args.get("blocks", []):
        texts += [block["text"]["text"]] if "text" in block else []
        texts += [e["text"] for e in block.get("elements", []) if block["type"] == "context"]
    return " ".join(texts)


def _text(call):
    return call.args["text"] + " " + str(call.args.get("blocks", ""))


def test_every_coffee_message_is_valid_block_kit(world):
    engine = world["engine"]
    world["charter"]()
    _alice, _bob, _carol, _erin = four_members(world)
    world["sweep"](ROUND_1)
    view = coffee.get_pairing(engine, pairing_id=_pairing_id(engine, pairings(engine)[0]))
    starters = coffee.Starters("Warm homes <!channel>", ("Alice", "the *budget*"))
    tally = coffee.Tally(1, 1, 2)
    for message in (
        coffee_messages.intro(view, starters),
        coffee_messages.follow_up(view),
        coffee_messages.correction_intro(view),
        coffee_messages.correction_for_member(view, view.pals[1], tally),
        coffee_messages.correction_for_partner(view, view.pals[0]),
    ):
        assert_valid_blocks(message["blocks"])
    assert "&lt;!channel&gt;" in str(coffee_messages.intro(view, starters))


def test_a_say_do_ratio_below_the_charters_target_is_enough(world):
    """One kept and one late (50%), nothing missed: below the default 85%, not below 40%."""
    engine = world["engine"]
    alice, _bob, _carol, _erin = four_members(world)
    for n, late in enumerate((False, True)):
        due = WEEKLY - timedelta(days=6 - n)
        logged = log_commitment(
            engine,
            partnership=world["partnership"],
            creator=alice,
            owner=alice,
            recipient=None,
            title=f"report {n}",
            due_at=due,
            has_time=True,
            now=due - timedelta(days=2),
        ).commitment
        change_commitment(
            engine,
            team_id="T0001",
            ref=logged.ref,
            actor=alice,
            kind=EventKind.DELIVERED,
            now=due + (timedelta(hours=2) if late else -timedelta(hours=2)),
        )
    world["sweep"](WEEKLY)
    assert [r.round_key for r in rounds(engine) if r.kind == "correction"] == [
        f"correction:{alice.id}:2026-W42"
    ]


def test_at_or_above_the_target_there_is_no_correction(world):
    engine = world["engine"]
    world["charter"](kept_target=0.4)
    alice, _bob, _carol, _erin = four_members(world)
    for n, late in enumerate((False, True)):
        due = WEEKLY - timedelta(days=6 - n)
        logged = log_commitment(
            engine,
            partnership=world["partnership"],
            creator=alice,
            owner=alice,
            recipient=None,
            title=f"report {n}",
            due_at=due,
            has_time=True,
            now=due - timedelta(days=2),
        ).commitment
        change_commitment(
            engine,
            team_id="T0001",
            ref=logged.ref,
            actor=alice,
            kind=EventKind.DELIVERED,
            now=due + (timedelta(hours=2) if late else -timedelta(hours=2)),
        )
    world["sweep"](WEEKLY)
    assert [r for r in rounds(engine) if r.kind == "correction"] == []


# --- course correction for objectives -------------------------------------------------------


def _objective(world, creator):
    """O1, owned by Northshire Council: 20 days on 1 Oct falling to 10 by 31 Dec (91 days), so
    10% tolerance allows one day behind the line (at about 19.3 on 7 Oct, 17.8 on 21 Oct,
    14.5 on 20 Nov and 14.0 on 25 Nov)."""
    return objective_service.create_objective(
        world["engine"],
        partnership_id=world["partnership"].id,
        creator=creator,
        draft=objective_service.Draft(
            title="Faster discharge",
            good_looks_like="",
            measure="days from referral to discharge",
            direction=objective_service.LOWER,
            baseline_value="20",
            baseline_date=date(2026, 10, 1),
            target_value="10",
            target_date=date(2026, 12, 31),
            owner_organisation="Northshire Council",
            cadence="weekly",
        ),
        now=BEGAN,
    )


def _value(world, objective, value, *, by, at):
    objective_service.record_measurement(
        world["engine"], objective_id=objective.id, actor=by, value=value, evidence=None, now=at
    )


def objective_rounds(engine):
    return [r.round_key for r in rounds(engine) if r.kind == coffee.OBJECTIVE_CORRECTION]


def objective_intros(slack):
    return [c for c in posts(slack) if c.args["text"].startswith("A cup of coffee about")]


def test_an_objective_on_the_agenda_gets_one_private_coffee_per_stretch(world):
    engine, slack = world["engine"], world["slack"]
    m = world["member"]
    alice = m("U0ALICE", "Northshire Council", admin=True)
    bob = m("U0BOB", "Northshire Council")
    carol = m("U0CAROL", "Northshire NHS Trust", admin=True)
    m("U0ERIN", "Northshire NHS Trust")
    objective = _objective(world, alice)
    _value(world, objective, "22", by=bob, at=utc(2026, 10, 7, 12))  # at risk once: not yet
    world["sweep"](WEEKLY)
    assert objective_rounds(engine) == []

    _value(world, objective, "23", by=bob, at=utc(2026, 10, 21, 12))  # twice in a row
    tuesday = utc(2026, 10, 27, 10)  # 10:00 GMT, the weekly coffee time (not a round week)
    world["sweep"](tuesday)
    world["sweep"](tuesday + timedelta(minutes=5))
    key = f"objective:{objective.id}:0"
    assert objective_rounds(engine) == [key]
    # Bob recorded the latest value, so he speaks for the Council; Carol is the NHS's admin.
    assert pairings(engine, key) == [tuple(sorted((bob.id, carol.id)))]
    [intro] = objective_intros(slack)
    assert intro.args["channel"] == _group(slack)  # their group DM, nobody else's
    assert opened(slack) == [("U0BOB", "U0CAROL")]
    assert "O1 Faster discharge" in _visible(intro)
    assert "at risk twice in a row" in _visible(intro)
    assert not any(c.args["channel"] == "C0PARTNER" for c in slack.calls_to("chat.postMessage"))

    # Still at risk the next week: the same stretch on the agenda, no second coffee.
    _value(world, objective, "21", by=bob, at=utc(2026, 10, 28, 12))
    world["sweep"](tuesday + timedelta(weeks=2))
    assert objective_rounds(engine) == [key]

    # Back on track, then off course twice again: a new stretch, a new coffee.
    _value(world, objective, "12", by=alice, at=utc(2026, 11, 20, 12))
    _value(world, objective, "17", by=alice, at=utc(2026, 11, 23, 12))
    _value(world, objective, "17", by=alice, at=utc(2026, 11, 25, 12))
    world["sweep"](utc(2026, 12, 1, 10))  # Tue 1 Dec 10:00 GMT
    again = f"objective:{objective.id}:4"
    assert objective_rounds(engine) == [key, again]
    assert pairings(engine, again) == [tuple(sorted((alice.id, carol.id)))]

    # Missed once the target date has passed, still off course: the same stretch again.
    world["sweep"](utc(2027, 1, 5, 10))  # Tue 5 Jan 10:00 GMT
    assert objective_rounds(engine) == [key, again]
    intros = objective_intros(slack)
    assert len(intros) == 2
    assert all(c.args["channel"].startswith("G") for c in intros)
    channel = [_text(c) for c in posts(slack) if c.args["channel"] == "C0PARTNER"]
    assert not any("cup of coffee about" in text for text in channel)


def test_no_objective_coffee_when_the_charter_turns_course_correction_off(world):
    engine = world["engine"]
    world["charter"](course_correction=False)
    alice, bob, _carol, _erin = four_members(world)
    objective = _objective(world, alice)
    _value(world, objective, "22", by=bob, at=utc(2026, 10, 7, 12))
    _value(world, objective, "23", by=bob, at=utc(2026, 10, 9, 12))
    world["sweep"](WEEKLY)
    assert objective_rounds(engine) == []
    assert objective_intros(world["slack"]) == []


def test_the_objective_coffee_message_is_valid_block_kit_and_escapes_the_title(world):
    engine = world["engine"]
    alice, bob, _carol, _erin = four_members(world)
    objective = _objective(world, alice)
    _value(world, objective, "22", by=bob, at=utc(2026, 10, 7, 12))
    _value(world, objective, "23", by=bob, at=utc(2026, 10, 9, 12))
    world["sweep"](WEEKLY)
    [key] = objective_rounds(engine)
    view = coffee.get_pairing(engine, pairing_id=_pairing_id(engine, pairings(engine, key)[0]))
    shown = objective_service.get_objective(engine, objective_id=objective.id, now=WEEKLY)
    message = coffee_messages.objective_correction_intro(
        view, replace(shown, title="Beds <!channel> & more")
    )
    assert_valid_blocks(message["blocks"])
    assert "&lt;!channel&gt;" in str(message)
