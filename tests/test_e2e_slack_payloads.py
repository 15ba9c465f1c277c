"""Real Slack payloads, as Slack sends them (samples in tests/slack/samples), into `saydo run`."""

from __future__ import annotations

import json
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.blocks import ids
from bot.commitments.service import get_by_ref
from bot.partnerships.members import find_partnership, list_members
from bot.playground import slack_requests as doors
from storage.db import transaction
from storage.models import Commitment

pytestmark = [pytest.mark.e2e, pytest.mark.share_saydo]  # one `saydo run` per module

SAMPLES = Path(__file__).parent / "slack" / "samples"
TEAM = "T0001"


def sample(name: str, **event_changes) -> dict:
    """A sample body with a fresh event id (each delivery is a new event) and a fresh time."""
    body = json.loads((SAMPLES / f"payload_{name}.json").read_text())
    body["event_id"] = f"Ev{uuid.uuid4().hex[:10].upper()}"
    body["event_time"] = int(time.time())
    body["event"].update(event_changes)
    return body


def deliver(saydo, body: dict):
    return saydo.post_signed(json.dumps(body), content_type=doors.JSON)


def in_ten_days() -> str:
    return (datetime.now(UTC) + timedelta(days=10)).strftime("%d %b %Y")


def commitments(engine) -> int:
    with transaction(engine) as session:
        return session.execute(select(func.count()).select_from(Commitment)).scalar_one()


@pytest.mark.parametrize(
    "name", ["message_changed", "reaction_added", "channel_shared", "app_uninstalled"]
)
def test_signed_events_saydo_ignores_are_answered_200(saydo, people, name):
    response = deliver(saydo, sample(name))
    assert response.status_code == 200
    saydo.settle()  # all it will log about these requests is in the log now
    assert "Traceback" not in saydo.log()
    assert "Unhandled request" not in saydo.log()


@pytest.mark.parametrize("name", ["app_mention_from_workflow", "app_mention_from_app"])
def test_mentions_by_workflows_and_apps_are_ignored_quietly(saydo, people, engine, name):
    text = f"<@UBOT> I'll send the budget by {in_ten_days()}"
    assert deliver(saydo, sample(name, text=text)).status_code == 200
    # A person's mention afterwards is answered: had the bot's been, it would be answered first.
    deliver(saydo, sample("app_mention", text="<@UBOT> help", ts="1595926231.000100"))
    answer = people.wait_for("chat.postMessage")[0]
    assert answer.args["thread_ts"] == "1595926231.000100"
    assert people.calls_to("chat.postEphemeral") == []
    assert commitments(engine) == 0
    saydo.settle()  # all it will log about these requests is in the log now
    assert "KeyError" not in saydo.log() and "Traceback" not in saydo.log()


def test_an_edited_mention_that_logged_a_commitment_never_logs_another(saydo, people, engine):
    deliver(saydo, sample("app_mention", text=f"<@UBOT> I'll send the budget by {in_ten_days()}"))
    people.wait_for("chat.postMessage")
    later = (datetime.now(UTC) + timedelta(days=20)).strftime("%d %b %Y")
    edited = sample("app_mention_edited", text=f"<@UBOT> I'll send the budget by {later}")
    assert deliver(saydo, edited).status_code == 200
    told = people.wait_for("chat.postEphemeral")[0].args
    assert told["user"] == "U0ALICE"
    assert "already logged as *#1*" in told["text"]
    assert "New date" in json.dumps(told["blocks"])
    assert commitments(engine) == 1
    assert len(people.calls_to("chat.postMessage")) == 1  # nothing more in the channel


def test_an_edited_mention_that_logged_nothing_is_read_afresh(saydo, people, engine):
    deliver(saydo, sample("app_mention", text="<@UBOT> I'll send the budget"))
    assert "due date" in people.wait_for("chat.postEphemeral")[0].args["text"]
    fixed = sample("app_mention_edited", text=f"<@UBOT> I'll send the budget by {in_ten_days()}")
    deliver(saydo, fixed)
    answer = people.wait_for("chat.postMessage")[0].args
    assert "Logged *#1*" in answer["text"]
    assert get_by_ref(engine, team_id=TEAM, ref=1).title == "send the budget"


def test_a_partnership_first_seen_through_a_mention_is_named_and_knows_its_members(
    saydo, people, engine
):
    deliver(saydo, sample("app_mention", text=f"<@UBOT> I'll send the budget by {in_ten_days()}"))
    people.wait_for("chat.postMessage")
    partnership = find_partnership(engine, team_id=TEAM, channel_id="C0PARTNER")
    assert partnership.name == "housing-partnership"
    members = list_members(engine, partnership_id=partnership.id)
    organisations = {m.person.user_id: m.organisation for m in members}
    assert organisations == {
        "U0ALICE": "Saydo Test Council",
        "U0BOB": "Saydo Test Council",
        "U0CAROL": "Northshire NHS Trust",
    }


def test_a_renamed_channel_renames_its_partnership(saydo, people, engine):
    deliver(saydo, sample("app_mention", text=f"<@UBOT> I'll send the budget by {in_ten_days()}"))
    people.wait_for("chat.postMessage")
    assert deliver(saydo, sample("channel_rename")).status_code == 200
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        name = find_partnership(engine, team_id=TEAM, channel_id="C0PARTNER").name
        if name == "housing-and-care":
            break
        time.sleep(0.05)
    assert name == "housing-and-care"


def _press(saydo, slack, action_id: str, value: str) -> dict:
    url = slack.response_url()
    response = saydo.interaction(
        doors.message_block_actions(
            [doors.button_action(action_id=action_id, block_id="b", value=value)],
            user=doors.user_object("U0ALICE", team_id=TEAM),
            team=doors.team_object(TEAM, domain="saydo-test"),
            channel={"id": "C0PARTNER", "name": "partnership"},
            message_ts="1764000000.000100",
            response_url=url,
            trigger_id=doors.new_trigger_id(),
        )
    )
    assert response.status_code == 200, (action_id, value)
    path = "/" + url.split("/", 3)[3]
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        posts = [c.args for c in slack.calls_to("response_url") if c.path == path]
        if posts:
            return posts[0]
        time.sleep(0.02)
    raise AssertionError(f"no answer to {action_id}={value!r}")


NOT_A_COMMITMENT = ("abc", "", "12abc", str(2**63), "-1")
BUTTONS = (ids.ACCEPT, ids.DECLINE, ids.RECEIVED, ids.UNDO, ids.SNOOZE, ids.CANT_DELIVER)


def test_a_button_with_a_value_that_is_no_commitment_gets_a_polite_refusal(saydo, people):
    for action_id in BUTTONS:
        for value in NOT_A_COMMITMENT:
            answer = _press(saydo, people, action_id, value)
            assert answer["response_type"] == "ephemeral"
            assert "can't find commitment" in answer["text"] or "Only the owner" in answer["text"]
    saydo.settle()  # all it will log about these requests is in the log now
    assert "Traceback" not in saydo.log()
