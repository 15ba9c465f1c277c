"""Quarterly reviews end to end: `saydo tick --now` posts the reminders with the evidence pack,
the Record the review button opens the form and the record is posted in the channel;
`/saydo lesson(s)`; and `saydo export --what reviews|lessons|coffee`."""

from __future__ import annotations

import csv
import io
import json
import time
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select, update

from bot.blocks import charter as charter_forms
from bot.blocks import reviews as messages
from bot.charter import service as charter
from bot.commitments.lifecycle import EventKind
from bot.commitments.service import (
    PersonRef,
    change_commitment,
    ensure_partnership,
    log_commitment,
    save_person,
)
from bot.playground import slack_requests as doors
from bot.policy.charter_settings import CharterSettings
from bot.reports import reviews
from storage.db import create_db_engine, transaction
from storage.models import CoffeePairing, CoffeeRound, Lesson, Member, Partnership, ReviewRecord
from tests.test_e2e_charter import choose, state_of
from tests.test_e2e_scheduler import saydo_cli

pytestmark = [pytest.mark.e2e, pytest.mark.share_saydo]  # one `saydo run` per module

CHANNEL = "C0PARTNER"
TEAM = doors.team_object("T0001", domain="saydo-test")


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.fixture
def db(database_url):
    engine = create_db_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def partnership(db, people):
    """Began 15 Jan 2026 (first review 15 Apr 2026), Council (Alice) and NHS (Carol)."""
    here = ensure_partnership(db, team_id="T0001", channel_id=CHANNEL, name="housing")
    with transaction(db) as session:
        session.execute(
            update(Partnership)
            .where(Partnership.id == here.id)
            .values(created_at=utc(2026, 1, 15, 10))
        )
    team = {"U0ALICE": ("T0001", "Council"), "U0CAROL": ("T0PARTNER", "NHS")}
    folks = {}
    for user_id, (team_id, organisation) in team.items():
        folks[user_id] = save_person(
            db,
            team_id=team_id,
            user_id=user_id,
            name=f"{user_id[2:].title()} Person",
            tz="Europe/London",
            locale="en-GB",
            now=utc(2025, 12, 1),
        )
        with transaction(db) as session:
            session.add(
                Member(
                    partnership_id=here.id,
                    person_id=folks[user_id].id,
                    organisation=organisation,
                    joined_at=utc(2025, 12, 1),
                )
            )
    alice, carol = folks["U0ALICE"], folks["U0CAROL"]

    def commit(owner, title, due):
        return log_commitment(
            db,
            partnership=here,
            creator=owner,
            owner=owner,
            recipient=None,
            title=title,
            due_at=due,
            has_time=True,
            now=utc(2026, 1, 20),
        ).commitment

    commit(alice, "book the venue", utc(2026, 3, 1, 12))  # missed
    kept = commit(carol, "send the bed figures", utc(2026, 2, 15, 12))
    change_commitment(
        db,
        team_id="T0001",
        ref=kept.ref,
        actor=carol,
        kind=EventKind.DELIVERED,
        now=utc(2026, 2, 14),
    )
    moved = commit(carol, "agree the discharge protocol", utc(2026, 3, 1, 12))
    change_commitment(
        db,
        team_id="T0001",
        ref=moved.ref,
        actor=carol,
        kind=EventKind.MOVED,
        now=utc(2026, 2, 20),
        due_at=utc(2026, 3, 20, 12),
    )
    reviews.log_lesson(
        db, partnership=here, person=carol, text="share drafts earlier", now=utc(2026, 2, 2)
    )
    with transaction(db) as session:
        round_ = CoffeeRound(
            partnership_id=here.id, round_key="2026-02-03", scheduled_for=utc(2026, 2, 3, 10)
        )
        session.add(round_)
        session.flush()
        session.add(
            CoffeePairing(
                round_id=round_.id,
                member_ids=",".join(sorted([str(alice.id), str(carol.id)])),
                outcome="met",
                answered_at=utc(2026, 2, 5),
            )
        )
    return here


def tick(at: str, *, database_url, slack, cwd):
    result = saydo_cli("tick", "--now", at, database_url=database_url, slack=slack, cwd=cwd)
    assert result.returncode == 0, result.stderr
    return result


def channel_posts(slack):
    """Saydo's review messages in the channel (weekly summaries and others left out)."""
    return [
        c
        for c in slack.calls_to("chat.postMessage")
        if c.args.get("channel") == CHANNEL and "Quarterly review" in c.args.get("text", "")
    ]


def text_of(call) -> str:
    return call.args.get("text", "") + json.dumps(call.args.get("blocks", []), ensure_ascii=False)


def record_button_value(call) -> str:
    for block in call.args["blocks"]:
        for element in block.get("elements", []):
            if element.get("action_id") == messages.RECORD_BUTTON:
                return element["value"]
    raise AssertionError("no Record the review button")


def user(user_id: str) -> dict:
    return doors.user_object(user_id, team_id="T0001")


def press(
    saydo, slack, value: str, user_id: str = "U0CAROL", action_id: str = messages.RECORD_BUTTON
) -> None:
    button = doors.button_action(
        action_id=action_id, block_id="review", value=value, text="Record the review"
    )
    payload = doors.message_block_actions(
        [button],
        user=user(user_id),
        team=TEAM,
        channel={"id": CHANNEL, "name": "housing"},
        message_ts="1764000000.000900",
        response_url=slack.response_url(),
        trigger_id=doors.new_trigger_id(),
        message={"type": "message", "user": "UBOT", "text": "review", "ts": "1764000000.0009"},
    )
    assert saydo.interaction(payload).status_code == 200


def submit(saydo, view: dict, user_id: str, values: dict):
    return saydo.submit_view(view, user(user_id), values)


def record_values(outcomes: str | None, attendees=("U0ALICE", "U0CAROL")) -> dict:
    def text(field, value):
        return {field[0]: {field[1]: {"type": "plain_text_input", "value": value}}}

    return {
        messages.ATTENDEES[0]: {
            messages.ATTENDEES[1]: {"type": "multi_users_select", "selected_users": list(attendees)}
        },
        **text(messages.OUTCOMES, outcomes),
        **text(messages.DECISIONS, "Meet monthly <!channel>"),
        **text(messages.CHARTER_CHANGES, "Coffee every week"),
    }


def test_reminders_14_and_2_days_before_and_on_the_day_then_record_it(
    saydo, people, db, partnership, database_url, tmp_path
):
    slack = people
    # 09:00 Europe/London: GMT until 29 March 2026, BST (08:00 UTC) from then on.
    for quiet in ("2026-03-30T08:00Z", "2026-03-31T08:00Z", "2026-04-01T07:59Z"):
        tick(quiet, database_url=database_url, slack=slack, cwd=tmp_path)
    assert channel_posts(slack) == []

    fourteen = tick("2026-04-01T08:00Z", database_url=database_url, slack=slack, cwd=tmp_path)
    assert "review 2026-04-15 reminder (14 days before)" in fourteen.stdout
    [post] = channel_posts(slack)
    body = text_of(post)
    assert "Quarterly review in 14 days: Wed 15 Apr 2026" in body
    assert "quarter Thu 15 Jan 2026 to Tue 14 Apr 2026" in body
    assert "*Council*: 0% (0 of 1 kept) · below target" in body
    assert "*NHS*: 50% (1 of 2 kept) · below target" in body  # the moved one is still open
    assert "1 kept · 0 late · 2 missed · 1 renegotiated" in body
    assert "book the venue — Council" in body
    assert "agree the discharge protocol — NHS" in body
    assert "Council & NHS" in body and "share drafts earlier" in body
    assert "Person" not in body  # organisations, not names
    assert "Is our charter still right?" in body
    assert messages.RECORD_BUTTON not in body

    for again in ("2026-04-01T08:30Z", "2026-04-02T08:00Z", "2026-04-12T08:00Z"):
        tick(again, database_url=database_url, slack=slack, cwd=tmp_path)
    assert len(channel_posts(slack)) == 1  # not twice, nothing on other days

    tick("2026-04-13T08:00Z", database_url=database_url, slack=slack, cwd=tmp_path)
    two = channel_posts(slack)[-1]
    assert len(channel_posts(slack)) == 2
    assert "Quarterly review in 2 days" in text_of(two)
    tick("2026-04-14T08:00Z", database_url=database_url, slack=slack, cwd=tmp_path)
    tick("2026-04-15T08:00Z", database_url=database_url, slack=slack, cwd=tmp_path)
    assert len(channel_posts(slack)) == 3
    today = channel_posts(slack)[-1]
    assert "Quarterly review today, Wed 15 Apr 2026" in text_of(today)
    tick("2026-04-16T08:00Z", database_url=database_url, slack=slack, cwd=tmp_path)
    assert len(channel_posts(slack)) == 3

    press(saydo, slack, record_button_value(today))
    view = slack.wait_for("views.open")[0].args["view"]
    assert view["callback_id"] == messages.RECORD_MODAL
    assert "Wed 15 Apr 2026" in json.dumps(view)

    refused = submit(saydo, view, "U0CAROL", record_values("   "))
    assert refused.json()["response_action"] == "errors"
    assert messages.OUTCOMES[0] in refused.json()["errors"]
    with transaction(db) as session:
        assert session.execute(select(ReviewRecord)).first() is None

    accepted = submit(saydo, view, "U0CAROL", record_values("Objectives still right"))
    assert accepted.status_code == 200 and not accepted.text
    deadline = time.monotonic() + 5
    while len(channel_posts(slack)) < 4 and time.monotonic() < deadline:
        time.sleep(0.02)
    record_post = channel_posts(slack)[3]
    body = text_of(record_post)
    assert "Quarterly review recorded: Wed 15 Apr 2026" in body
    assert "<@U0ALICE> <@U0CAROL>" in body and "Recorded by <@U0CAROL>" in body
    assert "Meet monthly &lt;!channel&gt;" in body and "Coffee every week" in body
    [kept] = reviews.records(db, partnership_id=partnership.id)
    assert kept.outcomes == "Objectives still right"
    assert kept.attendees == ("U0ALICE", "U0CAROL")
    assert kept.charter_changes == "Coffee every week"


def test_agreed_charter_changes_become_a_charter_proposal(saydo, people, db, partnership):
    alice = save_person(
        db,
        team_id="T0001",
        user_id="U0ALICE",
        name="Alice Person",
        tz="Europe/London",
        locale="en-GB",
        now=utc(2026, 4, 1),
    )
    carol = save_person(
        db,
        team_id="T0PARTNER",
        user_id="U0CAROL",
        name="Carol Person",
        tz="Europe/London",
        locale="en-GB",
        now=utc(2026, 4, 1),
    )
    charter.setup(
        db,
        partnership_id=partnership.id,
        actor=alice,
        agreed_by="Alice (Council)",
        name="housing",
        tz="Europe/London",
        draft=charter.Draft("Better homes, sooner.", "", "", CharterSettings()),
        now=utc(2026, 4, 1),
    )
    record = reviews.record_review(
        db,
        partnership_id=partnership.id,
        review_date=date(2026, 4, 15),
        recorded_by=carol,
        attendees=["U0ALICE", "U0CAROL"],
        outcomes="On track",
        decisions="",
        charter_changes="Coffee every week",
        now=utc(2026, 4, 15, 12),
    )
    [value] = [
        e["value"]
        for b in messages.record_message(record)["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == messages.PROPOSE_FROM_REVIEW
    ]
    press(saydo, people, value, action_id=messages.PROPOSE_FROM_REVIEW)
    view = people.wait_for("views.open")[0].args["view"]
    assert view["callback_id"] == charter_forms.PROPOSE_MODAL
    assert "Agreed at the review" in json.dumps(view) and "Coffee every week" in json.dumps(view)

    values = state_of(view)
    choose(values, charter_forms.COFFEE_EVERY, "1")
    assert submit(saydo, view, "U0CAROL", values).text == ""
    proposal_post = people.wait_for("chat.postMessage")[0]
    assert proposal_post.args["channel"] == CHANNEL
    assert "every 1 week" in json.dumps(proposal_post.args["blocks"])
    [linked] = reviews.records(db, partnership_id=partnership.id)
    assert linked.proposal_id is not None
    again = json.dumps(messages.record_message(linked))
    assert f"Proposed as charter amendment {linked.proposal_id}" in again
    assert messages.PROPOSE_FROM_REVIEW not in again

    press(saydo, people, value, action_id=messages.PROPOSE_FROM_REVIEW)  # a second time
    assert "already been proposed" in people.wait_for("response_url")[0].args["text"]


def test_the_record_button_before_the_review_date_is_refused(saydo, people, db, partnership):
    future = datetime.now(UTC).date() + timedelta(days=30)
    press(saydo, people, messages.record_value(partnership.id, future))
    refusal = people.wait_for("response_url")[0].args
    assert refusal["response_type"] == "ephemeral"
    assert "you can record it from that day" in refusal["text"]
    assert people.calls_to("views.open") == []


def test_lesson_and_lessons(saydo, people, db):
    def reply(count):
        return people.wait_for("response_url", count=count)[count - 1].args

    saydo.command("/saydo", "lesson", user_id="U0ALICE")
    assert "What was the lesson?" in reply(1)["text"]
    saydo.command("/saydo", "lesson " + "x" * 1001, user_id="U0ALICE")
    assert "under 1000 characters" in reply(2)["text"]
    saydo.command("/saydo", "lesson agree <!channel> the agenda early", user_id="U0ALICE")
    logged = reply(3)
    assert logged["response_type"] == "ephemeral"
    assert "Lesson logged" in logged["text"]
    saydo.command("/saydo", "lesson check who owns each action", user_id="U0CAROL")
    reply(4)
    saydo.command("/saydo", "lessons", user_id="U0BOB")
    listed = reply(5)
    assert listed["response_type"] == "ephemeral"
    body = json.dumps(listed["blocks"], ensure_ascii=False)
    assert body.index("check who owns each action") < body.index("agree &lt;!channel&gt;")
    assert "<@U0CAROL>" in body and "<@U0ALICE>" in body
    with transaction(db) as session:
        assert len(session.execute(select(Lesson)).all()) == 2
    saydo.command("/saydo", "lessons", user_id="U0BOB", channel_id="D0BOB")
    assert "in its channel" in reply(6)["text"]


def test_export_reviews_lessons_and_coffee(db, people, partnership, database_url, tmp_path):
    with transaction(db) as session:
        person_id = session.execute(
            select(Member.person_id).where(Member.organisation == "NHS")
        ).scalar_one()
    recorder = PersonRef(person_id, "T0PARTNER", "U0CAROL", "Carol Person", "Europe/London", None)
    reviews.record_review(
        db,
        partnership_id=partnership.id,
        review_date=utc(2026, 4, 15).date(),
        recorded_by=recorder,
        attendees=["U0ALICE", "U0CAROL"],
        outcomes="Objectives, still right",
        decisions="",
        charter_changes="Coffee every week",
        now=utc(2026, 4, 15, 12),
    )

    def export(*args):
        result = saydo_cli("export", *args, database_url=database_url, slack=people, cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        return result.stdout

    [review] = list(csv.DictReader(io.StringIO(export("--what", "reviews"))))
    assert review["review_date"] == "2026-04-15"
    assert review["recorded_by_id"] == "U0CAROL"
    assert review["attendee_ids"] == "U0ALICE U0CAROL"
    assert review["outcomes"] == "Objectives, still right"
    assert review["charter_changes"] == "Coffee every week"

    [lesson] = json.loads(export("--what", "lessons", "--format", "json"))
    assert lesson["lesson"] == "share drafts earlier"
    assert lesson["organisation"] == "NHS" and lesson["person_id"] == "U0CAROL"
    assert lesson["logged_at"] == "2026-02-02T00:00:00Z"

    [pairing] = list(csv.DictReader(io.StringIO(export("--what", "coffee"))))
    assert pairing["organisations"] == "Council + NHS"
    assert sorted(pairing["member_ids"].split()) == ["U0ALICE", "U0CAROL"]
    assert pairing["outcome"] == "met" and pairing["scheduled_for"] == "2026-02-03T10:00:00Z"

    assert export("--what", "lessons", "--since", "2026-03-01").strip() == (
        ",".join(reviews.LESSON_COLUMNS)
    )
    commitments = list(csv.DictReader(io.StringIO(export())))
    assert len(commitments) == 3 and "reference" in commitments[0]
