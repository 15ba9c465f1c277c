"""The playground's engine, in process: the real Saydo behind Slack's doors, a stand-in Slack
whose every call is checked against Slack's spec, and a clock that moves on."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from wsgiref.util import setup_testing_defaults
from zoneinfo import ZoneInfo

import pytest
import yaml
from PIL import Image
from sqlalchemy import select

from bot.blocks import ids
from bot.blocks import modals as forms
from bot.commitments.service import person_ref
from bot.costs import service as cost_service
from bot.objectives import service as objective_service
from bot.playground import playground as engine_module
from bot.playground import render
from bot.playground import workspace as cast
from bot.playground.playground import Playground, PlaygroundError
from bot.playground.seed_quarter import seed_quarter
from bot.playground.serve import reset
from bot.playground.standin import dm_id
from bot.playground.web import make_app
from storage import clock
from storage.db import transaction
from storage.models import Commitment, Member, Objective, OutboxMessage, Person
from tests.slack_contract import call_problems
from tests.test_playground_render import browser_values, parse

ALICE, BEN, CHLOE, PRIYA = "U0ALICE", "U0BEN", "U0CHLOE", "U0PRIYA"
CHANNEL = cast.CHANNEL_ID
LONDON = ZoneInfo("Europe/London")
ROOT = Path(__file__).resolve().parents[1]


# The playground's clock starts here in every test, whatever the day: a Sunday noon in London,
# so "by Tuesday" is two days ahead and the next weekly summary is tomorrow morning's.
STARTS_AT = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


@pytest.fixture
def playground(tmp_path) -> Iterator[Playground]:
    started = Playground(tmp_path / "playground.db", contract=call_problems)
    clock.move_to(STARTS_AT)  # a fresh playground keeps it; stopping gives back the real clock
    started.start()
    yield started
    started.stop()
    started.slack.assert_clean()


def texts(playground: Playground, conversation: str, viewer: str) -> list[str]:
    """What `viewer` reads in a conversation: each message's text and block texts."""
    return [_all_text(m) for m in playground.slack.conversation(conversation, viewer=viewer)]


def _all_text(node) -> str:
    if isinstance(node, dict):
        return " ".join(_all_text(v) for k, v in node.items() if k not in ("ts", "user", "team"))
    if isinstance(node, list):
        return " ".join(_all_text(v) for v in node)
    return node if isinstance(node, str) else ""


def latest_button(playground: Playground, conversation: str, viewer: str, action_id: str):
    for message in reversed(playground.slack.conversation(conversation, viewer=viewer)):
        for block in message.get("blocks", []):
            for element in block.get("elements", []):
                if element.get("action_id") == action_id:
                    return message, block, element
    raise AssertionError(f"no {action_id} button in {conversation} for {viewer}")


def commitments(playground: Playground) -> list[Commitment]:
    with transaction(playground.engine) as session:
        return list(session.execute(select(Commitment).order_by(Commitment.id)).scalars())


def filled(view: dict, values: dict[tuple[str, str], str]) -> dict[str, dict[str, list[str]]]:
    """A form as a person submits it in the page: what it shows, with `values` typed in."""
    users = [(m.user_id, m.real_name) for m in cast.MEMBERS]
    submitted = browser_values(parse(render.view_html(view, names={}, users=users)))
    for (block_id, action_id), value in values.items():
        submitted[block_id][action_id] = [value]
    return submitted


def next_local(weekday: int, at_hour: int) -> timedelta:
    """How far the playground clock is from the next `weekday` at `at_hour`:00 in London."""
    now = clock.now().astimezone(LONDON)
    days = (weekday - now.weekday()) % 7 or 7
    target = (now + timedelta(days=days)).replace(hour=at_hour, minute=0, second=0, microsecond=0)
    return target - now


def test_saydo_is_invited_to_the_channel_and_knows_each_members_organisation(playground):
    with transaction(playground.engine) as session:
        organisations = sorted(session.execute(select(Member.organisation)).scalars())

    assert organisations == sorted(cast.organisation_of(m.user_id).name for m in cast.MEMBERS)


def test_commit_is_confirmed_in_the_channel_and_nudged_in_the_owners_dm(playground):
    playground.type(ALICE, CHANNEL, "/commit send the budget baseline by Tuesday for @chloe")

    [confirmation] = texts(playground, CHANNEL, ALICE)
    assert "send the budget baseline" in confirmation
    assert "<@U0CHLOE>" in confirmation  # the recipient, resolved from the typed @chloe
    [commitment] = commitments(playground)
    assert commitment.status == "open"

    playground.advance(clock.now() + timedelta(weeks=1))

    dm = playground.slack.conversation(dm_id(ALICE), viewer=ALICE)
    assert len(dm) >= 3  # before, on and after the due date
    sent_at = [clock.now().fromtimestamp(float(m["ts"]), LONDON) for m in dm]
    assert all((t.hour, t.minute) == (9, 0) for t in sent_at)  # Alice's 09:00, London
    assert "Mark delivered" in _all_text(dm[-1])


def test_mark_delivered_opens_the_form_and_the_recipient_is_asked_to_confirm(playground):
    playground.type(ALICE, CHANNEL, "/commit send the budget baseline by Tuesday for @chloe")
    playground.advance(clock.now() + timedelta(days=1))
    message, block, button = latest_button(playground, CHANNEL, ALICE, ids.DELIVER)

    playground.click(
        ALICE,
        conversation=CHANNEL,
        message_ts=message["ts"],
        block_id=block["block_id"],
        action_id=ids.DELIVER,
        value=button["value"],
    )
    [form] = playground.slack.modals_of(ALICE)
    errors = playground.submit(
        ALICE, form["id"], filled(form, {forms.EVIDENCE: "https://docs.example.org/b"})
    )

    assert errors == {}
    assert playground.slack.modals_of(ALICE) == []
    [commitment] = commitments(playground)
    assert commitment.status == "delivered"
    assert "Received" in " ".join(texts(playground, dm_id(CHLOE), CHLOE))


def test_the_logged_message_in_the_channel_shows_the_delivery_and_drops_its_buttons(playground):
    due = clock.now().astimezone(LONDON) + timedelta(days=3)
    playground.type(ALICE, CHANNEL, f"/commit send the budget by {due:%d %b %Y} for @chloe")
    logged, block, button = latest_button(playground, CHANNEL, ALICE, ids.DELIVER)
    playground.click(
        ALICE,
        conversation=CHANNEL,
        message_ts=logged["ts"],
        block_id=block["block_id"],
        action_id=ids.DELIVER,
        value=button["value"],
    )
    [form] = playground.slack.modals_of(ALICE)
    playground.submit(ALICE, form["id"], filled(form, {forms.EVIDENCE: "https://docs.example/b"}))

    playground.advance(clock.now() + timedelta(minutes=1))  # the outbox's next sweep

    [message] = [
        m for m in playground.slack.conversation(CHANNEL, viewer=ALICE) if m["ts"] == logged["ts"]
    ]
    assert "Logged *#1* for <@U0ALICE>: *delivered*." in _all_text(message)
    assert "Mark delivered" not in _all_text(message) and "Undo" not in _all_text(message)
    names = {m.user_id: m.real_name for m in cast.MEMBERS}
    assert "delivered" in render.message_html(message, names=names)  # what the page shows


def test_commit_without_text_opens_the_form_which_refuses_a_past_date(playground):
    playground.type(BEN, CHANNEL, "/commit")
    [form] = playground.slack.modals_of(BEN)
    title, due = forms.TITLE, forms.DUE_DATE
    yesterday = (clock.now().astimezone(LONDON) - timedelta(days=1)).date().isoformat()
    tomorrow = (clock.now().astimezone(LONDON) + timedelta(days=1)).date().isoformat()

    errors = playground.submit(
        BEN, form["id"], filled(form, {title: "book the venue", due: yesterday})
    )
    assert due[0] in errors
    assert commitments(playground) == []
    assert len(playground.slack.modals_of(BEN)) == 1  # still open, to correct

    errors = playground.submit(
        BEN, form["id"], filled(form, {title: "book the venue", due: tomorrow})
    )
    assert errors == {}
    [commitment] = commitments(playground)
    assert commitment.title == "book the venue"
    assert any("book the venue" in t for t in texts(playground, CHANNEL, BEN))


def test_a_partner_uses_a_mention_in_the_shared_channel_as_in_slack_connect(playground):
    playground.type(PRIYA, CHANNEL, "/commit share the prototype by Friday")

    [refusal] = texts(playground, CHANNEL, PRIYA)
    assert "not shared in Slack Connect channels" in refusal
    assert texts(playground, CHANNEL, ALICE) == []  # only Priya saw it
    assert commitments(playground) == []

    playground.type(PRIYA, CHANNEL, "@saydo I'll share the prototype by Friday")

    [commitment] = commitments(playground)
    assert commitment.title == "share the prototype"
    channel = texts(playground, CHANNEL, ALICE)
    assert "<@UBOT>" in channel[0]  # her message, with Saydo mentioned
    assert any("share the prototype" in t for t in channel[1:])  # Saydo's confirmation


def test_a_person_picked_by_full_name_stays_a_mention_in_the_title(playground):
    due = clock.now().astimezone(LONDON) + timedelta(days=3)
    playground.type(BEN, CHANNEL, f"/commit brief @Alice Adams, not <!here>, by {due:%d %b %Y}")

    [commitment] = commitments(playground)
    assert commitment.title == "brief <@U0ALICE|alice>, not <!here>"
    playground.type(BEN, CHANNEL, "/saydo list")
    listed = texts(playground, CHANNEL, BEN)[-1]
    assert "brief <@U0ALICE>, not &lt;!here&gt;" in listed  # a mention; no ping for everyone
    names = {m.user_id: m.real_name for m in cast.MEMBERS}
    shown = render.message_html(playground.slack.conversation(CHANNEL, viewer=BEN)[-1], names=names)
    assert '<span class="mention">@Alice Adams</span>, not &lt;!here&gt;' in shown


def test_an_unknown_slash_command_is_answered_as_slack_does(playground):
    calls_before = len(playground.slack.calls)

    playground.type(ALICE, CHANNEL, "/remind me to breathe")

    [answer] = texts(playground, CHANNEL, ALICE)
    assert "`/remind` is not a valid command" in answer
    assert len(playground.slack.calls) == calls_before  # Saydo never heard of it


def test_the_message_shortcut_opens_the_form_with_the_messages_text(playground):
    playground.type(CHLOE, CHANNEL, "We will send the ward list by Thursday")
    [message] = playground.slack.conversation(CHANNEL, viewer=CHLOE)

    playground.shortcut(CHLOE, CHANNEL, message["ts"])

    [form] = playground.slack.modals_of(CHLOE)
    assert "We will send the ward list" in _all_text(form["blocks"])


def test_home_tab_shows_the_viewers_commitments(playground):
    playground.type(ALICE, CHANNEL, "/commit send the budget baseline by Friday")

    playground.open_home(ALICE)

    home = playground.slack.home_view(ALICE)
    assert "send the budget baseline" in _all_text(home["blocks"])
    assert playground.slack.home_view(BEN) is None  # Ben has not opened his


def test_weekly_summary_is_posted_on_monday_morning(playground):
    playground.type(ALICE, CHANNEL, "/commit send the budget baseline by tomorrow")
    playground.advance(clock.now() + next_local(0, 10))  # Monday 10:00, London

    posts = [m for m in playground.slack.conversation(CHANNEL, viewer=BEN) if "bot_id" in m]
    summaries = [m for m in posts if "Weekly say/do" in _all_text(m)]
    assert len(summaries) == 1
    posted = clock.now().fromtimestamp(float(summaries[0]["ts"]), LONDON)
    assert (posted.weekday(), posted.hour, posted.minute) == (0, 9, 0)


def test_the_clock_only_moves_forward(playground):
    with pytest.raises(PlaygroundError, match="only moves forward"):
        playground.advance(clock.now() - timedelta(minutes=1))


def test_advancing_sweeps_at_each_due_instant_not_every_minute(playground):
    playground.type(ALICE, CHANNEL, "/commit send the budget baseline by Tuesday")

    done = playground.advance(clock.now() + timedelta(weeks=2))

    with transaction(playground.engine) as session:
        sent = session.execute(
            select(OutboxMessage.kind).where(OutboxMessage.state == "sent")
        ).scalars()
        assert done.sent == len(list(sent))
    assert done.sweeps <= 14 * 24 / engine_module.PLANNING_STEP.total_seconds() * 3600 + 20


def test_the_playground_keeps_its_world_across_restarts_and_reset_forgets_it(tmp_path):
    database = tmp_path / "playground.db"
    first = Playground(database, contract=call_problems)
    first.start()
    first.type(ALICE, CHANNEL, "/commit send the budget baseline by Friday")
    first.advance(clock.now() + timedelta(days=2))
    moved_to = clock.now()
    first.stop()
    assert clock.offset() == timedelta(0)  # stopping gives the process its real clock back

    second = Playground(database, contract=call_problems)
    second.start()
    try:
        assert abs(clock.now() - moved_to) < timedelta(minutes=1)
        assert any("send the budget baseline" in t for t in texts(second, CHANNEL, ALICE))
        assert len(commitments(second)) == 1
    finally:
        second.stop()

    reset(database)
    assert list(tmp_path.iterdir()) == []


def test_seeding_a_quarter_leaves_a_story_to_read(playground):
    started = clock.now()

    line = seed_quarter(playground)

    assert clock.now() - started >= timedelta(weeks=13)
    assert line.startswith("Seeded a quarter: 26 commitments")
    states = [c.status for c in commitments(playground)]
    assert len(states) == 26
    assert {"delivered", "withdrawn"} <= set(states)
    assert any(c.delivered_at and c.delivered_at > c.judged_due_at for c in commitments(playground))
    channel = texts(playground, CHANNEL, ALICE)
    assert sum("Weekly say/do" in t for t in channel) >= 12
    assert any("review" in t.lower() and "14 days" in t for t in channel)
    coffees = [c for c in playground.slack.conversations_of(ALICE) if c["kind"] == "mpim"]
    assert coffees, "Alice was paired for coffee at least once"
    lessons = [t for t in channel if re.search(r"lesson", t, re.IGNORECASE)]
    assert lessons


def test_the_playground_offers_exactly_the_manifests_slash_commands():
    manifest = yaml.safe_load((ROOT / "manifest.yml").read_text())
    commands = tuple(c["command"] for c in manifest["features"]["slash_commands"])
    assert commands == engine_module.SLASH_COMMANDS


def test_a_seeded_quarter_has_objectives_a_ledger_and_charts(playground):
    seed_quarter(playground)
    with transaction(playground.engine) as session:
        partnership_id = session.execute(select(Objective.partnership_id)).scalars().first()
    with transaction(playground.engine) as session:
        alice = person_ref(
            session.execute(select(Person).where(Person.user_id == ALICE)).scalar_one()
        )
    found = objective_service.list_objectives(
        playground.engine, partnership_id=partnership_id, viewer=alice, now=clock.now()
    )
    statuses = [o.status for o in found]
    assert statuses[0] == objective_service.Status.ACHIEVED
    assert statuses[1] == objective_service.Status.ON_TRACK
    assert statuses[2] in (objective_service.Status.AT_RISK, objective_service.Status.MISSED)
    assert found[2].at_risk_in_a_row >= 2
    ledger = cost_service.ledger(
        playground.engine, partnership_id=partnership_id, viewer=alice, now=clock.now()
    )
    pilot, portal = ledger.areas[0].projects
    assert pilot.over_budget and not portal.over_budget
    channel = texts(playground, CHANNEL, ALICE)
    assert any("Objective achieved: O1 Faster hospital discharge" in t for t in channel)
    assert any("Well done: O1" in t for t in channel)

    # The page shows each chart where it was shared, with its alt text, served as a PNG.
    page = make_app(playground)
    status, _, body = wsgi_get(page, f"/api/state?as={ALICE}&in={CHANNEL}")
    assert status.startswith("200")
    shown = [
        image
        for message in json.loads(body)["messages"]
        for image in parse(message["html"]).find_all("img")
    ]
    uploaded = {f"/files/{f['id']}": f for f in playground.slack.uploaded()}
    assert {image.attrs["src"] for image in shown} == set(uploaded)
    assert len(shown) >= 3  # the say/do ratio, the objectives, the spend
    for image in shown:
        assert image.attrs["alt"] == uploaded[image.attrs["src"]]["alt_txt"]
        status, headers, png = wsgi_get(page, image.attrs["src"])
        assert status.startswith("200") and headers["Content-Type"] == "image/png"
        assert Image.open(io.BytesIO(png)).size == (800, 450)
    assert wsgi_get(page, "/files/F9999999999")[0].startswith("404")


def wsgi_get(app, target: str) -> tuple[str, dict[str, str], bytes]:
    """GET `target` from the page's WSGI app, as the browser on 127.0.0.1 asks."""
    path, _, query = target.partition("?")
    environ = {"PATH_INFO": path, "QUERY_STRING": query, "HTTP_HOST": "127.0.0.1:3000"}
    setup_testing_defaults(environ)
    answered: dict = {}

    def start_response(status, headers):
        answered.update(status=status, headers=dict(headers))

    body = b"".join(app(environ, start_response))
    return answered["status"], answered["headers"], body
    uploaded = playground.slack.uploaded()
    names = {f["name"] for f in uploaded if CHANNEL in f["channels"]}
    assert {"objective-o1.png", "objective-o2.png", "objective-o3.png"} <= names
    assert "spend-against-budget.png" in names
    notes = [t for t in texts(playground, dm_id(ALICE), ALICE) if "projected to spend" in t]
    assert len(notes) == 1 and "Brokerage pilot" in notes[0]
