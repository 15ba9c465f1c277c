"""Commitments end to end: signed requests into `saydo run`, Web API calls out to the stand-in."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from bot.commitments.lifecycle import EventKind, Status
from bot.commitments.service import get_by_ref, history
from bot.playground import slack_requests as doors
from storage.db import create_db_engine
from tests.due_dates import BY_DUE, DUE, SHOWN
from tests.test_e2e_scheduler import saydo_cli
from tests.waiting import logged_message, posts_to

pytestmark = [pytest.mark.e2e, pytest.mark.share_saydo]  # one `saydo run` per module


@pytest.fixture
def db(database_url):
    engine = create_db_engine(database_url)
    yield engine
    engine.dispose()


def reply_to(slack, count=1):
    """A reply to a slash command or button: what Saydo posted to its response_url."""
    return slack.wait_for("response_url", count=count)[count - 1].args


def button(saydo, slack, action_id, value, *, user="U0ALICE", channel="C0PARTNER"):
    return saydo.interaction(
        doors.message_block_actions(
            [doors.button_action(action_id=action_id, block_id=f"b{value}", value=str(value))],
            user=doors.user_object(user, team_id="T0001"),
            team=doors.team_object("T0001", domain="saydo-test"),
            channel={"id": channel, "name": "partnership"},
            message_ts="1764000000.000100",
            response_url=slack.response_url(),
            trigger_id=doors.new_trigger_id(),
        )
    )


def test_commit_logs_and_confirms_in_the_channel(saydo, people, db):
    saydo.command("/commit", f"send the revised budget baseline to finance {BY_DUE} at 3pm")
    reply = logged_message(people)
    assert "Logged *#1*" in reply["text"]
    seen_by_bob = [m["text"] for m in people.conversation("C0PARTNER", viewer="U0BOB")]
    assert seen_by_bob == [reply["text"]]  # a message in the channel, for everyone in it
    body = json.dumps(reply["blocks"])
    assert f"{SHOWN}, 15:00, Europe/London" in body
    assert "commitment_new_date" in body and "commitment_undo" in body
    commitment = get_by_ref(db, team_id="T0001", ref=1)
    assert commitment.title == "send the revised budget baseline to finance"
    assert commitment.status == Status.OPEN
    assert commitment.partnership.channel_id == "C0PARTNER"
    assert commitment.owner.tz == "Europe/London"
    info = people.calls_to("users.info")[0]
    assert info.args["include_locale"] in (True, "true", "1")


def test_dates_without_a_time_are_the_owners_end_of_day(saydo, people, db):
    saydo.command("/commit", f"<@U0BOB|bob> share the risk register {BY_DUE} for <@U0CAROL>")
    reply = logged_message(people)
    assert f"{SHOWN}, end of day, America/New_York" in json.dumps(reply["blocks"])
    commitment = get_by_ref(db, team_id="T0001", ref=1)
    assert commitment.due_at == datetime(DUE.year, 12, 13, 4, 59, 59, tzinfo=UTC)
    assert commitment.recipient.user_id == "U0CAROL"
    assert commitment.recipient.team_id == "T0PARTNER"


def test_on_someones_behalf_it_is_proposed_until_accepted(saydo, people, db):
    saydo.command("/commit", f"<@U0BOB|bob> share the risk register {BY_DUE}")
    assert "Proposed *#1*" in logged_message(people)["text"]
    [proposal] = posts_to(people, "U0BOB")
    assert "commitment_accept" in json.dumps(proposal.args["blocks"])
    assert get_by_ref(db, team_id="T0001", ref=1).status == Status.PROPOSED

    button(saydo, people, "commitment_accept", 1, user="U0ALICE")  # not Alice's to accept
    refusal = reply_to(people)
    assert refusal["response_type"] == "ephemeral"
    assert refusal["text"] == "Only bob can accept this commitment."
    assert get_by_ref(db, team_id="T0001", ref=1).status == Status.PROPOSED

    button(saydo, people, "commitment_accept", 1, user="U0BOB")
    assert "You accepted" in reply_to(people, count=2)["text"]
    [told] = posts_to(people, "U0ALICE")
    assert "accepted" in told.args["text"]
    assert get_by_ref(db, team_id="T0001", ref=1).status == Status.OPEN


def test_a_declined_proposal_never_counts(saydo, people, db):
    saydo.command("/commit", f"<@U0BOB> write the minutes {BY_DUE}")
    logged_message(people)
    button(saydo, people, "commitment_decline", 1, user="U0BOB")
    assert "You declined" in reply_to(people)["text"]
    assert get_by_ref(db, team_id="T0001", ref=1).status == Status.DECLINED
    assert "declined" in posts_to(people, "U0ALICE")[0].args["text"]


def test_done_with_evidence_asks_the_recipient_who_confirms(saydo, people, db):
    saydo.command("/commit", f"send the budget {BY_DUE} for <@U0CAROL>")
    logged_message(people)
    saydo.command("/done", "1 evidence: https://example.org/budget.xlsx")
    assert "Delivered" in reply_to(people)["text"]
    [ask] = posts_to(people, "U0CAROL")
    assert "delivery_received" in json.dumps(ask.args["blocks"])
    assert "https://example.org/budget.xlsx" in json.dumps(ask.args["blocks"])

    button(saydo, people, "delivery_received", 1, user="U0ALICE")  # only Carol may confirm
    assert reply_to(people, count=2)["text"] == "Only carol can confirm this delivery."
    button(saydo, people, "delivery_received", 1, user="U0CAROL")
    reply_to(people, count=3)
    [thanks] = posts_to(people, "U0ALICE")
    assert "confirmed" in thanks.args["text"]
    commitment = get_by_ref(db, team_id="T0001", ref=1)
    assert commitment.status == Status.DELIVERED and commitment.confirmed
    assert commitment.evidence == "https://example.org/budget.xlsx"


def test_done_refuses_others_and_nonsense_politely(saydo, people, db):
    saydo.command("/commit", f"send the budget {BY_DUE}")
    logged_message(people)
    saydo.command("/done", "1", user_id="U0BOB")
    assert reply_to(people)["text"] == "Only alice can mark this commitment delivered."
    saydo.command("/done", "the budget")
    assert "`/done 12`" in reply_to(people, count=2)["text"]
    saydo.command("/done", "99")
    assert "can't find commitment 99" in reply_to(people, count=3)["text"]
    assert get_by_ref(db, team_id="T0001", ref=1).status == Status.OPEN


def test_bad_dates_get_a_friendly_error_and_nothing_is_saved(saydo, people, db):
    for phrase in ("send the budget by yesterday", "send it by soon", "plan by 1 Jan 2031"):
        saydo.command("/commit", phrase)
    replies = [c.args for c in people.wait_for("response_url", count=3)]
    for reply in replies:
        assert reply["response_type"] == "ephemeral"
        assert 'Try "by Friday" or "by 12 Dec at 3pm".' in reply["text"]
    with db.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM commitment")).scalar() == 0


def test_user_text_is_escaped_so_nobody_is_pinged(saydo, people):
    saydo.command("/commit", f"tell <!channel> and <https://evil.example|the docs> {BY_DUE}")
    reply = json.dumps(logged_message(people))
    assert "<!channel>" not in reply
    assert "&lt;!channel&gt;" in reply
    assert "&lt;https://evil.example|the docs&gt;" in reply


def test_titles_over_300_characters_are_refused(saydo, people, db):
    saydo.command("/commit", "x" * 301 + f" {BY_DUE}")
    assert "300 characters" in reply_to(people)["text"]
    assert get_by_ref(db, team_id="T0001", ref=1) is None


def test_the_same_commit_twice_within_a_minute_is_logged_once(saydo, people, db):
    saydo.command("/commit", f"send the budget {BY_DUE}")
    saydo.command("/commit", f"send the budget {BY_DUE}")
    # The two requests are handled concurrently, so either may be the one that logs it.
    assert "Logged *#1*" in logged_message(people)["text"]
    ephemeral = reply_to(people)
    assert ephemeral["response_type"] == "ephemeral"
    assert "already logged as *#1*" in ephemeral["text"]
    assert len(posts_to(people, "C0PARTNER")) == 1  # both answered: once in the channel
    assert get_by_ref(db, team_id="T0001", ref=2) is None


def test_undo_withdraws_and_only_the_logger_may(saydo, people, db):
    saydo.command("/commit", f"send the budget {BY_DUE}")
    logged_message(people)
    button(saydo, people, "commitment_undo", 1, user="U0BOB")
    assert "who logged it" in reply_to(people)["text"]
    button(saydo, people, "commitment_undo", 1)
    assert "Undone" in reply_to(people, count=2)["text"]
    assert get_by_ref(db, team_id="T0001", ref=1).status == Status.WITHDRAWN


def test_a_mention_logs_a_commitment_and_answers_in_the_thread(saydo, people, db):
    event = doors.app_mention_event(
        user_id="U0CAROL",
        text=f"<@UBOT> I'll send the ward figures {BY_DUE}",
        channel_id="C0PARTNER",
        ts="1764000000.000200",
        team_id="T0PARTNER",
    )
    saydo.event(event)
    [answer] = posts_to(people, "C0PARTNER")
    assert answer.args["thread_ts"] == "1764000000.000200"
    assert "Logged *#1*" in answer.args["text"]
    commitment = get_by_ref(db, team_id="T0001", ref=1)
    assert commitment.title == "send the ward figures"
    assert commitment.owner.team_id == "T0PARTNER"
    assert commitment.due_at == datetime(DUE.year, 12, 12, 18, 29, 59, tzinfo=UTC)  # Kolkata


def test_a_mention_that_is_not_a_commitment_gets_a_private_hint(saydo, people, db):
    event = doors.app_mention_event(
        user_id="U0ALICE",
        text="<@UBOT> what do you think of the plan?",
        channel_id="C0PARTNER",
        ts="1764000000.000300",
        team_id="T0001",
    )
    saydo.event(event)
    hint = people.wait_for("chat.postEphemeral")[0]
    assert hint.args["user"] == "U0ALICE"
    assert "by" in hint.args["text"]
    assert get_by_ref(db, team_id="T0001", ref=1) is None


def test_history_keeps_who_did_what_and_when(saydo, people, db):
    saydo.command("/commit", f"send the budget {BY_DUE}")
    logged_message(people)
    saydo.command("/done", "1 sent")
    reply_to(people)
    commitment = get_by_ref(db, team_id="T0001", ref=1)
    events = history(db, commitment_id=commitment.id)
    assert [e.kind for e in events] == [EventKind.CREATED, EventKind.DELIVERED]
    assert all(e.actor.user_id == "U0ALICE" for e in events)
    assert events[1].at - events[0].at < timedelta(minutes=1)


def test_done_by_command_updates_the_logged_message_in_the_channel(
    saydo, people, db, database_url, tmp_path
):
    saydo.command("/commit", f"send the budget {BY_DUE}")
    logged_message(people)
    [message] = people.conversation("C0PARTNER", viewer="U0BOB")
    assert "Mark delivered" in json.dumps(message["blocks"])

    saydo.command("/done", "1 sent")  # typed, not a click on the message
    assert "Delivered" in reply_to(people)["text"]
    sweep = saydo_cli("tick", database_url=database_url, slack=people, cwd=tmp_path)
    assert sweep.returncode == 0, sweep.stderr

    [update] = people.wait_for("chat.update")
    assert (update.args["channel"], update.args["ts"]) == ("C0PARTNER", message["ts"])
    [now_shown] = people.conversation("C0PARTNER", viewer="U0BOB")
    assert now_shown["ts"] == message["ts"]
    assert "Logged *#1* for <@U0ALICE>: *delivered*." in now_shown["text"] + json.dumps(
        now_shown["blocks"]
    )
    assert "Mark delivered" not in json.dumps(now_shown["blocks"])
    assert get_by_ref(db, team_id="T0001", ref=1).channel_message_ts == message["ts"]


@pytest.mark.parametrize("private", [False, True], ids=["not-invited", "private-channel"])
def test_where_saydo_cannot_post_commit_still_answers_in_the_channel(saydo, people, db, private):
    people.add_channel(
        "C0NOBOT", name="quiet-room", members=["U0ALICE", "U0BOB"], is_private=private
    )
    if private:  # Slack hides a private channel from an app that is not in it
        people.fail("chat.postMessage", error="channel_not_found")

    saydo.command("/commit", f"send the budget {BY_DUE}", channel_id="C0NOBOT")
    reply = reply_to(people)
    assert reply["response_type"] == "in_channel"  # through the command's own response_url
    assert "Logged *#1*" in reply["text"]
    [refused] = people.calls_to("chat.postMessage")
    assert refused.answered == ("error:channel_not_found" if private else "error:not_in_channel")
    commitment = get_by_ref(db, team_id="T0001", ref=1)
    assert commitment.status == Status.OPEN and commitment.partnership.channel_id == "C0NOBOT"
    assert commitment.channel_message_ts is None

    saydo.command("/done", "1 sent", channel_id="C0NOBOT")
    assert "Delivered" in reply_to(people, count=2)["text"]
    assert get_by_ref(db, team_id="T0001", ref=1).status == Status.DELIVERED
    saydo.settle()  # all it will log about these requests is in the log now
    assert "Traceback" not in saydo.log()
