"""Members, organisations and admins end to end: signed events and `/saydo` commands in,
Web API calls out to the stand-in."""

from __future__ import annotations

import time

import pytest

from bot.commitments.lifecycle import EventKind, Status
from bot.commitments.service import get_by_ref, history
from bot.partnerships.members import find_partnership, list_members
from bot.playground import slack_requests as doors
from storage.db import create_db_engine
from tests.due_dates import BY_DUE
from tests.waiting import logged_message

pytestmark = [pytest.mark.e2e, pytest.mark.share_saydo]  # one `saydo run` per module


@pytest.fixture
def db(database_url):
    engine = create_db_engine(database_url)
    yield engine
    engine.dispose()


def reply_to(slack, count=1):
    return slack.wait_for("response_url", count=count)[count - 1].args


def eventually(read, timeout=10.0):
    """Wait for the event (handled after Slack's ack) to show in the database; the last read."""
    deadline = time.monotonic() + timeout
    while True:
        value = read()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.05)


def members_of(db, *, active_only=True):
    partnership = find_partnership(db, team_id="T0001", channel_id="C0PARTNER")
    if partnership is None:  # not a partnership until the first event or command
        return {}
    return {
        m.person.user_id: (m.organisation, m.active, m.is_admin)
        for m in list_members(db, partnership_id=partnership.id, active_only=active_only)
    }


def joined(user, team="T0001", channel="C0PARTNER", kind="member_joined_channel"):
    return doors.membership_event(kind, user_id=user, channel_id=channel, team_id=team)


def test_a_partner_joining_lands_in_their_own_organisation(saydo, people, db):
    saydo.event(joined("U0CAROL", team="T0PARTNER"))
    assert eventually(lambda: "U0CAROL" in members_of(db))
    saydo.event(joined("U0ALICE"))
    assert eventually(lambda: "U0ALICE" in members_of(db))
    assert members_of(db) == {
        "U0CAROL": ("Northshire NHS Trust", True, False),
        "U0ALICE": ("Saydo Test Council", True, False),
    }
    saydo.command("/saydo", "org")
    listed = reply_to(people)["text"]
    assert "*Northshire NHS Trust*" in listed and "*Saydo Test Council*" in listed


def test_leaving_deactivates_and_bots_never_join(saydo, people, db):
    people.add_user("U0BOTTY", name="reminder-bot", is_bot=True)
    saydo.event(joined("U0BOTTY"))
    saydo.event(joined("U0BOB"))
    assert eventually(lambda: "U0BOB" in members_of(db))
    saydo.event(joined("U0BOB", kind="member_left_channel"))
    assert eventually(lambda: not members_of(db))
    assert members_of(db, active_only=False) == {"U0BOB": ("Saydo Test Council", False, False)}


def test_saydo_invited_to_a_channel_learns_who_is_there(saydo, people, db):
    saydo.event(joined("UBOT"))
    assert eventually(lambda: len(members_of(db)) == 3)
    assert members_of(db)["U0CAROL"][0] == "Northshire NHS Trust"
    # The channel became a partnership named after the channel, not its id.
    assert find_partnership(db, team_id="T0001", channel_id="C0PARTNER").name == (
        "housing-partnership"
    )


def test_each_organisation_chooses_its_own_admins_and_names_itself(saydo, people, db):
    saydo.command("/saydo", "admin")
    assert "no admin yet" in reply_to(people)["text"]
    saydo.command("/saydo", "admin <@U0ALICE|alice>")
    assert "<@U0ALICE> is now an admin" in reply_to(people, count=2)["text"]
    assert members_of(db)["U0ALICE"][2] is True

    # Slack Connect: Carol's workspace can't choose the council's admins, nor the reverse.
    saydo.command("/saydo", "admin <@U0BOB|bob>", user_id="U0CAROL")
    refused = reply_to(people, count=3)
    assert refused["response_type"] == "ephemeral"
    assert refused["text"] == (
        "bob is from another organisation's Slack workspace: each organisation chooses its "
        "own admins, so please ask one of theirs."
    )
    assert members_of(db)["U0BOB"][2] is False
    saydo.command("/saydo", 'org <@U0CAROL|carol> "Northshire ICB"')
    refused = reply_to(people, count=4)
    assert refused["text"] == (
        "Only an admin from carol's own organisation can change their organisation; "
        "they can choose one with `/saydo admin`."
    )
    assert members_of(db)["U0CAROL"][0] == "Northshire NHS Trust"

    # With no admin of its own yet, any of Carol's workspace may make the first.
    saydo.command("/saydo", "admin <@U0CAROL|carol>", user_id="U0CAROL")
    assert "<@U0CAROL> is now an admin" in reply_to(people, count=5)["text"]
    saydo.command("/saydo", 'org <@U0CAROL|carol> "Northshire Integrated Care Board"',
                  user_id="U0CAROL")  # fmt: skip
    assert "*Northshire Integrated Care Board*" in reply_to(people, count=6)["text"]
    assert members_of(db)["U0CAROL"][0] == "Northshire Integrated Care Board"

    saydo.command("/saydo", "org <@U0BOB|bob> Housing", user_id="U0BOB")
    assert "; ask alice." in reply_to(people, count=7)["text"]  # the council's admin decides
    saydo.command("/saydo", "org @carol Somewhere")
    assert "pick them from Slack's @-menu" in reply_to(people, count=8)["text"]
    saydo.command("/saydo", "admin <@U0BOB|bob>")
    assert "<@U0BOB> is now an admin" in reply_to(people, count=9)["text"]
    saydo.command("/saydo", "admin")
    assert "<@U0ALICE>, <@U0BOB>" in reply_to(people, count=10)["text"]


def test_an_admin_delivers_someone_elses_commitment_and_the_history_shows_the_admin(
    saydo, people, db
):
    saydo.command("/commit", f"send the ward figures {BY_DUE}", user_id="U0BOB")
    assert "Logged *#1*" in logged_message(people)["text"]
    saydo.command("/done", "1 sent on Bob's behalf", user_id="U0CAROL")
    assert "Only bob can mark this commitment delivered." in reply_to(people)["text"]
    assert get_by_ref(db, team_id="T0001", ref=1).status == Status.OPEN

    saydo.command("/saydo", "admin <@U0ALICE|alice>")
    assert "is now an admin" in reply_to(people, count=2)["text"]
    saydo.command("/done", "1 sent on Bob's behalf")
    assert "Delivered, thank you" in reply_to(people, count=3)["text"]
    commitment = get_by_ref(db, team_id="T0001", ref=1)
    assert commitment.status == Status.DELIVERED
    assert commitment.owner.user_id == "U0BOB"
    events = history(db, commitment_id=commitment.id)
    assert [(e.kind, e.actor.user_id) for e in events] == [
        (EventKind.CREATED, "U0BOB"),
        (EventKind.DELIVERED, "U0ALICE"),
    ]
    assert events[1].note == "sent on Bob's behalf"
