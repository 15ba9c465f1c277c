"""`/saydo move`, `/saydo drop`, `/saydo list` and help, end to end against `saydo run`.

Commitments are set up through the domain (as `/commit` would leave them) in the database the
running app uses; everything under test goes through signed Slack requests, and every reply
comes back through the Slack stand-in, which checks it against Slack's spec and Block Kit.
"""

from __future__ import annotations

import json
import re
import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.blocks import ids
from bot.commitments.due_dates import END_OF_DAY, describe_due
from bot.commitments.lifecycle import EventKind, Outcome, Status
from bot.commitments.service import (
    change_commitment,
    ensure_partnership,
    get_by_ref,
    history,
    log_commitment,
    save_person,
)
from bot.partnerships.members import upsert_member
from bot.playground import slack_requests as doors
from storage.db import transaction
from storage.models import Commitment, CommitmentEvent

pytestmark = pytest.mark.share_saydo  # one `saydo run` per module

TEAM = "T0001"
HERE = "C0PARTNER"  # the channel `saydo.command` posts from by default
LONDON, NEW_YORK = "Europe/London", "America/New_York"
MEMBERS = {HERE: ("alice", "bob", "carol"), "C0OTHER": ("alice", "bob")}  # who is in which channel


@pytest.fixture
def world(slack, engine):
    """Alice (London) and Bob (New York) in this workspace, Carol from a partner organisation."""
    now = datetime.now(UTC)
    people = {}
    for user_id, name, tz, team in (
        ("U0ALICE", "Alice", LONDON, TEAM),
        ("U0BOB", "Bob", NEW_YORK, TEAM),
        ("U0CAROL", "Carol", "Asia/Tokyo", "T0PARTNER"),
    ):
        slack.add_user(user_id, name=name, tz=tz, team_id=team)
        people[name.lower()] = save_person(
            engine, team_id=team, user_id=user_id, name=name, tz=tz, locale="en-GB", now=now
        )
    return {"engine": engine, **people}


def commit(world, title, *, owner="alice", by=None, recipient=None, days=3, channel=HERE,
           team=TEAM):  # fmt: skip
    """Log a commitment due `days` from now, as `/commit` in `channel` would."""
    engine, now = world["engine"], datetime.now(UTC)
    partnership = ensure_partnership(engine, team_id=team, channel_id=channel, name=channel)
    for name in MEMBERS.get(channel, ()):
        upsert_member(
            engine, partnership_id=partnership.id, person=world[name], organisation=team, now=now
        )
    return log_commitment(
        engine,
        partnership=partnership,
        creator=world[by or owner],
        owner=world[owner],
        recipient=world[recipient] if recipient else None,
        title=title,
        due_at=now + timedelta(days=days),
        has_time=False,
        now=now,
    ).commitment


def shift_back(engine, commitment_id: int, delta: timedelta) -> None:
    """Pretend a commitment was made `delta` earlier: every timestamp it has moves back."""
    with transaction(engine) as session:
        row = session.get(Commitment, commitment_id)
        for column in ("created_at", "due_at", "original_due_at", "judged_due_at"):
            setattr(row, column, getattr(row, column) - delta)
        events = session.execute(
            select(CommitmentEvent).where(CommitmentEvent.commitment_id == commitment_id)
        ).scalars()
        for event in events:
            event.at -= delta
            if event.due_at is not None:
                event.due_at -= delta


def reply_at(slack, url: str, timeout: float = 5.0) -> dict:
    """The one post the app made to this response_url."""
    path = url.split("/", 3)[3]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        posts = [c for c in slack.calls_to("response_url") if c.path == "/" + path]
        if posts:
            assert len(posts) == 1, posts
            return posts[0].args
        time.sleep(0.02)
    raise AssertionError(f"nothing was posted to {url}; calls: {slack.calls}")


def saydo_says(saydo, slack, text: str, *, user: str = "U0ALICE", channel: str = HERE) -> dict:
    url = slack.response_url()
    response = saydo.command("/saydo", text, user_id=user, channel_id=channel, response_url=url)
    assert response.status_code == 200
    reply = reply_at(slack, url)
    assert reply["response_type"] == "ephemeral"  # only the person who asked sees it
    return reply


def listed_refs(reply: dict) -> list[int]:
    """References of the commitments in a list, in the order shown."""
    refs = []
    for block in reply["blocks"]:
        if block["type"] == "section":
            match = re.match(r"\*#(\d+)\*", block["text"]["text"])
            if match:
                refs.append(int(match[1]))
    return refs


def page_buttons(reply: dict) -> dict[str, dict]:
    """Previous/Next buttons by label."""
    return {
        element["text"]["text"]: element
        for block in reply["blocks"]
        if block["type"] == "actions"
        for element in block["elements"]
        if element["action_id"] == ids.LIST_PAGE
    }


def press(saydo, slack, button: dict, *, user: str = "U0ALICE") -> dict:
    url = slack.response_url()
    payload = doors.message_block_actions(
        [
            doors.button_action(
                action_id=button["action_id"],
                block_id="list_nav",
                value=button["value"],
                text=button["text"]["text"],
            )
        ],
        user=doors.user_object(user, team_id=TEAM),
        team=doors.team_object(TEAM, domain="saydo-test"),
        channel={"id": HERE, "name": "partnership"},
        message_ts="1764000000.000200",
        response_url=url,
        trigger_id=doors.new_trigger_id(),
    )
    assert saydo.interaction(payload).status_code == 200
    return reply_at(slack, url)


def dms_to(slack, user_id: str, about: str) -> list[str]:
    """Direct messages to this person that start with `about` (nudges are not our business)."""
    return [
        c.args["text"]
        for c in slack.calls_to("chat.postMessage")
        if c.args["channel"] == user_id and c.args["text"].startswith(about)
    ]


def end_of_day(day, tz: str) -> datetime:
    return datetime.combine(day, END_OF_DAY, ZoneInfo(tz)).astimezone(UTC)


# --- move --------------------------------------------------------------------------------


def test_moving_before_the_due_date_is_renegotiation_with_the_reason_kept(saydo, slack, world):
    c = commit(world, "send the budget", recipient="bob", days=3)
    new_day = datetime.now(ZoneInfo(LONDON)).date() + timedelta(days=20)

    reply = saydo_says(saydo, slack, f"move {c.ref} {new_day.isoformat()} because finance is late")

    new_due = end_of_day(new_day, LONDON)
    shown = describe_due(new_due, tz=LONDON, has_time=False)
    assert reply["text"].startswith(f"New date for *#{c.ref}* send the budget")
    assert shown in reply["text"]
    moved = get_by_ref(world["engine"], team_id=TEAM, ref=c.ref)
    assert moved.due_at == new_due
    assert moved.original_due_at == c.original_due_at  # the first promise is not forgotten
    assert moved.date_changes == 1
    assert moved.renegotiated
    # Still kept-able: a day after the old date it is pending, not missed; delivered, it's kept.
    assert moved.outcome(now=c.due_at + timedelta(days=1)) == Outcome.PENDING
    last = history(world["engine"], commitment_id=c.id)[-1]
    assert (last.kind, last.note, last.due_at, last.actor.user_id) == (
        EventKind.MOVED,
        "finance is late",
        new_due,
        "U0ALICE",
    )
    delivered = change_commitment(
        world["engine"], team_id=TEAM, ref=c.ref, actor=world["alice"],
        kind=EventKind.DELIVERED, now=datetime.now(UTC),
    )  # fmt: skip
    assert delivered.outcome(now=new_due + timedelta(days=30)) == Outcome.KEPT
    # The recipient hears of the new date, privately.
    slack.wait_for("chat.postMessage")
    (dm,) = dms_to(slack, "U0BOB", "New date for")
    assert dm.startswith(f"New date for *#{c.ref}* send the budget")
    assert shown in dm


def test_a_new_date_is_read_in_the_movers_zone_and_due_at_the_owners_end_of_day(
    saydo, slack, world
):
    c = commit(world, "check the figures", owner="bob", days=2)
    new_day = datetime.now(ZoneInfo(NEW_YORK)).date() + timedelta(days=10)

    reply = saydo_says(saydo, slack, f"move #{c.ref} {new_day.isoformat()}", user="U0BOB")

    moved = get_by_ref(world["engine"], team_id=TEAM, ref=c.ref)
    assert moved.due_at == end_of_day(new_day, NEW_YORK)  # not London's end of day
    assert "America/New_York" in reply["text"]
    assert history(world["engine"], commitment_id=c.id)[-1].note is None
    saydo.settle()  # a wrong notification would have been sent by now
    assert dms_to(slack, "U0ALICE", "New date") == []  # no recipient, nobody else to tell


def test_only_the_owner_can_move_a_commitment(saydo, slack, world):
    c = commit(world, "send the budget", recipient="bob")
    day = (datetime.now(UTC) + timedelta(days=9)).date().isoformat()

    reply = saydo_says(saydo, slack, f"move {c.ref} {day} because I said so", user="U0BOB")

    assert reply["text"] == "Only Alice can change the date of this commitment."
    assert reply["replace_original"] is False
    unchanged = get_by_ref(world["engine"], team_id=TEAM, ref=c.ref)
    assert (unchanged.due_at, unchanged.date_changes) == (c.due_at, 0)
    assert len(history(world["engine"], commitment_id=c.id)) == 1
    assert dms_to(slack, "U0ALICE", "New date") == dms_to(slack, "U0BOB", "New date") == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("move", "Tell me which commitment and its new date: `/saydo move 12 Friday`"),
        ("move soon", "Tell me which commitment and its new date: `/saydo move 12 Friday`"),
        ("move {ref}", "I need the new date. Tell me which commitment"),
        ("move {ref} because reasons", "I need the new date."),
        ("move 999 Friday", "I can't find commitment 999. `/saydo list` shows yours."),
        ("move {ref} someday", 'I couldn\'t read "someday" as a due date.'),
        ("move {ref} 2020-01-01", "That's already in the past"),
        ("drop", "Tell me which commitment to withdraw, by its number: `/saydo drop 12`"),
        ("drop 999", "I can't find commitment 999. `/saydo list` shows yours."),
        ("list everything", "I don't know how to list `everything`. `/saydo list` shows"),
        ("list @bob", "I couldn't tell who `@bob` is: pick them from Slack's @-menu."),
        ("list mine overdue", "I can list one thing at a time."),
    ],
)
def test_bad_input_gets_a_friendly_private_answer_with_an_example(
    saydo, slack, world, text, expected
):
    c = commit(world, "send the budget")
    reply = saydo_says(saydo, slack, text.format(ref=c.ref))
    assert expected in reply["text"]
    assert "/saydo" in reply["text"]  # always a working example to copy
    assert get_by_ref(world["engine"], team_id=TEAM, ref=c.ref).status == Status.OPEN


def test_references_belong_to_this_workspace(saydo, slack, world):
    elsewhere = commit(world, "their task", channel="C0THEIRS", team="T0OTHER")
    ours = commit(world, "our task")
    assert elsewhere.ref == ours.ref == 1
    day = (datetime.now(UTC) + timedelta(days=9)).date().isoformat()

    saydo_says(saydo, slack, f"move 1 {day}")

    assert get_by_ref(world["engine"], team_id=TEAM, ref=1).date_changes == 1
    assert get_by_ref(world["engine"], team_id="T0OTHER", ref=1).date_changes == 0


# --- drop --------------------------------------------------------------------------------


def test_dropping_withdraws_with_the_reason_and_tells_the_recipient(saydo, slack, world):
    c = commit(world, "book the venue", recipient="carol")

    reply = saydo_says(saydo, slack, f"drop {c.ref} because the event was cancelled")

    assert reply["text"] == f"Withdrawn: *#{c.ref}* book the venue"
    dropped = get_by_ref(world["engine"], team_id=TEAM, ref=c.ref)
    assert dropped.status == Status.WITHDRAWN
    assert dropped.outcome(now=datetime.now(UTC)) == Outcome.NOT_COUNTED  # before its due date
    last = history(world["engine"], commitment_id=c.id)[-1]
    assert (last.kind, last.note) == (EventKind.WITHDRAWN, "the event was cancelled")
    slack.wait_for("chat.postMessage")
    assert dms_to(slack, "U0CAROL", "Withdrawn") == [f"Withdrawn: *#{c.ref}* book the venue"]
    # It is gone from the lists; dropping again says why not.
    assert saydo_says(saydo, slack, "list")["text"].startswith("You have no open commitments")
    again = saydo_says(saydo, slack, f"drop {c.ref}")
    assert again["text"] == "It was withdrawn, so it can't be withdrawn."


def test_only_the_owner_can_drop_and_a_proposal_is_declined_instead(saydo, slack, world):
    c = commit(world, "book the venue", recipient="bob")
    reply = saydo_says(saydo, slack, f"drop {c.ref} because nah", user="U0BOB")
    assert reply["text"] == "Only Alice can withdraw this commitment."
    assert get_by_ref(world["engine"], team_id=TEAM, ref=c.ref).status == Status.OPEN

    proposal = commit(world, "print flyers", owner="bob", by="alice")
    reply = saydo_says(saydo, slack, f"drop {proposal.ref}", user="U0BOB")
    assert "decline it instead" in reply["text"]
    assert get_by_ref(world["engine"], team_id=TEAM, ref=proposal.ref).status == Status.PROPOSED


def test_a_drop_without_because_keeps_the_words_as_the_reason(saydo, slack, world):
    c = commit(world, "book the venue")
    saydo_says(saydo, slack, f"drop {c.ref} no longer needed")
    assert history(world["engine"], commitment_id=c.id)[-1].note == "no longer needed"


# --- list --------------------------------------------------------------------------------


def test_list_mine_shows_what_i_owe_and_am_owed_newest_due_first(saydo, slack, world):
    owed_to_me = commit(world, "bob's report for alice", owner="bob", recipient="alice", days=5)
    mine_soon = commit(world, "send the budget", days=1)
    mine_later = commit(world, "draft the leaflet", days=9, recipient="carol")
    commit(world, "bob's own task", owner="bob", days=4)
    done = commit(world, "already done", days=2)
    change_commitment(
        world["engine"], team_id=TEAM, ref=done.ref, actor=world["alice"],
        kind=EventKind.DELIVERED, now=datetime.now(UTC),
    )  # fmt: skip

    for text in ("list", "list mine"):
        reply = saydo_says(saydo, slack, text)
        assert listed_refs(reply) == [mine_later.ref, owed_to_me.ref, mine_soon.ref]
        assert "Your open commitments" in reply["blocks"][0]["text"]["text"]
        assert page_buttons(reply) == {}  # one page: no Previous/Next
        # Each commitment comes with its buttons.
        block_ids = {b.get("block_id") for b in reply["blocks"] if b["type"] == "actions"}
        assert block_ids == {f"commitment_{r}" for r in listed_refs(reply)}
        text_of = json.dumps(reply["blocks"])
        assert "<@U0CAROL>" in text_of  # "for" the recipient
        assert "3 in all" in text_of


def test_list_someone_shows_their_open_commitments(saydo, slack, world):
    bobs = commit(world, "bob's own task", owner="bob", days=4)
    for_bob = commit(world, "alice's task for bob", recipient="bob", days=6)
    commit(world, "alice's own task", days=5)

    reply = saydo_says(saydo, slack, "list <@U0BOB|bob>")

    assert listed_refs(reply) == [for_bob.ref, bobs.ref]
    assert "<@U0BOB>" in reply["blocks"][0]["text"]["text"]
    nobody = saydo_says(saydo, slack, "list <@U0CAROL|carol>")
    assert nobody["text"] == "<@U0CAROL> has no open commitments, to do or owed to them."
    assert listed_refs(nobody) == []


def test_list_overdue_shows_open_commitments_past_due_in_the_workspace(saydo, slack, world):
    late = commit(world, "overdue in here", days=2)
    late_elsewhere = commit(world, "overdue over there", owner="bob", days=3, channel="C0OTHER")
    delivered_late = commit(world, "delivered but late", days=2)
    commit(world, "not due yet", days=2)
    change_commitment(
        world["engine"], team_id=TEAM, ref=delivered_late.ref, actor=world["alice"],
        kind=EventKind.DELIVERED, now=datetime.now(UTC),
    )  # fmt: skip
    for c in (late, late_elsewhere, delivered_late):
        shift_back(world["engine"], c.id, timedelta(days=5))

    reply = saydo_says(saydo, slack, "list overdue")

    assert listed_refs(reply) == [late_elsewhere.ref, late.ref]  # newest due first
    assert "_overdue_" in json.dumps(reply["blocks"])


def test_nothing_overdue_is_a_friendly_line(saydo, slack, world):
    commit(world, "not due yet")
    reply = saydo_says(saydo, slack, "list overdue")
    assert reply["text"] == "Nothing is overdue. Everyone is keeping their word. :tada:"
    assert len(reply["blocks"]) == 1


def test_list_all_shows_every_open_commitment_in_this_channels_partnership(saydo, slack, world):
    here = [commit(world, f"here {n}", owner=o, days=n) for n, o in ((1, "alice"), (2, "bob"))]
    commit(world, "in another partnership", channel="C0OTHER")

    reply = saydo_says(saydo, slack, "list all", user="U0CAROL")

    assert listed_refs(reply) == [here[1].ref, here[0].ref]
    assert f"<#{HERE}>" in reply["blocks"][0]["text"]["text"]
    elsewhere = saydo_says(saydo, slack, "list all", channel="C0QUIET")
    assert elsewhere["text"].startswith("There are no open commitments in <#C0QUIET>.")


def test_a_long_list_pages_ten_at_a_time(saydo, slack, world):
    made = [commit(world, f"task {n}", days=n) for n in range(1, 13)]
    newest_first = [c.ref for c in reversed(made)]

    first = saydo_says(saydo, slack, "list")

    assert listed_refs(first) == newest_first[:10]
    assert "Page 1 of 2 · 12 in all" in json.dumps(first["blocks"], ensure_ascii=False)
    assert set(page_buttons(first)) == {"Next"}
    assert json.loads(page_buttons(first)["Next"]["value"]) == {
        "filter": "mine",
        "user": "U0ALICE",
        "page": 2,
    }

    second = press(saydo, slack, page_buttons(first)["Next"])

    assert second["replace_original"] is True
    assert listed_refs(second) == newest_first[10:]
    assert set(page_buttons(second)) == {"Previous"}
    back = press(saydo, slack, page_buttons(second)["Previous"])
    assert listed_refs(back) == newest_first[:10]


def test_paging_an_overdue_list_keeps_its_filter(saydo, slack, world):
    made = [commit(world, f"late {n}", owner="bob", days=n) for n in range(1, 12)]
    commit(world, "not late", owner="bob", days=30)
    for c in made:
        shift_back(world["engine"], c.id, timedelta(days=20))

    first = saydo_says(saydo, slack, "list overdue")
    second = press(saydo, slack, page_buttons(first)["Next"])

    assert len(listed_refs(first)) == 10
    assert listed_refs(second) == [made[0].ref]


# --- help --------------------------------------------------------------------------------


def test_help_lists_every_command_that_works(saydo):
    reply = saydo.command("/saydo", "help").json()
    shown = json.dumps(reply["blocks"])
    for usage in ("/saydo move", "/saydo drop", "/saydo list", "/commit", "/done", "/saydo help"):
        assert usage in shown


def test_an_unknown_subcommand_still_helps(saydo):
    reply = saydo.command("/saydo", "postpone 12 Friday").json()
    assert reply["response_type"] == "ephemeral"
    assert reply["text"].startswith("I don't know `postpone`")
    assert "/saydo move" in json.dumps(reply["blocks"])
