"""Nudges through the outbox, on both databases, against the Slack stand-in.

Each test logs commitments through the domain, then runs the sweep at chosen instants, exactly
as the scheduler and `saydo tick --now` do.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from bot.commitments.lifecycle import EventKind
from bot.commitments.nudges import set_away, snooze
from bot.commitments.service import (
    change_commitment,
    ensure_partnership,
    log_commitment,
    record_channel_message,
    save_person,
)
from bot.config import Settings
from bot.outbox.sending import State
from bot.partnerships.members import upsert_member
from bot.slack_client import build_web_client
from scheduler.jobs import build_sweeper, run_sweeps
from storage.db import transaction
from storage.models import OutboxMessage
from tests.saydo_process import BOT_TOKEN


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.fixture
def world(engine, people):
    client = build_web_client(Settings(bot_token=BOT_TOKEN, slack_api_url=people.url))
    sweeper = build_sweeper(engine, client)
    sweeper.sleep = lambda _seconds: None  # pacing is measured in bench/, not waited for here
    partnership = ensure_partnership(engine, team_id="T0001", channel_id="C0PARTNER")

    def person(user_id, tz, created):
        return save_person(
            engine,
            team_id="T0001",
            user_id=user_id,
            name=user_id.lower(),
            tz=tz,
            locale="en-GB",
            now=created,
        )

    def commit(user_id, tz, *, created, due, title="send the budget", recipient=None):
        owner = person(user_id, tz, created)
        return log_commitment(
            engine,
            partnership=partnership,
            creator=owner,
            owner=owner,
            recipient=recipient,
            title=title,
            due_at=due,
            has_time=True,
            now=created,
        ).commitment

    def sweep(now):
        """The nudge part of a sweep (the partnership's summaries and coffee are tested apart)."""
        return [r for r in run_sweeps(sweeper, now=now) if r.item.kind == "nudge"]

    return {
        "engine": engine,
        "slack": people,
        "commit": commit,
        "sweep": sweep,
        "person": person,
        "sweeper": sweeper,
    }


def nudges_sent(slack, user_id=None):
    """Direct messages to people (the weekly summary to the channel is not a nudge)."""
    return [
        c
        for c in slack.calls_to("chat.postMessage")
        if c.succeeded
        and c.args["channel"].startswith("U")
        and (user_id is None or c.args["channel"] == user_id)
    ]


def states(engine):
    with transaction(engine) as session:
        return {
            row.slot_key.rsplit(":", 1)[-1]: row.state
            for row in session.execute(
                select(OutboxMessage).where(OutboxMessage.kind == "nudge")
            ).scalars()
        }


@pytest.mark.parametrize(
    ("tz", "created", "due", "slot", "expected_utc"),
    [
        # London: before-nudge the Monday after the clocks went forward (09:00 BST = 08:00Z)
        (
            "Europe/London",
            utc(2026, 3, 23, 10),
            utc(2026, 3, 31, 22, 59),
            "before",
            utc(2026, 3, 30, 8, 0),
        ),
        # London: first overdue nudge after the clocks went back (09:00 GMT = 09:00Z)
        (
            "Europe/London",
            utc(2026, 10, 19, 10),
            utc(2026, 10, 23, 22, 59),
            "overdue-1",
            utc(2026, 10, 26, 9, 0),
        ),
        # New York: due-day nudge the day after the spring change (09:00 EDT = 13:00Z)
        (
            "America/New_York",
            utc(2026, 3, 2, 15),
            utc(2026, 3, 9, 21, 0),
            "due",
            utc(2026, 3, 9, 13, 0),
        ),
        # New York: before-nudge before the autumn change (09:00 EDT = 13:00Z, Fri 30 Oct)
        (
            "America/New_York",
            utc(2026, 10, 26, 15),
            utc(2026, 11, 2, 21, 0),
            "before",
            utc(2026, 10, 30, 13, 0),
        ),
        # Kolkata: no daylight saving; 09:00 IST = 03:30Z
        (
            "Asia/Kolkata",
            utc(2026, 11, 27, 5),
            utc(2026, 12, 2, 12, 0),
            "due",
            utc(2026, 12, 2, 3, 30),
        ),
    ],
)
def test_each_nudge_fires_at_nine_local_for_owners_everywhere(
    world, tz, created, due, slot, expected_utc
):
    commitment = world["commit"]("U0ALICE", tz, created=created, due=due)
    early = world["sweep"](expected_utc - timedelta(minutes=1))
    assert not [r for r in early if r.item.slot_key.endswith(f":{slot}")]
    before = len(nudges_sent(world["slack"]))
    reports = world["sweep"](expected_utc)
    sent = [r for r in reports if r.result == "sent" and r.item.slot_key.endswith(f":{slot}")]
    assert len(sent) == 1, [r.line() for r in reports]
    new = nudges_sent(world["slack"])[before:]
    assert len(new) == len([r for r in reports if r.result == "sent"])
    dm = new[-1]
    assert dm.args["channel"] == "U0ALICE"
    assert f"#{commitment.ref}" in dm.args["text"]
    buttons = [
        e["action_id"] for b in dm.args["blocks"] if b["type"] == "actions" for e in b["elements"]
    ]
    assert buttons == [
        "commitment_deliver",
        "commitment_new_date",
        "nudge_snooze",
        "nudge_cant_deliver",
    ]


def test_nothing_is_sent_a_minute_early(world):
    world["commit"](
        "U0ALICE", "Europe/London", created=utc(2026, 11, 23, 10), due=utc(2026, 11, 27, 17)
    )
    assert world["sweep"](utc(2026, 11, 26, 8, 59)) == []  # before-nudge is Thu 09:00 GMT
    assert [r.result for r in world["sweep"](utc(2026, 11, 26, 9, 0))] == ["sent"]


def test_weekends_are_skipped(world):
    # Due Saturday 5 Dec: the Friday before gets the reminder; nothing on Saturday or Sunday.
    world["commit"](
        "U0ALICE", "Europe/London", created=utc(2026, 11, 30, 10), due=utc(2026, 12, 5, 12)
    )
    sent = [r.item.slot_key.rsplit(":", 1)[-1] for r in world["sweep"](utc(2026, 12, 4, 9))]
    assert sent == ["before"]
    for day in (5, 6):
        for hour in (9, 12, 16):
            assert world["sweep"](utc(2026, 12, day, hour)) == []
    monday = world["sweep"](utc(2026, 12, 7, 9))
    assert [r.item.slot_key.rsplit(":", 1)[-1] for r in monday] == ["overdue-1"]


def test_a_late_sweep_outside_working_hours_waits_for_the_morning(world):
    world["commit"](
        "U0ALICE", "Europe/London", created=utc(2026, 11, 23, 10), due=utc(2026, 11, 27, 17)
    )
    # Saydo was down over Thursday 09:00 and is back at 20:00: not now, but 09:00 on Friday.
    reports = world["sweep"](utc(2026, 11, 26, 20))
    assert [(r.result, r.detail) for r in reports] == [
        ("postponed", "outside the owner's working hours, until 2026-11-27T09:00Z")
    ]
    friday = {
        r.item.slot_key.rsplit(":", 1)[-1]: r.result for r in world["sweep"](utc(2026, 11, 27, 9))
    }
    # Two reminders at once say less than one: the due-day nudge replaces the stale one.
    assert friday == {"before": "superseded", "due": "sent"}
    assert len(nudges_sent(world["slack"])) == 1


def test_overdue_nudges_grow_kinder_and_more_concrete(world):
    world["commit"](
        "U0ALICE",
        "Europe/London",
        created=utc(2026, 11, 30, 10),
        due=utc(2026, 12, 1, 17),
        recipient=None,
    )
    texts = []
    day = utc(2026, 12, 2, 9)
    while day < utc(2027, 1, 15):
        texts += [nudges_sent(world["slack"])[-1].args["text"] for _ in world["sweep"](day)]
        day += timedelta(days=1)
    overdue = texts[1:]
    assert len(overdue) == 6  # at most six overdue nudges
    assert "New date" in overdue[0]
    assert "in the way" in overdue[1]
    assert "Can't deliver" in overdue[2]
    assert all("overdue" not in t.lower() for t in overdue)  # kind words, not a bare "overdue"


def test_no_nudge_after_delivery(world):
    c = world["commit"](
        "U0ALICE", "Europe/London", created=utc(2026, 11, 23, 10), due=utc(2026, 11, 27, 17)
    )
    alice = world["person"]("U0ALICE", "Europe/London", utc(2026, 11, 23, 10))
    change_commitment(
        world["engine"],
        team_id="T0001",
        ref=c.ref,
        actor=alice,
        kind=EventKind.DELIVERED,
        now=utc(2026, 11, 25, 12),
    )
    for day in range(26, 31):
        assert world["sweep"](utc(2026, 11, day, 9)) == []
    assert nudges_sent(world["slack"]) == []
    assert set(states(world["engine"]).values()) == {"cancelled"}


def test_a_moved_commitment_gets_a_fresh_schedule(world):
    c = world["commit"](
        "U0ALICE", "Europe/London", created=utc(2026, 11, 23, 10), due=utc(2026, 11, 27, 17)
    )
    alice = world["person"]("U0ALICE", "Europe/London", utc(2026, 11, 23, 10))
    change_commitment(
        world["engine"],
        team_id="T0001",
        ref=c.ref,
        actor=alice,
        kind=EventKind.MOVED,
        due_at=utc(2026, 12, 4, 17),
        now=utc(2026, 11, 24, 12),
    )
    assert world["sweep"](utc(2026, 11, 27, 9)) == []  # the old due-day nudge is gone
    sent = world["sweep"](utc(2026, 12, 4, 9))
    assert [r.item.slot_key.rsplit(":", 1)[-1] for r in sent] == ["before", "due"][-len(sent) :]


def test_away_pauses_nudges_until_the_owner_is_back(world):
    world["commit"](
        "U0ALICE", "Europe/London", created=utc(2026, 11, 23, 10), due=utc(2026, 11, 27, 17)
    )
    alice = world["person"]("U0ALICE", "Europe/London", utc(2026, 11, 23, 10))
    set_away(world["engine"], person_id=alice.id, until=utc(2026, 11, 27, 12))
    reports = world["sweep"](utc(2026, 11, 26, 9))
    assert [r.result for r in reports] == ["postponed"]
    assert nudges_sent(world["slack"]) == []
    back = {
        r.item.slot_key.rsplit(":", 1)[-1]: r.result
        for r in world["sweep"](utc(2026, 11, 27, 12, 0))
    }
    # Thursday's reminder is a day stale by then; Friday's due-day one is sent.
    assert back == {"before": "superseded", "due": "sent"}
    assert len(nudges_sent(world["slack"], "U0ALICE")) == 1


def test_snooze_moves_the_reminder_not_the_due_date(world):
    c = world["commit"](
        "U0ALICE", "Europe/London", created=utc(2026, 11, 23, 10), due=utc(2026, 11, 30, 17)
    )
    alice = world["person"]("U0ALICE", "Europe/London", utc(2026, 11, 23, 10))
    at = snooze(
        world["engine"], team_id="T0001", ref=c.ref, actor=alice, now=utc(2026, 11, 27, 10)
    )  # a Friday
    assert at == utc(2026, 11, 30, 9)  # Monday 09:00
    sent = {
        r.item.slot_key.rsplit(":", 1)[-1]: r.result for r in world["sweep"](utc(2026, 11, 30, 9))
    }
    # The snoozed reminder and the due-day one fall together: one message, not two.
    assert sent == {"before": "superseded", "due": "superseded", "snoozed": "sent"}
    assert len(nudges_sent(world["slack"])) == 1


def test_a_slot_missed_while_down_is_sent_once_if_still_useful(world):
    world["commit"](
        "U0ALICE", "Europe/London", created=utc(2026, 11, 23, 10), due=utc(2026, 11, 27, 17)
    )
    # Saydo was down over Thursday's 09:00 before-nudge; it comes back at 14:00.
    assert [r.result for r in world["sweep"](utc(2026, 11, 26, 14))] == ["sent"]
    assert world["sweep"](utc(2026, 11, 26, 14, 1)) == []
    assert len(nudges_sent(world["slack"])) == 1


def test_a_slot_more_than_a_day_late_is_superseded_by_the_next(world):
    world["commit"](
        "U0ALICE", "Europe/London", created=utc(2026, 11, 23, 10), due=utc(2026, 11, 27, 17)
    )
    # Down from Wednesday to Friday 09:30: Thursday's before-nudge is stale, Friday's due is not.
    results = {
        r.item.slot_key.rsplit(":", 1)[-1]: r.result
        for r in world["sweep"](utc(2026, 11, 27, 9, 30))
    }
    assert results == {"before": "superseded", "due": "sent"}
    assert len(nudges_sent(world["slack"])) == 1


def test_rate_limits_are_retried_after_retry_after(world):
    world["commit"](
        "U0ALICE", "Europe/London", created=utc(2026, 11, 23, 10), due=utc(2026, 11, 27, 17)
    )
    world["slack"].fail("chat.postMessage", status=429, retry_after=1, times=1)
    assert [r.result for r in world["sweep"](utc(2026, 11, 26, 9))] == ["sent"]
    attempts = world["slack"].calls_to("chat.postMessage")
    assert [a.answered for a in attempts] == ["429", "ok"]


def test_a_rate_limit_outlasting_the_clients_retries_is_waited_out_in_the_same_sweep(world):
    world["commit"](
        "U0ALICE", "Europe/London", created=utc(2026, 11, 23, 10), due=utc(2026, 11, 27, 17)
    )
    world["slack"].fail("chat.postMessage", status=429, retry_after=1, times=4)
    assert [r.result for r in world["sweep"](utc(2026, 11, 26, 9))] == ["sent"]
    attempts = world["slack"].calls_to("chat.postMessage")
    assert [a.answered for a in attempts] == ["429"] * 4 + ["ok"]


def test_a_long_rate_limit_puts_the_message_back_until_retry_after(world):
    world["commit"](
        "U0ALICE", "Europe/London", created=utc(2026, 11, 23, 10), due=utc(2026, 11, 27, 17)
    )
    # The client tries three times, and the sweeper twice: six refusals outlast a sweep.
    world["slack"].fail("chat.postMessage", status=429, retry_after=1, times=6)
    now = utc(2026, 11, 26, 9)
    assert [r.result for r in world["sweep"](now)] == ["retry"]
    assert world["sweep"](now) == []  # not before Retry-After
    assert [r.result for r in world["sweep"](now + timedelta(seconds=1))] == ["sent"]
    assert len(nudges_sent(world["slack"])) == 1


@pytest.mark.parametrize("failure", [{"status": 500}, {"reset": True}])
def test_server_errors_and_resets_back_off_and_are_sent_once(world, failure):
    world["commit"](
        "U0ALICE", "Europe/London", created=utc(2026, 11, 23, 10), due=utc(2026, 11, 27, 17)
    )
    world["slack"].fail("chat.postMessage", times=3, **failure)  # more than the client retries
    now = utc(2026, 11, 26, 9)
    assert [r.result for r in world["sweep"](now)] == ["retry"]
    assert world["sweep"](now + timedelta(seconds=10)) == []  # backing off
    assert [r.result for r in world["sweep"](now + timedelta(seconds=30))] == ["sent"]
    assert len(nudges_sent(world["slack"])) == 1


@pytest.mark.parametrize(
    ("error", "detail"),
    [
        ("not_in_channel", "not_in_channel"),
        ("account_inactive", "account_inactive"),
        ("is_archived", "is_archived"),
        # A DM Slack cannot open, to someone in no partnership channel to tell privately.
        (
            "channel_not_found",
            "channel_not_found; no partnership channel of theirs to tell them privately",
        ),
        (
            "user_not_found",
            "user_not_found; no partnership channel of theirs to tell them privately",
        ),
    ],
)
def test_permanent_errors_are_recorded_and_not_retried(world, error, detail):
    world["commit"](
        "U0ALICE", "Europe/London", created=utc(2026, 11, 23, 10), due=utc(2026, 11, 27, 17)
    )
    world["slack"].fail("chat.postMessage", error=error, times=1)
    now = utc(2026, 11, 26, 9)
    assert [(r.result, r.detail) for r in world["sweep"](now)] == [("failed", detail)]
    assert world["sweep"](now + timedelta(hours=2)) == []
    with transaction(world["engine"]) as session:
        row = session.execute(
            select(OutboxMessage).where(OutboxMessage.slot_key.endswith(":before"))
        ).scalar_one()
    assert (row.state, row.last_error, row.attempts) == (State.FAILED.value, detail, 1)


def test_a_nudge_slack_cannot_dm_goes_privately_to_the_owner_in_the_partnership_channel(world):
    commitment = world["commit"](
        "U0ALICE", "Europe/London", created=utc(2026, 11, 23, 10), due=utc(2026, 11, 27, 17)
    )
    upsert_member(
        world["engine"],
        partnership_id=commitment.partnership.id,
        person=commitment.owner,
        organisation="Saydo Test Council",
        now=utc(2026, 11, 23, 10),
    )
    world["slack"].refuse_dms("U0ALICE")

    reports = world["sweep"](utc(2026, 11, 26, 9))

    assert [r.result for r in reports] == ["sent"]
    assert nudges_sent(world["slack"]) == []
    seen_by_alice = world["slack"].conversation("C0PARTNER", viewer="U0ALICE")
    (nudge,) = [m for m in seen_by_alice if m.get("ephemeral")]
    assert "send the budget" in nudge["text"] and "Mark delivered" in str(nudge["blocks"])
    seen_by_bob = world["slack"].conversation("C0PARTNER", viewer="U0BOB")
    assert "Mark delivered" not in str(seen_by_bob)  # never posted publicly
    with transaction(world["engine"]) as session:
        row = session.execute(
            select(OutboxMessage).where(OutboxMessage.slot_key.endswith(":before"))
        ).scalar_one()
    assert (row.state, row.fallback) == ("sent", "ephemeral in C0PARTNER: cannot_dm_bot")


def test_dry_run_sends_and_changes_nothing(world):
    world["commit"](
        "U0ALICE", "Europe/London", created=utc(2026, 11, 23, 10), due=utc(2026, 11, 27, 17)
    )
    reports = [
        r
        for r in run_sweeps(world["sweeper"], now=utc(2026, 11, 26, 9), dry_run=True)
        if r.item.kind == "nudge"
    ]
    assert [r.result for r in reports] == ["would send"]
    assert world["slack"].calls_to("chat.postMessage") == []
    assert states(world["engine"])["before"] == "pending"


def buttons_in(message: dict) -> list[str]:
    return [
        element["text"]["text"]
        for block in message.get("blocks", [])
        if block["type"] == "actions"
        for element in block["elements"]
    ]


def test_the_channel_message_is_updated_to_the_new_state_once_per_change(world):
    created = utc(2026, 11, 23, 10)
    c = world["commit"]("U0ALICE", "Europe/London", created=created, due=utc(2026, 11, 27, 17))
    record_channel_message(world["engine"], commitment_id=c.id, ts="1764000000.000100", now=created)
    alice = world["person"]("U0ALICE", "Europe/London", created)

    change_commitment(
        world["engine"],
        team_id="T0001",
        ref=c.ref,
        actor=alice,
        kind=EventKind.DELIVERED,
        now=created + timedelta(hours=1),
        note="https://docs.example.org/budget",
    )
    reports = run_sweeps(world["sweeper"], now=created + timedelta(hours=1, seconds=15))
    again = run_sweeps(world["sweeper"], now=created + timedelta(hours=2))

    assert [r.result for r in reports if r.item.kind == "channel_message"] == ["sent"]
    assert [r for r in again if r.item.kind == "channel_message"] == []
    [update] = world["slack"].calls_to("chat.update")
    assert (update.args["channel"], update.args["ts"]) == ("C0PARTNER", "1764000000.000100")
    assert "*delivered*" in update.args["blocks"][0]["text"]["text"]
    assert buttons_in(update.args) == []  # nothing left to click: it is delivered


def test_a_change_made_while_the_channel_message_was_on_its_way_still_updates_it(world):
    created = utc(2026, 11, 23, 10)
    c = world["commit"]("U0ALICE", "Europe/London", created=created, due=utc(2026, 11, 27, 17))
    alice = world["person"]("U0ALICE", "Europe/London", created)
    change_commitment(
        world["engine"],
        team_id="T0001",
        ref=c.ref,
        actor=alice,
        kind=EventKind.DELIVERED,
        now=created + timedelta(seconds=1),
        note="sent",
    )  # delivered before Saydo learnt where its "Logged" message is
    record_channel_message(world["engine"], commitment_id=c.id, ts="1764000000.000100", now=created)
    reports = run_sweeps(world["sweeper"], now=created + timedelta(seconds=15))

    assert [r.result for r in reports if r.item.kind == "channel_message"] == ["sent"]
    [update] = world["slack"].calls_to("chat.update")
    assert (update.args["channel"], update.args["ts"]) == ("C0PARTNER", "1764000000.000100")
    assert "*delivered*" in update.args["blocks"][0]["text"]["text"]


def test_a_commitment_whose_channel_message_is_unknown_updates_nothing(world):
    created = utc(2026, 11, 23, 10)
    c = world["commit"]("U0ALICE", "Europe/London", created=created, due=utc(2026, 11, 27, 17))
    alice = world["person"]("U0ALICE", "Europe/London", created)

    change_commitment(
        world["engine"],
        team_id="T0001",
        ref=c.ref,
        actor=alice,
        kind=EventKind.MOVED,
        now=created + timedelta(hours=1),
        due_at=utc(2026, 12, 4, 17),
    )
    run_sweeps(world["sweeper"], now=created + timedelta(hours=1, seconds=15))

    assert world["slack"].calls_to("chat.update") == []
