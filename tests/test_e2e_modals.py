"""Modals end to end: `saydo run` receives signed interactivity payloads as Slack sends them and
talks to the Slack stand-in; what people see is read from the Web API calls it makes."""

from __future__ import annotations

import json
import time
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.blocks import ids
from bot.blocks import modals as forms
from bot.commitments.lifecycle import EventKind, Status
from bot.commitments.service import (
    change_commitment,
    ensure_partnership,
    get_by_ref,
    log_commitment,
    save_person,
)
from bot.partnerships.members import upsert_member
from bot.playground import slack_requests as doors
from storage.db import create_db_engine

pytestmark = [pytest.mark.e2e, pytest.mark.share_saydo]  # one `saydo run` per module

TEAM = doors.team_object("T0001", domain="saydo-test")
CHANNEL = "C0PARTNER"
ALICE_DM = "D0ALICE"
BOB_DM = "D0BOB"


@pytest.fixture
def people(slack):
    slack.add_user("U0ALICE", name="alice", tz="Europe/London")
    slack.add_user("U0BOB", name="bob", tz="America/New_York", locale="en-US")
    slack.add_user("U0CAROL", name="carol", tz="Asia/Tokyo")
    slack.add_channel(CHANNEL, name="housing", members=["UBOT", "U0ALICE", "U0BOB"])


@pytest.fixture
def db(database_url):
    engine = create_db_engine(database_url)
    yield engine
    engine.dispose()


def day_in(tz: str, days: int) -> str:
    return (datetime.now(ZoneInfo(tz)).date() + timedelta(days=days)).isoformat()


def user(user_id: str) -> dict:
    return doors.user_object(user_id, team_id="T0001")


def opened_view(slack, count: int = 1) -> dict:
    return slack.wait_for("views.open", count=count)[count - 1].args["view"]


def blocks_by_id(view: dict) -> dict[str, dict]:
    return {b["block_id"]: b for b in view["blocks"] if "block_id" in b}


def submit(saydo, view: dict, user_id: str, values: dict):
    return saydo.submit_view(view, user(user_id), values)


def form_values(
    *,
    title: str | None = "Send the draft budget",
    day: str | None = None,
    clock: str | None = None,
    owner: str | None = "U0ALICE",
    recipient: str | None = None,
    notes: str | None = None,
    partnership: str | None = None,
) -> dict:
    values = {
        forms.TITLE[0]: {forms.TITLE[1]: {"type": "plain_text_input", "value": title}},
        forms.DUE_DATE[0]: {forms.DUE_DATE[1]: {"type": "datepicker", "selected_date": day}},
        forms.DUE_TIME[0]: {forms.DUE_TIME[1]: {"type": "timepicker", "selected_time": clock}},
        forms.OWNER[0]: {forms.OWNER[1]: {"type": "users_select", "selected_user": owner}},
        forms.RECIPIENT[0]: {
            forms.RECIPIENT[1]: {"type": "users_select", "selected_user": recipient}
        },
        forms.NOTES[0]: {forms.NOTES[1]: {"type": "plain_text_input", "value": notes}},
    }
    if partnership is not None:
        values[forms.PARTNERSHIP[0]] = {
            forms.PARTNERSHIP[1]: {
                "type": "static_select",
                "selected_option": {
                    "text": {"type": "plain_text", "text": "housing"},
                    "value": partnership,
                },
            }
        }
    return values


def press(saydo, slack, action_id: str, ref: int, user_id: str, *, channel: str = CHANNEL):
    """A button on a commitment message pressed, as a `block_actions` payload."""
    response_url = slack.response_url()
    payload = doors.message_block_actions(
        [doors.button_action(action_id=action_id, block_id=f"commitment_{ref}", value=str(ref))],
        user=user(user_id),
        team=TEAM,
        channel={"id": channel, "name": "housing" if channel == CHANNEL else "directmessage"},
        message_ts="1764000000.000900",
        response_url=response_url,
        trigger_id=doors.new_trigger_id(),
        message={
            "type": "message",
            "user": "UBOT",
            "bot_id": "BBOT",
            "text": f"Commitment #{ref}",
            "ts": "1764000000.000900",
        },
    )
    response = saydo.interaction(payload)
    assert response.status_code == 200
    return response_url


def posted(slack, channel: str, count: int = 1) -> list:
    """Wait for `count` successful chat.postMessage calls to `channel`."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        found = [c for c in slack.calls_to("chat.postMessage") if c.args.get("channel") == channel]
        if len(found) >= count:
            return found
        time.sleep(0.02)
    sent = [(c.args.get("channel"), c.args.get("text")) for c in slack.calls_to("chat.postMessage")]
    raise AssertionError(f"expected {count} message(s) to {channel}; sent: {sent}")


def text_of(call) -> str:
    return call.args.get("text", "") + json.dumps(call.args.get("blocks", []))


def seed(db, *, owner="U0ALICE", creator=None, recipient="U0BOB", days=5):
    """An existing commitment, logged straight through the domain."""
    now = datetime.now(UTC)
    tzs = {"U0ALICE": "Europe/London", "U0BOB": "America/New_York", "U0CAROL": "Asia/Tokyo"}

    def person(user_id):
        return save_person(
            db,
            team_id="T0001",
            user_id=user_id,
            name=user_id.removeprefix("U0").lower(),
            tz=tzs[user_id],
            locale="en-GB",
            now=now,
        )

    partnership = ensure_partnership(db, team_id="T0001", channel_id=CHANNEL, name="housing")
    return log_commitment(
        db,
        partnership=partnership,
        creator=person(creator or owner),
        owner=person(owner),
        recipient=person(recipient) if recipient else None,
        title="Send the <!channel> budget",
        due_at=now + timedelta(days=days),
        has_time=True,
        now=now,
    ).commitment


# --- the commitment form ------------------------------------------------------------------


def test_commit_with_no_text_opens_the_form_and_submitting_logs_it(saydo, slack, people, db):
    assert saydo.command("/commit", "", user_id="U0ALICE", channel_id=CHANNEL).status_code == 200
    view = opened_view(slack)
    assert view["callback_id"] == ids.CREATE_MODAL
    inputs = blocks_by_id(view)
    assert forms.PARTNERSHIP[0] not in inputs
    assert inputs[forms.OWNER[0]]["element"]["initial_user"] == "U0ALICE"

    day = day_in("Europe/London", 7)
    response = submit(
        saydo,
        view,
        "U0ALICE",
        form_values(title="Send the draft budget", day=day, clock="15:00", recipient="U0BOB"),
    )
    assert response.status_code == 200
    assert response.text == ""  # accepted: the modal closes

    [confirmation] = posted(slack, CHANNEL)
    assert "#1" in text_of(confirmation)
    assert "Send the draft budget" in text_of(confirmation)
    assert "thread_ts" not in confirmation.args
    logged = get_by_ref(db, team_id="T0001", ref=1)
    assert logged.title == "Send the draft budget"
    assert logged.owner.user_id == "U0ALICE"
    assert logged.recipient.user_id == "U0BOB"
    assert logged.status == Status.OPEN
    assert logged.has_time
    expected = datetime.combine(
        date.fromisoformat(day), datetime.min.time().replace(hour=15), ZoneInfo("Europe/London")
    )
    assert logged.due_at == expected


def test_a_commitment_for_someone_else_is_proposed_in_their_time_zone(saydo, slack, people, db):
    saydo.command("/commit", "", user_id="U0ALICE", channel_id=CHANNEL)
    view = opened_view(slack)
    day = day_in("America/New_York", 3)
    response = submit(saydo, view, "U0ALICE", form_values(day=day, owner="U0BOB"))
    assert response.text == ""
    [confirmation] = posted(slack, CHANNEL)
    assert "Proposed *#1*" in text_of(confirmation)
    [ask] = posted(slack, "U0BOB")  # the owner is asked to accept
    assert "Accept" in text_of(ask)
    logged = get_by_ref(db, team_id="T0001", ref=1)
    assert logged.status == Status.PROPOSED
    assert logged.created_by.user_id == "U0ALICE"
    assert not logged.has_time
    # No time: the end of that day in New York, where the owner is.
    local = logged.due_at.astimezone(ZoneInfo("America/New_York"))
    assert (local.date().isoformat(), local.hour, local.minute) == (day, 23, 59)


def member_of(db, partnership, user_id: str) -> None:
    """`user_id` as an active member of `partnership` (as the channel's member list says)."""
    person = save_person(
        db,
        team_id="T0001",
        user_id=user_id,
        name=user_id.lower(),
        tz="Europe/London",
        locale="en-GB",
        now=datetime.now(UTC),
    )
    upsert_member(
        db,
        partnership_id=partnership.id,
        person=person,
        organisation="Council",
        now=datetime.now(UTC),
    )


def test_commit_in_a_dm_asks_which_partnership(saydo, slack, people, db):
    here = ensure_partnership(db, team_id="T0001", channel_id=CHANNEL, name="housing")
    member_of(db, here, "U0ALICE")
    elsewhere = ensure_partnership(db, team_id="T0001", channel_id="C0PRIVATE", name="board")
    member_of(db, elsewhere, "U0BOB")  # Alice is not in it, so it is not offered to her
    saydo.command("/commit", "call the landlord", user_id="U0ALICE", channel_id=ALICE_DM)
    view = opened_view(slack)
    select = blocks_by_id(view)[forms.PARTNERSHIP[0]]["element"]
    assert select["type"] == "static_select"
    [option] = select["options"]
    assert option["text"]["text"] == "housing"
    assert blocks_by_id(view)[forms.TITLE[0]]["element"]["initial_value"] == "call the landlord"

    values = form_values(
        title="Call the landlord", day=day_in("Europe/London", 2), partnership=option["value"]
    )
    assert submit(saydo, view, "U0ALICE", values).text == ""
    [confirmation] = posted(slack, CHANNEL)  # in the partnership's channel, not the DM
    assert "#1" in text_of(confirmation)
    assert get_by_ref(db, team_id="T0001", ref=1).partnership.channel_id == CHANNEL


def test_a_dm_without_partnership_choice_is_refused_on_the_form(saydo, slack, people, db):
    here = ensure_partnership(db, team_id="T0001", channel_id=CHANNEL, name="housing")
    member_of(db, here, "U0ALICE")
    elsewhere = ensure_partnership(db, team_id="T0001", channel_id="C0PRIVATE", name="board")
    saydo.command("/commit", "", user_id="U0ALICE", channel_id=ALICE_DM)
    view = opened_view(slack)
    # A made-up id, and a real partnership Alice is not in: both refused on the form.
    for chosen in ("999999", str(elsewhere.id)):
        values = form_values(day=day_in("Europe/London", 2), partnership=chosen)
        reply = submit(saydo, view, "U0ALICE", values).json()
        assert reply["response_action"] == "errors"
        assert list(reply["errors"]) == [forms.PARTNERSHIP[0]]
    assert get_by_ref(db, team_id="T0001", ref=1) is None


def test_commit_in_a_dm_with_no_partnerships_says_where_to_start(saydo, slack, people):
    saydo.command("/commit", "", user_id="U0ALICE", channel_id=ALICE_DM)
    [hint] = posted(slack, "U0ALICE")
    assert "partnership channel" in text_of(hint)
    assert slack.calls_to("views.open") == []


def test_the_message_shortcut_prefills_the_form_and_keeps_the_link(saydo, slack, people, db):
    text = "We'll get the <https://x.example|tenancy> figures over.\n" + "More detail. " * 40
    message_ts = "1764000000.000500"
    payload = doors.message_shortcut(
        ids.MAKE_COMMITMENT_SHORTCUT,
        user=user("U0BOB"),
        team=TEAM,
        channel={"id": CHANNEL, "name": "housing"},
        message={"type": "message", "user": "U0BOB", "text": text, "ts": message_ts},
        response_url=slack.response_url(),
        trigger_id=doors.new_trigger_id(),
    )
    assert saydo.interaction(payload).status_code == 200
    [permalink_call] = slack.wait_for("chat.getPermalink")
    assert permalink_call.args["channel"] == CHANNEL
    assert permalink_call.args["message_ts"] == message_ts
    view = opened_view(slack)
    prefilled = blocks_by_id(view)[forms.TITLE[0]]["element"]["initial_value"]
    assert len(prefilled) == 300 and prefilled.endswith("…")
    assert prefilled.startswith("We'll get the tenancy figures over. More detail.")
    assert blocks_by_id(view)[forms.OWNER[0]]["element"]["initial_user"] == "U0BOB"
    permalink = "https://saydo-test.slack.com/archives/C0PARTNER/p1764000000000500"
    assert permalink in json.dumps(view["blocks"])

    values = form_values(
        title="Send the tenancy figures", day=day_in("America/New_York", 4), owner="U0BOB"
    )
    assert submit(saydo, view, "U0BOB", values).text == ""
    [confirmation] = posted(slack, CHANNEL)
    assert confirmation.args["thread_ts"] == message_ts  # in the message's thread
    logged = get_by_ref(db, team_id="T0001", ref=1)
    assert logged.source_permalink == permalink
    assert logged.title == "Send the tenancy figures"


def test_mistakes_come_back_to_the_form_and_nothing_is_saved(saydo, slack, people, db):
    saydo.command("/commit", "", user_id="U0ALICE", channel_id=CHANNEL)
    view = opened_view(slack)

    past = submit(saydo, view, "U0ALICE", form_values(day=day_in("Europe/London", -1)))
    reply = past.json()
    assert reply["response_action"] == "errors"
    assert list(reply["errors"]) == [forms.DUE_DATE[0]]
    assert "already in the past" in reply["errors"][forms.DUE_DATE[0]]

    too_far = submit(saydo, view, "U0ALICE", form_values(day=day_in("Europe/London", 800)))
    assert "two years" in too_far.json()["errors"][forms.DUE_DATE[0]]

    many = submit(
        saydo,
        view,
        "U0ALICE",
        form_values(
            title="   ", day=day_in("Europe/London", 3), owner="UBOT", recipient="U0NOBODY"
        ),
    ).json()
    assert set(many["errors"]) == {forms.TITLE[0], forms.OWNER[0], forms.RECIPIENT[0]}
    assert "bots" in many["errors"][forms.OWNER[0]]

    long = submit(saydo, view, "U0ALICE", form_values(title="x" * 301, day=day_in("UTC", 3)))
    assert "301" in long.json()["errors"][forms.TITLE[0]]

    saydo.settle()
    assert slack.calls_to("chat.postMessage") == []
    assert get_by_ref(db, team_id="T0001", ref=1) is None


# --- buttons that open a small form ---------------------------------------------------------


def test_mark_delivered_with_evidence_tells_the_recipient(saydo, slack, people, db):
    seed(db)
    press(saydo, slack, ids.DELIVER, 1, "U0ALICE")
    view = opened_view(slack)
    assert view["callback_id"] == ids.DELIVER_MODAL
    values = {
        forms.EVIDENCE[0]: {
            forms.EVIDENCE[1]: {"type": "plain_text_input", "value": "https://example.org/b"}
        }
    }
    assert submit(saydo, view, "U0ALICE", values).text == ""

    [asked] = posted(slack, "U0BOB")
    assert "says they delivered" in text_of(asked)
    assert "https://example.org/b" in text_of(asked)
    [thanks] = posted(slack, "U0ALICE")
    assert "Delivered" in text_of(thanks)
    delivered = get_by_ref(db, team_id="T0001", ref=1)
    assert delivered.status == Status.DELIVERED
    assert delivered.evidence == "https://example.org/b"


def test_someone_else_pressing_mark_delivered_is_refused_politely(saydo, slack, people, db):
    seed(db)
    response_url = press(saydo, slack, ids.DELIVER, 1, "U0BOB")
    [refusal] = slack.wait_for("response_url")
    assert refusal.path == "/" + response_url.split("/", 3)[3]
    assert refusal.args["response_type"] == "ephemeral"
    assert refusal.args["replace_original"] is False
    assert "Only alice can mark this commitment delivered" in refusal.args["text"]
    saydo.settle()
    assert slack.calls_to("views.open") == []
    assert get_by_ref(db, team_id="T0001", ref=1).status == Status.OPEN


def test_a_delivered_commitment_cannot_be_delivered_again(saydo, slack, people, db):
    seed(db)
    alice = save_person(
        db, team_id="T0001", user_id="U0ALICE", name="alice", tz="Europe/London",
        locale="en-GB", now=datetime.now(UTC),
    )  # fmt: skip
    change_commitment(
        db, team_id="T0001", ref=1, actor=alice, kind=EventKind.DELIVERED, now=datetime.now(UTC)
    )
    press(saydo, slack, ids.DELIVER, 1, "U0ALICE")
    [refusal] = slack.wait_for("response_url")
    assert "already delivered" in refusal.args["text"]
    saydo.settle()
    assert slack.calls_to("views.open") == []


def test_a_new_date_keeps_the_original_and_tells_the_recipient(saydo, slack, people, db):
    original = seed(db).due_at
    press(saydo, slack, ids.NEW_DATE, 1, "U0ALICE")
    view = opened_view(slack)
    assert view["callback_id"] == ids.MOVE_MODAL
    london = original.astimezone(ZoneInfo("Europe/London"))
    assert blocks_by_id(view)[forms.DUE_DATE[0]]["element"]["initial_date"] == (
        london.date().isoformat()
    )
    day = day_in("Europe/London", 12)
    values = {
        forms.DUE_DATE[0]: {forms.DUE_DATE[1]: {"type": "datepicker", "selected_date": day}},
        forms.DUE_TIME[0]: {forms.DUE_TIME[1]: {"type": "timepicker", "selected_time": "09:30"}},
        forms.REASON[0]: {
            forms.REASON[1]: {"type": "plain_text_input", "value": "the data came late"}
        },
    }
    assert submit(saydo, view, "U0ALICE", values).text == ""

    [told] = posted(slack, "U0BOB")
    assert "New date for" in text_of(told)
    moved = get_by_ref(db, team_id="T0001", ref=1)
    assert moved.date_changes == 1
    assert moved.original_due_at == original
    assert moved.due_at.astimezone(ZoneInfo("Europe/London")).isoformat().startswith(f"{day}T09:30")


def test_a_new_date_in_the_past_comes_back_to_the_form(saydo, slack, people, db):
    seed(db)
    press(saydo, slack, ids.NEW_DATE, 1, "U0ALICE")
    view = opened_view(slack)
    values = {
        forms.DUE_DATE[0]: {
            forms.DUE_DATE[1]: {"type": "datepicker", "selected_date": day_in("UTC", -2)}
        },
    }
    reply = submit(saydo, view, "U0ALICE", values).json()
    assert reply["response_action"] == "errors"
    assert forms.DUE_DATE[0] in reply["errors"]
    assert get_by_ref(db, team_id="T0001", ref=1).date_changes == 0


def test_proposing_another_date_accepts_it_for_that_date(saydo, slack, people, db):
    seed(db, owner="U0ALICE", creator="U0BOB", recipient="U0BOB")
    press(saydo, slack, ids.PROPOSE_DATE, 1, "U0ALICE", channel=ALICE_DM)
    view = opened_view(slack)
    assert view["callback_id"] == ids.MOVE_MODAL
    day = day_in("Europe/London", 20)
    values = {
        forms.DUE_DATE[0]: {forms.DUE_DATE[1]: {"type": "datepicker", "selected_date": day}},
    }
    assert submit(saydo, view, "U0ALICE", values).text == ""

    [answer] = posted(slack, "U0BOB")
    assert "proposed another date and accepted" in text_of(answer)
    [update] = slack.wait_for("chat.update")  # the proposal's buttons are spent
    assert update.args["channel"] == ALICE_DM
    accepted = get_by_ref(db, team_id="T0001", ref=1)
    assert accepted.status == Status.OPEN
    assert accepted.date_changes == 1
    assert accepted.due_at.astimezone(ZoneInfo("Europe/London")).date().isoformat() == day


def test_not_yet_reopens_it_and_tells_the_owner(saydo, slack, people, db):
    seed(db)
    alice = save_person(
        db, team_id="T0001", user_id="U0ALICE", name="alice", tz="Europe/London",
        locale="en-GB", now=datetime.now(UTC),
    )  # fmt: skip
    change_commitment(
        db, team_id="T0001", ref=1, actor=alice, kind=EventKind.DELIVERED, now=datetime.now(UTC),
        note="sent",
    )  # fmt: skip

    press(saydo, slack, ids.NOT_YET, 1, "U0ALICE", channel=ALICE_DM)  # not the recipient
    [refusal] = slack.wait_for("response_url")
    assert "Only bob can say this has not arrived yet" in refusal.args["text"]

    press(saydo, slack, ids.NOT_YET, 1, "U0BOB", channel=BOB_DM)
    view = opened_view(slack)
    assert view["callback_id"] == ids.DISPUTE_MODAL
    values = {
        forms.DISPUTE_NOTE[0]: {
            forms.DISPUTE_NOTE[1]: {"type": "plain_text_input", "value": "No attachment <!here>"}
        }
    }
    assert submit(saydo, view, "U0BOB", values).text == ""

    [told] = posted(slack, "U0ALICE")
    assert "has not arrived yet" in text_of(told)
    assert "No attachment &lt;!here&gt;" in text_of(told)
    [update] = slack.wait_for("chat.update")
    assert update.args["channel"] == BOB_DM
    reopened = get_by_ref(db, team_id="T0001", ref=1)
    assert reopened.status == Status.OPEN
    assert reopened.evidence is None
