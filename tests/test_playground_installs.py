"""The playground's installation choices: whether the NHS trust and the supplier have installed
Saydo (through the stand-in's OAuth flow) changes what their people can do."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import select

from bot.erasure import pending_erasures
from bot.playground import workspace as cast
from bot.playground.playground import Playground, PlaygroundError
from bot.playground.seed_quarter import seed_quarter
from bot.playground.standin import dm_id
from bot.playground.web import make_app
from storage import clock
from storage.db import transaction
from storage.models import OutboxMessage
from tests.slack_contract import call_problems
from tests.test_playground import STARTS_AT, commitments, texts

ALICE, CHLOE, PRIYA = "U0ALICE", "U0CHLOE", "U0PRIYA"
CHANNEL = cast.CHANNEL_ID
TRUST, SUPPLIER, COUNCIL = cast.TRUST.team_id, cast.SUPPLIER.team_id, cast.COUNCIL.team_id
NUDGED = "Only you can see this"  # every nudge says so
NUDGE_FOOTER = "Snooze moves the reminder, not the due date."


@pytest.fixture
def playground(tmp_path) -> Iterator[Playground]:
    started = Playground(tmp_path / "playground.db", contract=call_problems)
    clock.move_to(STARTS_AT)
    started.start()
    yield started
    started.stop()
    started.slack.assert_clean()


def page_state(playground: Playground, viewer: str, place: str | None = None) -> dict:
    """What the page asks for (`GET /api/state`), as the person `viewer` sees it."""
    query = {"as": viewer} | ({"in": place} if place else {})
    answer: dict = {}

    def start_response(status: str, _headers) -> None:
        answer["status"] = status

    body = make_app(playground)(
        {
            "PATH_INFO": "/api/state",
            "REQUEST_METHOD": "GET",
            "QUERY_STRING": urlencode(query),
            "HTTP_HOST": "127.0.0.1:3000",
            "wsgi.input": io.BytesIO(),
        },
        start_response,
    )
    assert answer["status"] == "200 OK"
    return json.loads(b"".join(body))


def tokens(playground: Playground) -> dict[str, str]:
    return {team: token for token, team in playground.slack.installed_teams().items()}


def sent_to(playground: Playground, user_id: str) -> list[tuple[str, str | None]]:
    """The outbox's messages to a person: their state, and the workspace that sent them."""
    with transaction(playground.engine) as session:
        return [
            tuple(row)
            for row in session.execute(
                select(OutboxMessage.state, OutboxMessage.sent_by_team).where(
                    OutboxMessage.channel == user_id
                )
            )
        ]


def test_by_default_the_councils_one_token_serves_everyone_as_before(playground):
    assert playground.installed is None
    assert playground.slack.installed_teams() == {}  # nothing installed through OAuth
    shown = page_state(playground, CHLOE)
    assert shown["installs"] == {
        "oauth": False,
        "choices": [
            {"team": TRUST, "name": cast.TRUST.name, "installed": False},
            {"team": SUPPLIER, "name": cast.SUPPLIER.name, "installed": False},
        ],
    }
    assert shown["me"]["has_saydo"] is True
    assert {"id": dm_id(CHLOE), "label": "Saydo", "kind": "app"} in shown["sidebar"]


def test_a_trust_that_installed_saydo_has_slash_commands_home_and_nudges_in_dms(playground):
    playground.choose_install(TRUST, True)

    issued = tokens(playground)
    assert set(issued) == {COUNCIL, TRUST}  # the council's, and the trust's through OAuth
    playground.type(CHLOE, CHANNEL, "/commit send the ward list by Tuesday")
    [commitment] = commitments(playground)
    assert commitment.title == "send the ward list"
    assert any("send the ward list" in t for t in texts(playground, CHANNEL, ALICE))

    playground.slack.clear()
    playground.open_home(CHLOE)
    [published] = playground.slack.calls_to("views.publish")
    assert published.args["user_id"] == CHLOE and published.token == issued[TRUST]
    assert page_state(playground, CHLOE, "home")["in"] == "home"

    playground.advance(clock.now() + timedelta(weeks=1))

    nudges = [t for t in texts(playground, dm_id(CHLOE), CHLOE) if NUDGED in t]
    assert nudges, "Chloe was nudged in her direct message with Saydo"
    sent = sent_to(playground, CHLOE)
    assert {team for state, team in sent if state == "sent"} == {TRUST}  # her own workspace's
    assert "failed" not in {state for state, _ in sent}
    assert not any(NUDGED in t for t in texts(playground, CHANNEL, ALICE))

    # In her DM, through her own workspace's installation, she acts on the channel's #1.
    playground.type(CHLOE, dm_id(CHLOE), "/done 1 evidence: https://docs.example.org/wards")
    assert [c.status for c in commitments(playground)] == ["delivered"]


def test_a_trust_without_saydo_mentions_it_and_is_never_nudged_in_a_dm_or_in_public(
    playground,
):
    playground.choose_install(SUPPLIER, True)  # OAuth mode; the trust has not installed Saydo

    playground.type(CHLOE, CHANNEL, "/commit send the ward list by Tuesday")
    [refusal] = texts(playground, CHANNEL, CHLOE)
    assert "not shared in Slack Connect channels" in refusal and "@saydo" in refusal
    assert commitments(playground) == []
    with pytest.raises(PlaygroundError, match="not installed in Northshire NHS Trust's Slack"):
        playground.open_home(CHLOE)
    with pytest.raises(PlaygroundError, match="not installed in Northshire NHS Trust's Slack"):
        playground.type(CHLOE, dm_id(CHLOE), "/saydo help")
    shown = page_state(playground, CHLOE, "home")
    assert shown["in"] == CHANNEL and shown["me"]["has_saydo"] is False
    assert [e for e in shown["sidebar"] if e["kind"] == "app"] == []

    playground.type(CHLOE, CHANNEL, "@saydo I'll send the ward list by Tuesday")
    [commitment] = commitments(playground)
    assert commitment.title == "send the ward list"
    playground.advance(clock.now() + timedelta(weeks=1))

    assert playground.slack.conversation(dm_id(CHLOE), viewer=CHLOE) == []  # no DM reached her
    assert not any(NUDGED in t for t in texts(playground, CHANNEL, ALICE))  # nor in public
    privately = [m for m in page_state(playground, CHLOE)["messages"] if m["ephemeral"]]
    assert any(NUDGED in m["html"] for m in privately)  # in the channel, for her eyes only
    # The supplier, which installed Saydo, has its slash commands in the same channel.
    playground.type(PRIYA, CHANNEL, "/commit share the prototype by Friday")
    titles = [c.title for c in commitments(playground)]
    assert titles == ["send the ward list", "share the prototype"]


def test_uninstalling_takes_saydo_away_from_the_trust_and_starts_the_retention_period(playground):
    playground.choose_install(TRUST, True)
    trusts_token = tokens(playground)[TRUST]

    playground.choose_install(TRUST, False)

    playground.type(CHLOE, CHANNEL, "/commit send the ward list by Tuesday")
    assert commitments(playground) == []
    assert page_state(playground, CHLOE)["installs"]["choices"][0]["installed"] is False
    [waiting] = pending_erasures(playground.engine, retention=timedelta(days=30))
    assert waiting.team_id == TRUST
    with pytest.raises(SlackApiError) as refused:
        WebClient(base_url=playground.slack.url, token=trusts_token).auth_test()
    assert refused.value.response["error"] == "token_revoked"  # Slack revoked it at once


def test_the_choices_are_kept_across_restarts(tmp_path):
    database = tmp_path / "playground.db"
    first = Playground(database, contract=call_problems)
    clock.move_to(STARTS_AT)
    first.start()
    first.choose_install(TRUST, True)
    first.stop()

    second = Playground(database, contract=call_problems)
    second.start()
    try:
        assert second.installed == {COUNCIL, TRUST}
        second.type(CHLOE, CHANNEL, "/commit send the ward list by Tuesday")
        assert [c.title for c in commitments(second)] == ["send the ward list"]
        second.type(PRIYA, CHANNEL, "/commit share the prototype by Friday")
        assert len(commitments(second)) == 1  # the supplier has not installed Saydo
    finally:
        second.stop()
    second.slack.assert_clean()


def test_a_private_message_in_the_channel_shows_to_its_person_only(playground):
    WebClient(base_url=playground.slack.url, token="xoxb-playground").chat_postEphemeral(
        channel=CHANNEL, user=CHLOE, text="A friendly heads-up: #1 is due tomorrow."
    )

    [shown] = page_state(playground, CHLOE)["messages"]
    assert shown["ephemeral"] is True and "friendly heads-up" in shown["html"]
    assert page_state(playground, ALICE)["messages"] == []


def test_only_the_trust_and_the_supplier_choose(playground):
    with pytest.raises(PlaygroundError, match="has installed Saydo"):
        playground.choose_install(COUNCIL, False)
    assert playground.installed is None


def test_a_quarter_seeded_through_each_workspaces_installation_keeps_private_things_private(
    playground,
):
    playground.choose_install(TRUST, True)
    playground.choose_install(SUPPLIER, True)

    seed_quarter(playground)

    team_of = {m.user_id: m.team_id for m in cast.MEMBERS}
    with transaction(playground.engine) as session:
        rows = session.execute(
            select(OutboxMessage.kind, OutboxMessage.channel, OutboxMessage.sent_by_team).where(
                OutboxMessage.state == "sent"
            )
        ).all()
    nudges = [(channel, team) for kind, channel, team in rows if kind == "nudge"]
    assert nudges and all(team == team_of[channel] for channel, team in nudges)  # their own
    assert {team for _, team in nudges} == {COUNCIL, TRUST, SUPPLIER}
    posts = [(kind, team) for kind, channel, team in rows if channel == CHANNEL]
    assert ("summary", COUNCIL) in posts and all(team == COUNCIL for _, team in posts)
    issued = playground.slack.installed_teams()
    for call in playground.slack.calls_to("chat.postMessage"):
        if call.succeeded and call.args["channel"] in team_of:  # a DM, through their workspace
            assert issued[call.token] == team_of[call.args["channel"]]
    for member in cast.MEMBERS:  # each nudge sent once: one message per sent row
        shown = texts(playground, dm_id(member.user_id), member.user_id)
        nudged = sum(NUDGE_FOOTER in t for t in shown)
        assert nudged == nudges.count((member.user_id, member.team_id))
    in_public = [
        m for m in playground.slack.conversation(CHANNEL, viewer=ALICE) if not m.get("ephemeral")
    ]
    summaries = [m for m in in_public if m["text"].startswith(("Weekly say/do", "A quiet week"))]
    assert len(summaries) == posts.count(("summary", COUNCIL))
    private = ("Only you can see", "projected to spend", "What is going well")
    assert not any(marker in str(m) for m in in_public for marker in private)
    # Coffee across workspaces: each introduction sent once, privately (group DM or, where
    # Slack cannot open one across workspaces, an ephemeral to each person in the channel).
    with transaction(playground.engine) as session:
        intros = session.execute(
            select(OutboxMessage.state, OutboxMessage.fallback).where(
                OutboxMessage.kind == "coffee_intro"
            )
        ).all()
    assert intros and all(state == "sent" for state, _ in intros)


def test_a_quarter_is_not_seeded_while_an_organisation_has_not_installed_saydo(playground):
    playground.choose_install(TRUST, True)
    before = clock.now()

    with pytest.raises(PlaygroundError, match="Kestrel Digital has not installed Saydo"):
        seed_quarter(playground)

    assert commitments(playground) == [] and clock.now() - before < timedelta(hours=1)
