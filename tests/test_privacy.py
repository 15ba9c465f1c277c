"""Privacy between partnerships: for every command and view that lists or shows data, someone
who is not a member of a partnership sees nothing of it, and a member still sees their own.

The real Bolt app is dispatched in-process (signed requests, real handlers, real database),
and everything it sends to Slack is recorded by the stand-in: the check is on all of it.
Every title, name, organisation and channel of the secret partnership contains "secret", and
its due dates are days nothing else in the test falls on.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta

import pytest
from slack_bolt import App
from slack_bolt.request import BoltRequest

from bot.app import create_app
from bot.blocks import ids
from bot.blocks.charter import AGREE
from bot.blocks.reports import HOME_SWITCH
from bot.blocks.reviews import RECORD_BUTTON, record_value
from bot.charter import service as charter
from bot.commitments.service import CommitmentView, ensure_partnership, log_commitment, save_person
from bot.config import Settings
from bot.partnerships.members import deactivate_member, knows_member, upsert_member
from bot.playground import slack_requests as doors
from bot.playground.standin import SlackStandIn
from bot.reports.reviews import log_lesson
from bot.slack_client import build_web_client
from storage import clock
from tests.saydo_process import BOT_TOKEN, SIGNING_SECRET, TEAM_ID, signed_headers

SECRET = "C0THEIRS"
OURS = "C0PARTNER"  # the `people` fixture's channel: Alice, Bob and Carol
OUTSIDER, MEMBER = "U0ALICE", "U0DAVE"


@pytest.fixture
def secret(engine, people: SlackStandIn) -> dict:
    """A partnership Alice is not in: Dave and Erin, an overdue commitment of Dave's to Erin,
    a proposal to Dave, and a lesson."""
    now = clock.now()
    people.add_user("U0DAVE", name="dave", real_name="Dave Secretkeeper", tz="Europe/London")
    people.add_user("U0ERIN", name="erin", real_name="Erin Secretary", tz="Europe/London")
    people.add_channel(SECRET, name="secret-merger", members=["U0DAVE", "U0ERIN", "UBOT"])
    partnership = ensure_partnership(
        engine, team_id=TEAM_ID, channel_id=SECRET, name="secret-merger"
    )
    dave, erin = (
        save_person(engine, team_id=TEAM_ID, user_id=u, name=n, tz="Europe/London", locale="en-GB",
                    now=now)
        for u, n in (("U0DAVE", "Dave Secretkeeper"), ("U0ERIN", "Erin Secretary"))
    )  # fmt: skip
    for person in (dave, erin):
        upsert_member(
            engine,
            partnership_id=partnership.id,
            person=person,
            organisation="Secret Holdings",
            now=now,
        )

    def commit(title: str, *, creator, due_at: datetime, made: datetime) -> CommitmentView:
        return log_commitment(
            engine,
            partnership=partnership,
            creator=creator,
            owner=dave,
            recipient=erin,
            title=title,
            due_at=due_at,
            has_time=False,
            now=made,
        ).commitment

    overdue = commit(
        "secret merger plan",
        creator=dave,
        due_at=now - timedelta(days=40),
        made=now - timedelta(days=60),
    )
    proposal = commit(
        "secret proposal to review", creator=erin, due_at=now + timedelta(days=300), made=now
    )
    log_lesson(engine, partnership=partnership, person=dave, text="secret lesson", now=now)
    return {"partnership": partnership, "overdue": overdue, "proposal": proposal}


@pytest.fixture
def app(engine, people) -> App:
    settings = Settings(
        bot_token=BOT_TOKEN, signing_secret=SIGNING_SECRET, slack_api_url=people.url
    )
    return create_app(
        settings, engine=engine, client=build_web_client(settings), process_before_response=True
    )


def dispatch(app: App, body: str, content_type: str = doors.FORM) -> str:
    response = app.dispatch(
        BoltRequest(body=body, headers=signed_headers(body, content_type=content_type))
    )
    assert response.status == 200, response.body
    return response.body or ""


def command(text: str, *, name: str = "/saydo", outsider_in: str = OURS, member_in: str = SECRET):
    """A slash command; the outsider sends it from `outsider_in`, the member from `member_in`
    (their channel, unless it is a DM's command)."""

    def send(app: App, slack: SlackStandIn, user: str, secret: dict) -> str:
        channel = member_in if user == MEMBER else outsider_in
        return dispatch(
            app,
            doors.slash_command_body(
                command=name,
                text=text.format(**{k: v.ref for k, v in secret.items() if k != "partnership"}),
                user_id=user,
                channel_id=channel,
                channel_name="secret-merger" if channel == SECRET else "housing-partnership",
                team_id=TEAM_ID,
                response_url=slack.response_url(),
                trigger_id=doors.new_trigger_id(),
            ),
        )

    return send


def button(action_id: str, value: Callable[[dict], str], *, outsider_in: str = OURS):
    """A button pressed on a message in a channel (as Slack sends `block_actions`)."""

    def send(app: App, slack: SlackStandIn, user: str, secret: dict) -> str:
        channel = SECRET if user == MEMBER else outsider_in
        payload = doors.message_block_actions(
            [doors.button_action(action_id=action_id, block_id="b", value=value(secret))],
            user=doors.user_object(user, team_id=TEAM_ID),
            team=doors.team_object(TEAM_ID, domain="saydo-test"),
            channel={"id": channel, "name": "a-channel"},
            message_ts="1764000000.000200",
            response_url=slack.response_url(),
            trigger_id=doors.new_trigger_id(),
        )
        return dispatch(app, doors.interaction_body(payload))

    return send


def home_opened(app: App, slack: SlackStandIn, user: str, secret: dict) -> str:
    event = doors.app_home_opened_event(
        user_id=user, channel_id="D0HOME", event_ts=f"{time.time():.6f}"
    )
    body = doors.event_body(
        event, team_id=TEAM_ID, bot_user_id="UBOT", event_id=f"Ev{time.time_ns()}"
    )
    return dispatch(app, body, doors.JSON)


def home_switch(app: App, slack: SlackStandIn, user: str, secret: dict) -> str:
    choice = doors.static_select_action(
        action_id=HOME_SWITCH, block_id="b", value=str(secret["partnership"].id), text="x"
    )
    payload = doors.view_block_actions(
        [choice],
        user=doors.user_object(user, team_id=TEAM_ID),
        team=doors.team_object(TEAM_ID, domain="saydo-test"),
        view={"id": "V0HOME", "type": "home", "blocks": [], "hash": "1.a"},
        trigger_id=doors.new_trigger_id(),
    )
    return dispatch(app, doors.interaction_body(payload))


def shortcut_in_dm(app: App, slack: SlackStandIn, user: str, secret: dict) -> str:
    """The "Make this a commitment" message shortcut in a DM: the form's partnership picker."""
    payload = doors.message_shortcut(
        ids.MAKE_COMMITMENT_SHORTCUT,
        user=doors.user_object(user, team_id=TEAM_ID),
        team=doors.team_object(TEAM_ID, domain="saydo-test"),
        channel={"id": f"D{user}", "name": "directmessage"},
        message={"type": "message", "user": user, "ts": "1764000000.000100", "text": "a note"},
        response_url=slack.response_url(),
        trigger_id=doors.new_trigger_id(),
    )
    return dispatch(app, doors.interaction_body(payload))


def _overdue(secret: dict) -> str:
    return str(secret["overdue"].ref)


def _proposal(secret: dict) -> str:
    return str(secret["proposal"].ref)


READS = {
    "list overdue": command("list overdue"),
    "list a member": command("list <@U0DAVE|dave>"),
    "list their recipient": command("list <@U0ERIN|erin>"),
    "list all, in their channel": command("list all", outsider_in=SECRET),
    "list page button": button(ids.LIST_PAGE, lambda s: '{"filter":"overdue","page":1}'),
    "stats, in their channel": command("stats this quarter", outsider_in=SECRET),
    "lessons, in their channel": command("lessons", outsider_in=SECRET),
    "coffee": command("coffee"),
    "done": command("{overdue} finished", name="/done"),
    "move": command("move {overdue} next Friday"),
    "drop": command("drop {overdue}"),
    "accept button": button(ids.ACCEPT, _proposal),
    "deliver button": button(ids.DELIVER, _overdue),
    "new date button": button(ids.NEW_DATE, _overdue),
    "not yet button": button(ids.NOT_YET, _overdue),
    "received button": button(ids.RECEIVED, _overdue),
    "undo button": button(ids.UNDO, _overdue),
    "can't deliver button": button(ids.CANT_DELIVER, _overdue),
    "record the review button": button(
        RECORD_BUTTON,
        lambda s: record_value(s["partnership"].id, (clock.now() - timedelta(days=2)).date()),
    ),
    "home tab": home_opened,
    "home partnership switch": home_switch,
    "message shortcut's partnership picker": shortcut_in_dm,
    "/commit form's partnership picker": command(
        "", name="/commit", outsider_in="D0ALICE", member_in="D0DAVE"
    ),
}


def seen(app: App, slack: SlackStandIn, read, user: str, secret: dict) -> str:
    """Everything Slack received for one request: the HTTP answer and every Web API call."""
    before = len(slack.calls)
    answer = read(app, slack, user, secret)
    return answer + json.dumps([c.args for c in slack.calls[before:]], ensure_ascii=False)


@pytest.mark.parametrize("read", READS.values(), ids=READS.keys())
def test_an_outsider_sees_nothing_of_another_partnership(app, people, engine, secret, read):
    received = seen(app, people, read, OUTSIDER, secret).lower()
    assert "secret" not in received
    for commitment in (secret["overdue"], secret["proposal"]):
        assert str(int(commitment.due_at.timestamp())) not in received
        assert commitment.due_at.date().isoformat() not in received


@pytest.mark.parametrize("read", READS.values(), ids=READS.keys())
def test_a_member_still_sees_their_own(app, people, engine, secret, read):
    assert "secret" in seen(app, people, read, MEMBER, secret).lower()


def test_a_member_saydo_missed_is_let_in_from_the_channel_and_an_outsider_is_not(
    app, people, engine, secret
):
    partnership_id = secret["partnership"].id
    dave = secret["overdue"].owner
    deactivate_member(engine, partnership_id=partnership_id, person_id=dave.id)  # a missed join
    assert not knows_member(engine, partnership_id=partnership_id, user_id=MEMBER)
    list_all = command("list all", outsider_in=SECRET)
    assert "secret merger plan" in seen(app, people, list_all, MEMBER, secret)
    assert knows_member(engine, partnership_id=partnership_id, user_id=MEMBER)
    assert "secret" not in seen(app, people, list_all, OUTSIDER, secret).lower()
    assert not knows_member(engine, partnership_id=partnership_id, user_id=OUTSIDER)


def test_an_outsider_cannot_join_a_partnership_by_agreeing_to_its_charter(
    app, people, engine, secret
):
    partnership_id, dave = secret["partnership"].id, secret["overdue"].owner
    current = charter.setup(
        engine,
        partnership_id=partnership_id,
        actor=dave,
        agreed_by="Dave Secretkeeper",
        name="secret-merger",
        tz="Europe/London",
        draft=charter.current_charter(engine, partnership_id=partnership_id).draft,
        now=clock.now(),
    )
    proposal = charter.propose(
        engine,
        partnership_id=partnership_id,
        proposer=dave,
        organisation="Secret Holdings",
        base_version=current.version,
        draft=replace(current.draft, purpose="secret purpose"),
        organisations=["Secret Holdings", "Another"],
        now=clock.now(),
    ).proposal
    agree = button(AGREE, lambda s: str(proposal.id), outsider_in=SECRET)
    assert "secret" not in seen(app, people, agree, OUTSIDER, secret).lower()
    assert not knows_member(engine, partnership_id=partnership_id, user_id=OUTSIDER)
    agreed = charter.get_proposal(engine, proposal_id=proposal.id).agreements
    assert [a.name for a in agreed] == ["Dave Secretkeeper"]  # the proposer's, nobody else's
