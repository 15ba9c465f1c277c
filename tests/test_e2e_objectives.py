"""Objectives end to end: `saydo run` receives `/saydo objective`, `/saydo objectives` and
`/saydo measure` as Slack sends them; `saydo tick --now` sends the value reminder whose
Record a value button opens the form; reaching the target is announced in the channel."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from bot.blocks import costs as cost_blocks
from bot.blocks import objectives as blocks
from bot.commitments.service import ensure_partnership, save_person
from bot.costs import service as costs
from bot.objectives import service
from bot.playground import slack_requests as doors
from storage import clock
from storage.db import create_db_engine, transaction
from storage.models import Member, Objective, ObjectiveMeasurement
from tests.test_e2e_charter import reply_at, state_of
from tests.test_e2e_reviews import press, submit
from tests.test_e2e_scheduler import saydo_cli

pytestmark = pytest.mark.e2e

CHANNEL = "C0PARTNER"


@pytest.fixture
def db(database_url):
    engine = create_db_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def partnership(db, people):
    """Alice (Council) and Carol (NHS) are members; Dave is in the workspace only."""
    people.add_user("U0DAVE", name="dave", real_name="Dave Dunn")
    here = ensure_partnership(db, team_id="T0001", channel_id=CHANNEL, name="housing")
    for user_id, team_id, organisation in (
        ("U0ALICE", "T0001", "Council"),
        ("U0CAROL", "T0PARTNER", "NHS"),
    ):
        person = save_person(
            db,
            team_id=team_id,
            user_id=user_id,
            name=user_id[2:].title(),
            tz="Europe/London",
            locale="en-GB",
            now=clock.now(),
        )
        with transaction(db) as session:
            session.add(
                Member(partnership_id=here.id, person_id=person.id, organisation=organisation)
            )
    return here


def says(saydo, slack, text: str, user_id: str = "U0ALICE") -> str:
    url = slack.response_url()
    assert saydo.command("/saydo", text, user_id=user_id, channel_id=CHANNEL, response_url=url)
    reply = reply_at(slack, url)
    return reply.get("text", "") + json.dumps(reply.get("blocks", []), ensure_ascii=False)


def at(instant: datetime) -> str:
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%MZ")


def wait_until(found, what: str):
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        if result := found():
            return result
        time.sleep(0.02)
    raise AssertionError(what)


def test_set_list_measure_remind_and_achieve_an_objective(
    saydo, people, db, partnership, database_url, tmp_path
):
    slack = people
    today = clock.now().date()
    assert saydo.command("/saydo", "objective", user_id="U0ALICE", channel_id=CHANNEL)
    [opened] = slack.wait_for("views.open")
    view = opened.args["view"]
    assert view["callback_id"] == blocks.NEW_MODAL

    # Nothing filled in: every SMART problem comes back next to its field, nothing is saved.
    refused = submit(saydo, view, "U0ALICE", state_of(view)).json()
    assert refused["response_action"] == "errors"
    f = blocks.FIELDS
    assert set(refused["errors"]) == {
        f[name][0]
        for name in (
            service.TITLE,
            service.MEASURE,
            service.DIRECTION,
            service.BASELINE_VALUE,
            service.BASELINE_DATE,
            service.TARGET_VALUE,
            service.TARGET_DATE,
            service.OWNER,
        )
    }

    values = state_of(view)
    baseline_date, target_date = today - timedelta(days=20), today + timedelta(days=160)
    for name, text in (
        (service.TITLE, "Faster hospital discharge"),
        (service.MEASURE, "days from referral to discharge"),
        (service.BASELINE_VALUE, "20"),
        (service.TARGET_VALUE, "10"),
    ):
        values[f[name][0]][f[name][1]]["value"] = text
    for name, value in ((service.DIRECTION, service.LOWER), (service.OWNER, "Council")):
        values[f[name][0]][f[name][1]]["selected_option"] = {"value": value}
    values[f[service.BASELINE_DATE][0]][f[service.BASELINE_DATE][1]]["selected_date"] = (
        target_date.isoformat()
    )
    values[f[service.TARGET_DATE][0]][f[service.TARGET_DATE][1]]["selected_date"] = (
        baseline_date.isoformat()
    )
    swapped = submit(saydo, view, "U0ALICE", values).json()
    assert swapped["errors"] == {
        f[service.TARGET_DATE][0]: "The target date must be after the baseline date."
    }
    values[f[service.BASELINE_DATE][0]][f[service.BASELINE_DATE][1]]["selected_date"] = (
        baseline_date.isoformat()
    )
    values[f[service.TARGET_DATE][0]][f[service.TARGET_DATE][1]]["selected_date"] = (
        target_date.isoformat()
    )
    with transaction(db) as session:
        assert session.execute(select(func.count()).select_from(Objective)).scalar() == 0
    accepted = submit(saydo, view, "U0ALICE", values)
    assert accepted.status_code == 200 and not accepted.text
    announced = wait_until(
        lambda: [
            c
            for c in slack.calls_to("chat.postMessage")
            if c.args["channel"] == CHANNEL and "New objective O1" in c.args["text"]
        ],
        "the new objective was not announced",
    )
    assert len(announced) == 1

    recorded = says(saydo, slack, "measure O1 16 evidence: https://example.org/dash", "U0CAROL")
    assert "Recorded 16 for O1" in recorded
    listed = says(saydo, slack, "objectives")
    assert "O1 Faster hospital discharge" in listed and "latest 16" in listed
    assert "target 10" in listed
    assert "isn't an objective" in says(saydo, slack, "measure budget 12")
    assert "There is no objective O9" in says(saydo, slack, "measure O9 12")
    assert "isn't a number" in says(saydo, slack, "measure O1 lots")
    assert "members only" in says(saydo, slack, "objectives", "U0DAVE")
    assert "members only" in says(saydo, slack, "measure O1 12", "U0DAVE")
    with transaction(db) as session:
        [kept] = session.execute(select(ObjectiveMeasurement)).scalars().all()
    assert (kept.value, kept.evidence) == (16, "https://example.org/dash")

    # Carol's value counts for the first value day (a month after the baseline); on the
    # second, at 09:00 in London (or the Monday after), Alice is reminded.
    [objective] = service.list_objectives(
        db, partnership_id=partnership.id, viewer=_person(db, "U0ALICE"), now=clock.now()
    )
    due = service.value_days(objective)[1]
    nine = datetime(due.year, due.month, due.day, 9, tzinfo=UTC).astimezone(UTC)
    for weekday_nine in (nine + timedelta(days=d) for d in range(0, 4)):
        result = saydo_cli(
            "tick", "--now", at(weekday_nine), database_url=database_url, slack=slack, cwd=tmp_path
        )
        assert result.returncode == 0, result.stderr
    [reminder] = [
        c for c in slack.calls_to("chat.postMessage") if "Time to record O1" in c.args["text"]
    ]
    assert reminder.args["channel"] == "U0ALICE"
    [button] = [e for b in reminder.args["blocks"] if b["type"] == "actions" for e in b["elements"]]
    press(saydo, slack, button["value"], user_id="U0ALICE", action_id=blocks.RECORD_BUTTON)
    record_view = slack.wait_for("views.open", count=2)[-1].args["view"]
    assert record_view["callback_id"] == blocks.RECORD_MODAL
    form = state_of(record_view)
    form[blocks.VALUE[0]][blocks.VALUE[1]]["value"] = "ten"
    bad = submit(saydo, record_view, "U0ALICE", form).json()
    assert set(bad["errors"]) == {blocks.VALUE[0]}
    form[blocks.VALUE[0]][blocks.VALUE[1]]["value"] = "10"
    assert submit(saydo, record_view, "U0ALICE", form).status_code == 200
    wait_until(
        lambda: [
            c
            for c in slack.calls_to("chat.postMessage")
            if c.args["channel"] == "U0ALICE" and "Target reached" in c.args["text"]
        ],
        "no confirmation to Alice",
    )
    for _ in range(2):
        result = saydo_cli(
            "tick",
            "--now",
            at(clock.now() + timedelta(minutes=1)),
            database_url=database_url,
            slack=slack,
            cwd=tmp_path,
        )
        assert result.returncode == 0, result.stderr
    achieved = [
        c
        for c in slack.calls_to("chat.postMessage")
        if c.args["channel"] == CHANNEL and "Objective achieved: O1" in c.args["text"]
    ]
    assert len(achieved) == 1


def _person(db, user_id):
    return save_person(
        db,
        team_id="T0PARTNER" if user_id == "U0CAROL" else "T0001",
        user_id=user_id,
        name=user_id[2:].title(),
        tz="Europe/London",
        locale="en-GB",
        now=clock.now(),
    )


def test_the_cost_ledger_form_and_recording_spend(saydo, people, db, partnership):
    slack = people
    assert saydo.command("/saydo", "costs", user_id="U0ALICE", channel_id=CHANNEL)
    [opened] = slack.wait_for("views.open")
    view = opened.args["view"]
    assert view["callback_id"] == cost_blocks.LEDGER_MODAL
    assert "No costs yet" in json.dumps(view)

    values = state_of(view)
    f = cost_blocks.FIELDS
    values[f[costs.AREA][0]][f[costs.AREA][1]]["value"] = "Home care brokerage"
    values[f[costs.BASELINE][0]][f[costs.BASELINE][1]]["value"] = "about 60k"
    refused = submit(saydo, view, "U0ALICE", values).json()
    assert set(refused["errors"]) == {f[costs.BASELINE][0], f[costs.ORGANISATION][0]}

    values[f[costs.BASELINE][0]][f[costs.BASELINE][1]]["value"] = "60,000"
    values[f[costs.ORGANISATION][0]][f[costs.ORGANISATION][1]]["selected_option"] = {
        "value": "Council"
    }
    values[f[costs.PROJECT][0]][f[costs.PROJECT][1]]["value"] = "Brokerage pilot"
    values[f[costs.SUPPLIER][0]][f[costs.SUPPLIER][1]]["selected_option"] = {"value": "NHS"}
    values[f[costs.BUDGET][0]][f[costs.BUDGET][1]]["value"] = "36,500"
    today = clock.now().date()
    values[f[costs.START][0]][f[costs.START][1]]["selected_date"] = (
        today - timedelta(days=30)
    ).isoformat()
    values[f[costs.END][0]][f[costs.END][1]]["selected_date"] = (
        today + timedelta(days=334)
    ).isoformat()
    assert submit(saydo, view, "U0ALICE", values).status_code == 200
    ledger = wait_until(
        lambda: [
            c
            for c in slack.calls_to("chat.postMessage")
            if c.args["channel"] == "U0ALICE" and "Cost ledger" in c.args["text"]
        ],
        "the ledger was not sent to Alice",
    )
    assert "Baseline, Council: GBP 60,000.00 a year" in json.dumps(ledger[0].args["blocks"])

    reply = says(saydo, slack, "cost Brokerage pilot £1,250.50 for November evidence: inv 42")
    assert "Recorded GBP 1,250.50 against P1 Brokerage pilot" in reply
    assert "spent GBP 1,250.50 of GBP 36,500.00" in reply
    assert "can't find the project" in says(saydo, slack, "cost Nothing 12")
    assert "isn't an amount of money" in says(saydo, slack, "cost P1 12.345")
    assert "members only" in says(saydo, slack, "cost P1 12", "U0DAVE")


def test_partners_measure_and_record_spend_by_mentioning_saydo(saydo, people, db, partnership):
    """Slack Connect shares no slash commands: `@Saydo measure …` and `@Saydo cost …` do what
    `/saydo measure` and `/saydo cost` do, and answer only the person, in the thread."""
    slack = people
    today = clock.now().date()
    carol, alice = _person(db, "U0CAROL"), _person(db, "U0ALICE")
    service.create_objective(
        db,
        partnership_id=partnership.id,
        creator=carol,
        draft=service.Draft(
            title="Faster hospital discharge",
            good_looks_like="",
            measure="days from referral to discharge",
            direction=service.LOWER,
            baseline_value="20",
            baseline_date=today - timedelta(days=20),
            target_value="10",
            target_date=today + timedelta(days=160),
            owner_organisation="NHS",
        ),
        now=clock.now(),
    )
    costs.save_ledger(
        db,
        partnership_id=partnership.id,
        actor=alice,
        draft=costs.LedgerDraft(
            area="Home care brokerage",
            project="Brokerage pilot",
            supplier="NHS",
            budget="36,500",
            start=today - timedelta(days=30),
            end=today + timedelta(days=334),
        ),
        now=clock.now(),
    )
    sent = iter(range(100, 200))

    def mention(text: str, **changes) -> dict:
        """Carol (a partner organisation's member) mentions Saydo; what she alone is told."""
        ts = f"1764000000.000{next(sent)}"
        before = len(slack.calls_to("chat.postEphemeral"))
        event = doors.app_mention_event(
            user_id="U0CAROL", text=f"<@UBOT> {text}", channel_id=CHANNEL, ts=ts,
            team_id="T0PARTNER",
        )  # fmt: skip
        saydo.event(event | changes)
        told = slack.wait_for("chat.postEphemeral", count=before + 1)[-1].args
        assert (told["user"], told["channel"], told["thread_ts"]) == ("U0CAROL", CHANNEL, ts)
        return told["text"] + json.dumps(told.get("blocks", []), ensure_ascii=False)

    assert "Recorded 16 for O1" in mention("measure O1 16 evidence: https://example.org/dash")
    assert "Recorded GBP 1,250.50 against P1 Brokerage pilot" in mention(
        "cost Brokerage pilot £1,250.50 for November evidence: invoice 42"
    )
    # Bad input: the same friendly errors as the slash commands, saying how to mention.
    assert "isn't a number" in mention("measure O1 lots")
    assert "There is no objective O9" in mention("measure O9 12")
    usage = mention("measure")
    assert "Tell me which objective and the value" in usage and "@Saydo measure O1" in usage
    assert "Tell me the project and the amount" in mention("cost Brokerage pilot lots")
    assert "isn't an amount of money" in mention("cost P1 12.345")
    # An edit is never read again: nothing recorded twice.
    edited = {"edited": {"user": "U0CAROL", "ts": "1764000001.000000"}}
    assert "post it as a new message" in mention("measure O1 15", **edited)

    with transaction(db) as session:
        [kept] = session.execute(select(ObjectiveMeasurement)).scalars().all()
    assert (kept.value, kept.evidence) == (16, "https://example.org/dash")
    [spend] = (
        costs.partnership_ledger(db, partnership_id=partnership.id, now=clock.now())
        .areas[0]
        .projects
    )
    assert spend.figures.spent == Decimal("1250.50")
    assert not [c for c in slack.calls_to("chat.postMessage") if c.args["channel"] == CHANNEL]

    # "measure" that reads as a commitment, not a value, is logged as one, in the thread.
    due = (today + timedelta(days=10)).strftime("%d %b %Y")
    saydo.event(
        doors.app_mention_event(
            user_id="U0CAROL",
            text=f"<@UBOT> measure the footfall by {due}",
            channel_id=CHANNEL,
            ts="1764000000.000300",
            team_id="T0PARTNER",
        )
    )
    [logged] = wait_until(
        lambda: [c for c in slack.calls_to("chat.postMessage") if c.args["channel"] == CHANNEL],
        "the commitment was not logged",
    )
    assert "Logged *#1*" in logged.args["text"] and logged.args["thread_ts"] == "1764000000.000300"
