"""Reports end to end: the weekly summary through `saydo tick --now`, `/saydo stats` and the
App Home tab through a running `saydo`, all against the Slack stand-in."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import pytest
from sqlalchemy import update

from bot.commitments.lifecycle import EventKind
from bot.commitments.service import (
    change_commitment,
    ensure_partnership,
    log_commitment,
    save_person,
)
from bot.playground import slack_requests as doors
from storage.db import create_db_engine, transaction
from storage.models import Partnership
from tests.test_e2e_scheduler import saydo_cli

pytestmark = [pytest.mark.e2e, pytest.mark.share_saydo]  # one `saydo run` per module

CREATED = datetime(2026, 11, 16, 9, tzinfo=UTC)


@pytest.fixture
def db(database_url):
    engine = create_db_engine(database_url)
    yield engine
    engine.dispose()


def person(engine, user_id, tz="Europe/London"):
    return save_person(
        engine,
        team_id="T0001",
        user_id=user_id,
        name=user_id[2:].title(),
        tz=tz,
        locale="en-GB",
        now=CREATED,
    )


def commit(engine, partnership, owner, title, due, recipient=None):
    return log_commitment(
        engine,
        partnership=partnership,
        creator=owner,
        owner=owner,
        recipient=recipient,
        title=title,
        due_at=due,
        has_time=True,
        now=CREATED,
    ).commitment


def summaries_in(slack, channel="C0PARTNER"):
    return [c for c in slack.messages_to(channel) if "say/do" in c.args.get("text", "").lower()]


def test_the_weekly_summary_is_posted_once_at_the_partnerships_local_time(
    db, database_url, slack, people, tmp_path
):
    partnership = ensure_partnership(db, team_id="T0001", channel_id="C0PARTNER", name="housing")
    with transaction(db) as session:  # a New York partnership: Monday 09:00 is 14:00 UTC
        session.execute(
            update(Partnership)
            .where(Partnership.id == partnership.id)
            .values(tz="America/New_York", created_at=CREATED)
        )
    alice = person(db, "U0ALICE")
    kept = commit(db, partnership, alice, "send the budget", datetime(2026, 11, 24, 17, tzinfo=UTC))
    change_commitment(
        db,
        team_id="T0001",
        ref=kept.ref,
        actor=alice,
        kind=EventKind.DELIVERED,
        now=datetime(2026, 11, 24, 12, tzinfo=UTC),
    )
    commit(db, partnership, alice, "share the minutes", datetime(2026, 11, 25, 17, tzinfo=UTC))

    def tick(now):
        result = saydo_cli(
            "tick", "--now", now, database_url=database_url, slack=slack, cwd=tmp_path
        )
        assert result.returncode == 0, result.stderr
        return result.stdout

    tick("2026-11-30T09:00Z")  # 09:00 in London, 04:00 in New York: not yet
    assert summaries_in(slack) == []
    out = tick("2026-11-30T14:00Z")
    assert "weekly summary for housing" in out
    tick("2026-11-30T14:05Z")
    posted = summaries_in(slack)
    assert len(posted) == 1
    text = json.dumps(posted[0].args["blocks"], ensure_ascii=False)
    assert "Weekly say/do: housing" in text
    assert "due 2 · kept 1 · late 0 · missed 1 · say/do *50%*" in text
    assert "Mon 23 Nov to Sun 29 Nov 2026 (America/New_York)" in text


def test_a_quiet_partnership_gets_one_line(db, database_url, slack, people, tmp_path):
    partnership = ensure_partnership(db, team_id="T0001", channel_id="C0PARTNER", name="quiet")
    del partnership
    result = saydo_cli(
        "tick", "--now", "2026-11-30T09:00Z", database_url=database_url, slack=slack, cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    posted = [c for c in slack.messages_to("C0PARTNER") if "quiet week" in c.args["text"]]
    assert len(posted) == 1 and len(posted[0].args["blocks"]) == 1


def test_each_partnerships_summary_goes_only_to_its_own_channel(
    db, database_url, slack, people, tmp_path
):
    """Two partnerships on one Saydo: each weekly summary is posted in its own channel only,
    and names nothing of the other's (no title, no person), and none is sent as a DM."""
    housing = ensure_partnership(db, team_id="T0001", channel_id="C0PARTNER", name="housing")
    transport = ensure_partnership(db, team_id="T0001", channel_id="C0OTHER", name="transport")
    with transaction(db) as session:
        session.execute(update(Partnership).values(created_at=CREATED))
    alice, bob = person(db, "U0ALICE"), person(db, "U0BOB")
    due = datetime(2026, 11, 25, 17, tzinfo=UTC)
    done = commit(db, housing, alice, "send the housing budget", due)
    change_commitment(
        db, team_id="T0001", ref=done.ref, actor=alice, kind=EventKind.DELIVERED,
        now=datetime(2026, 11, 24, 12, tzinfo=UTC),
    )  # fmt: skip
    commit(db, transport, bob, "map the bus routes", due)  # missed

    result = saydo_cli(
        "tick", "--now", "2026-11-30T09:05Z", database_url=database_url, slack=slack, cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    posts = [c for c in slack.calls_to("chat.postMessage") if "say/do" in c.args["text"].lower()]
    assert sorted(c.args["channel"] for c in posts) == ["C0OTHER", "C0PARTNER"]
    shown = {c.args["channel"]: json.dumps(c.args, ensure_ascii=False) for c in posts}
    assert "housing" in shown["C0PARTNER"] and "transport" not in shown["C0PARTNER"]
    assert "map the bus routes" not in shown["C0PARTNER"] and "U0BOB" not in shown["C0PARTNER"]
    assert "transport" in shown["C0OTHER"] and "housing" not in shown["C0OTHER"]
    assert "send the housing budget" not in shown["C0OTHER"]
    assert "U0ALICE" not in shown["C0OTHER"]


def reply_to(slack, count=1):
    return slack.wait_for("response_url", count=count)[count - 1].args


def test_saydo_stats_replies_privately_and_refuses_nonsense(saydo, people, db):
    partnership = ensure_partnership(db, team_id="T0001", channel_id="C0PARTNER", name="housing")
    alice = person(db, "U0ALICE")
    commit(db, partnership, alice, "send the budget", datetime(2026, 11, 20, 17, tzinfo=UTC))
    saydo.command("/saydo", "stats 2026-11-16 to 2026-11-22")
    reply = reply_to(people)
    assert reply["response_type"] == "ephemeral"
    text = json.dumps(reply["blocks"], ensure_ascii=False)
    assert "Say/do for housing, 2026-11-16 to 2026-11-22" in text
    assert "due 1 · kept 0 · late 0 · missed 1 · say/do *0%*" in text
    saydo.command("/saydo", "stats since forever")
    refusal = json.dumps(reply_to(people, 2))
    assert "I don't know the period" in refusal and "/saydo stats last week" in refusal


def home_event(user):
    return doors.app_home_opened_event(
        user_id=user, channel_id="D0HOME", event_ts=f"{time.time():.6f}"
    )


def test_home_shows_my_commitments_and_switches_partnership(saydo, people, db):
    people.add_channel("C0OTHER", name="care-board", members=["U0ALICE", "U0BOB", "UBOT"])
    housing = ensure_partnership(db, team_id="T0001", channel_id="C0PARTNER", name="housing")
    care = ensure_partnership(db, team_id="T0001", channel_id="C0OTHER", name="care-board")
    alice, bob = person(db, "U0ALICE"), person(db, "U0BOB", tz="America/New_York")
    commit(db, housing, alice, "send the budget", datetime(2027, 1, 8, 17, tzinfo=UTC))
    commit(db, housing, bob, "book the room", datetime(2027, 1, 9, 17, tzinfo=UTC), recipient=alice)
    commit(db, care, alice, "write the care plan", datetime(2027, 1, 6, 17, tzinfo=UTC))

    saydo.event(home_event("U0ALICE"))
    view = people.wait_for("views.publish")[0].args["view"]
    text = json.dumps(view)
    assert "write the care plan" in text  # her soonest commitment's partnership first
    select = next(b["accessory"] for b in view["blocks"] if "accessory" in b)
    assert {o["text"]["text"] for o in select["options"]} == {"#care-board", "#housing"}
    assert "commitment_deliver" in text  # her buttons

    choice = doors.static_select_action(
        action_id=select["action_id"], block_id="b", value=str(housing.id), text="#housing"
    )
    saydo.interaction(
        doors.view_block_actions(
            [choice],
            user=doors.user_object("U0ALICE", team_id="T0001"),
            team=doors.team_object("T0001", domain="saydo-test"),
            view={"id": "V1", "type": "home"},
            trigger_id=doors.new_trigger_id(),
        )
    )
    switched = json.dumps(people.wait_for("views.publish", 2)[1].args["view"])
    assert "send the budget" in switched and "book the room" in switched  # owed to her
    assert "write the care plan" not in switched

    saydo.command("/done", "1")  # a change she makes refreshes her Home
    refreshed = people.wait_for("views.publish", 3)[2].args
    assert refreshed["user_id"] == "U0ALICE"
    assert "send the budget" not in json.dumps(refreshed["view"])
