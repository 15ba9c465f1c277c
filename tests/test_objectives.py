"""Objectives on both databases: SMART checks, status at the tolerance's edges, append-only
values with who, when and evidence, privacy, the achievement announced once, and value
reminders through the outbox against the Slack stand-in (once per slot, catch-up, away)."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from bot.blocks import charter as charter_forms
from bot.blocks import objectives as blocks
from bot.blocks import reports as report_blocks
from bot.blocks import reviews as review_blocks
from bot.charter import service as charter
from bot.commitments.nudges import set_away
from bot.commitments.service import ensure_partnership, save_person
from bot.config import Settings
from bot.objectives import service
from bot.objectives.service import Draft, FormRefusal, Status, status_of
from bot.reports import reviews, summaries
from bot.reports.export import export
from bot.slack_client import build_web_client
from handlers.charter import read_draft
from scheduler.jobs import build_sweeper, run_sweeps
from storage import clock
from storage.db import transaction
from storage.models import Member, ObjectiveMeasurement, OutboxMessage
from tests.saydo_process import BOT_TOKEN
from tests.slack_contract import assert_valid_blocks, assert_valid_view
from tests.test_e2e_charter import state_of


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


# --- status: the straight line and the tolerance ----------------------------------------------


def lower_is_better(latest, *, on=date(2026, 1, 6), today=date(2026, 1, 6), tolerance=10):
    """20 days on 1 Jan falling to 10 days on 11 Jan: the line drops one day a day."""
    return status_of(
        higher_is_better=False,
        baseline=Decimal(20),
        baseline_date=date(2026, 1, 1),
        target=Decimal(10),
        target_date=date(2026, 1, 11),
        latest=None if latest is None else Decimal(latest),
        latest_on=on if latest is not None else None,
        today=today,
        tolerance_percent=tolerance,
    )


def test_status_at_the_edges_of_the_tolerance_when_lower_is_better():
    # On 6 Jan the line is at 15; 10% of the 10-day change allows 1 day behind it.
    assert lower_is_better("15") == Status.ON_TRACK
    assert lower_is_better("13") == Status.ON_TRACK  # ahead of the line
    assert lower_is_better("16") == Status.ON_TRACK  # exactly at the tolerance
    assert lower_is_better("16.01") == Status.AT_RISK  # just beyond it
    assert lower_is_better("16.01", tolerance=20) == Status.ON_TRACK  # the charter's setting
    assert lower_is_better("15", tolerance=0) == Status.ON_TRACK
    assert lower_is_better("15.0001", tolerance=0) == Status.AT_RISK
    assert lower_is_better("10") == Status.ACHIEVED
    assert lower_is_better("9.5") == Status.ACHIEVED
    assert lower_is_better(None) == Status.NO_VALUE


def test_status_past_the_target_date_is_missed_unless_achieved():
    late = date(2026, 1, 12)
    assert lower_is_better("10.5", on=date(2026, 1, 11), today=late) == Status.MISSED
    assert lower_is_better(None, today=late) == Status.MISSED
    assert lower_is_better("10", on=date(2026, 1, 11), today=late) == Status.ACHIEVED
    # On the target date itself the line is at the target: 11 is one day behind, within 10%.
    assert lower_is_better("11", on=date(2026, 1, 11), today=date(2026, 1, 11)) == Status.ON_TRACK


def test_status_when_higher_is_better_uses_the_date_of_the_latest_value():
    def status(latest, on):
        return status_of(
            higher_is_better=True,
            baseline=Decimal(0),
            baseline_date=date(2026, 1, 1),
            target=Decimal(100),
            target_date=date(2026, 4, 11),  # 100 days: the line rises one a day
            latest=Decimal(latest),
            latest_on=on,
            today=date(2026, 3, 1),
            tolerance_percent=10,
        )

    assert status("40", date(2026, 2, 20)) == Status.ON_TRACK  # line at 50, 10 behind
    assert status("39.99", date(2026, 2, 20)) == Status.AT_RISK
    assert status("30", date(2026, 1, 31)) == Status.ON_TRACK  # the line on 31 Jan is at 30
    assert status("100", date(2026, 2, 20)) == Status.ACHIEVED


def test_values_are_exact_decimals():
    assert service.parse_value("1,200.50") == Decimal("1200.50")
    assert service.parse_value(" 85% ") == Decimal("85")
    assert service.parse_value("-0.1") + service.parse_value("0.2") == Decimal("0.1")
    for bad in ("", "ten", "1e5", "nan", "12.5.1", "1,00"):
        with pytest.raises(ValueError):
            service.parse_value(bad)


# --- the partnership ---------------------------------------------------------------------------


def good_draft(**changes) -> Draft:
    values = {
        "title": "Faster hospital discharge",
        "good_looks_like": "People go home the day they are ready",
        "measure": "days from referral to discharge",
        "direction": service.LOWER,
        "baseline_value": "20",
        "baseline_date": date(2026, 1, 5),
        "target_value": "10",
        "target_date": date(2026, 7, 5),
        "owner_organisation": "council",  # matched to "Council" whatever its case
        "cadence": "monthly",
    }
    return Draft(**{**values, **changes})


@pytest.fixture
def world(engine, people):
    partnership = ensure_partnership(engine, team_id="T0001", channel_id="C0PARTNER")
    folks = {}
    for user_id, organisation, team in (
        ("U0ALICE", "Council", "T0001"),
        ("U0BOB", "Council", "T0001"),
        ("U0CAROL", "NHS", "T0PARTNER"),
        ("U0DAVE", None, "T0001"),  # in the workspace, not in the partnership
    ):
        folks[user_id] = save_person(
            engine,
            team_id=team,
            user_id=user_id,
            name=user_id[2:].title(),
            tz="Europe/London",
            locale="en-GB",
            now=utc(2026, 1, 1),
        )
        if organisation:
            with transaction(engine) as session:
                session.add(
                    Member(
                        partnership_id=partnership.id,
                        person_id=folks[user_id].id,
                        organisation=organisation,
                        joined_at=utc(2026, 1, 1),
                    )
                )
    client = build_web_client(Settings(bot_token=BOT_TOKEN, slack_api_url=people.url))
    sweeper = build_sweeper(engine, client)
    sweeper.sleep = lambda _seconds: None
    return {
        "engine": engine,
        "partnership": partnership,
        "slack": people,
        **folks,
        "sweeper": sweeper,
    }


CREATED = utc(2026, 1, 5, 12)


def create(world, draft=None, by="U0ALICE", now=CREATED):
    return service.create_objective(
        world["engine"],
        partnership_id=world["partnership"].id,
        creator=world[by],
        draft=draft or good_draft(),
        now=now,
    )


def measure(world, objective, value, *, at, by="U0ALICE", evidence=None):
    return service.record_measurement(
        world["engine"],
        objective_id=objective.id,
        actor=world[by],
        value=value,
        evidence=evidence,
        now=at,
    )


def test_a_draft_that_is_not_smart_is_refused_field_by_field_and_nothing_is_saved(world):
    with pytest.raises(FormRefusal) as refused:
        create(
            world,
            Draft(
                title=" ",
                good_looks_like="",
                measure="",
                direction="",
                baseline_value="about twenty",
                baseline_date=None,
                target_value="",
                target_date=None,
                owner_organisation="Acme",
                cadence="daily",
            ),
        )
    assert set(refused.value.problems) == {
        service.TITLE,
        service.MEASURE,
        service.DIRECTION,
        service.BASELINE_VALUE,
        service.BASELINE_DATE,
        service.TARGET_VALUE,
        service.TARGET_DATE,
        service.OWNER,
        service.CADENCE,
    }
    assert "`about twenty` isn't a number" in refused.value.problems[service.BASELINE_VALUE]

    with pytest.raises(FormRefusal) as dates:
        create(world, good_draft(target_date=date(2026, 1, 5)))
    assert dates.value.problems == {
        service.TARGET_DATE: "The target date must be after the baseline date."
    }
    with pytest.raises(FormRefusal) as direction:
        create(world, good_draft(target_value="25"))
    assert set(direction.value.problems) == {service.TARGET_VALUE}
    assert "below the baseline" in direction.value.problems[service.TARGET_VALUE]
    assert (
        service.list_objectives(
            world["engine"],
            partnership_id=world["partnership"].id,
            viewer=world["U0ALICE"],
            now=utc(2026, 1, 6),
        )
        == []
    )


def test_values_are_kept_with_who_when_and_evidence_and_status_follows_the_latest(world):
    first = create(world)
    second = create(
        world,
        good_draft(
            title="Invoices paid in 30 days",
            direction="higher",
            measure="% of invoices",
            baseline_value="60",
            target_value="90",
            owner_organisation="NHS",
        ),
    )
    assert (first.ref, second.ref, first.owner_organisation) == ("O1", "O2", "Council")
    assert first.status == Status.NO_VALUE

    # 5 Apr is 90 of 181 days in: the line is at about 15.03; 10% allows one day behind.
    updated, achieved = measure(world, first, "16", at=utc(2026, 4, 5, 10), evidence="dashboard")
    assert (updated.status, achieved) == (Status.ON_TRACK, False)
    updated, _ = measure(world, first, "16.5", at=utc(2026, 4, 5, 11), by="U0CAROL")
    assert updated.status == Status.AT_RISK
    assert [(m.value, m.recorded_by, m.evidence) for m in updated.measurements] == [
        (Decimal("16"), "Alice", "dashboard"),
        (Decimal("16.5"), "Carol", None),
    ]
    assert updated.latest.measured_on == date(2026, 4, 5)
    assert updated.latest.recorded_at == utc(2026, 4, 5, 11)

    listed = service.list_objectives(
        world["engine"],
        partnership_id=world["partnership"].id,
        viewer=world["U0CAROL"],
        now=utc(2026, 4, 6),
    )
    assert [(o.ref, o.status) for o in listed] == [("O1", Status.AT_RISK), ("O2", Status.NO_VALUE)]
    message = blocks.objectives_list(listed, partnership_name="housing <!channel>")
    assert_valid_blocks(message["blocks"])
    body = json.dumps(message, ensure_ascii=False)
    assert "baseline 20 → latest 16.5 (Sun 5 Apr 2026) → target 10 by Sun 5 Jul 2026" in body
    assert ":warning: at risk" in body and "<!channel>" not in body

    with pytest.raises(FormRefusal, match="isn't a number"):
        measure(world, first, "lots", at=utc(2026, 4, 7))
    with transaction(world["engine"]) as session:
        assert session.execute(select(func.count()).select_from(ObjectiveMeasurement)).scalar() == 2


def test_only_partnership_members_see_or_change_objectives(world, engine):
    objective = create(world)
    dave = world["U0DAVE"]
    here = world["partnership"].id
    with pytest.raises(FormRefusal, match="members only"):
        service.list_objectives(engine, partnership_id=here, viewer=dave, now=utc(2026, 2, 1))
    with pytest.raises(FormRefusal, match="members only"):
        measure(world, objective, "12", at=utc(2026, 2, 1), by="U0DAVE")
    with pytest.raises(FormRefusal, match="members only"):
        create(world, by="U0DAVE")
    with pytest.raises(FormRefusal, match="members only"):
        service.objective_for(engine, objective_id=objective.id, viewer=dave, now=utc(2026, 2, 1))
    with pytest.raises(FormRefusal, match="members only"):
        service.owner_choices(engine, partnership_id=here, person=dave)
    # A member of another partnership does not see this one's objectives either.
    elsewhere = ensure_partnership(engine, team_id="T0001", channel_id="C0OTHER")
    with transaction(engine) as session:
        session.add(Member(partnership_id=elsewhere.id, person_id=dave.id, organisation="Acme"))
    with pytest.raises(FormRefusal, match="members only"):
        service.list_objectives(engine, partnership_id=here, viewer=dave, now=utc(2026, 2, 1))
    assert (
        service.list_objectives(
            engine, partnership_id=elsewhere.id, viewer=dave, now=utc(2026, 2, 1)
        )
        == []
    )


def test_reaching_the_target_is_announced_in_the_channel_once(world):
    objective = create(world)
    _, achieved = measure(world, objective, "10", at=utc(2026, 5, 1, 10))
    assert achieved
    _, again = measure(world, objective, "9", at=utc(2026, 5, 1, 11))
    assert not again
    run_sweeps(world["sweeper"], now=utc(2026, 5, 1, 11, 0, 15))
    run_sweeps(world["sweeper"], now=utc(2026, 5, 1, 11, 1))
    [post] = [
        c for c in world["slack"].calls_to("chat.postMessage") if c.args["channel"] == "C0PARTNER"
    ]
    assert "Objective achieved: O1 Faster hospital discharge" in post.args["text"]
    assert "Well done, Council" in post.args["text"]


# --- reminders ------------------------------------------------------------------------------------


def reminders(slack, user_id=None):
    return [
        c
        for c in slack.calls_to("chat.postMessage")
        if "Time to record" in c.args.get("text", "")
        and (user_id is None or c.args["channel"] == user_id)
    ]


def test_owners_are_reminded_once_per_cadence_in_working_hours_with_a_record_button(world):
    create(world)  # monthly from Mon 5 Jan 2026: value days 5 Feb, 5 Mar... and 5 Jul
    sweeper, slack = world["sweeper"], world["slack"]
    run_sweeps(sweeper, now=utc(2026, 2, 5, 8, 59))
    assert reminders(slack) == []
    run_sweeps(sweeper, now=utc(2026, 2, 5, 9, 0))  # 09:00 in London (GMT)
    run_sweeps(sweeper, now=utc(2026, 2, 5, 9, 5))
    run_sweeps(sweeper, now=utc(2026, 2, 6, 9, 0))
    sent = reminders(slack)
    assert sorted(c.args["channel"] for c in sent) == ["U0ALICE", "U0BOB"]  # Council, not NHS
    assert "is due Thu 5 Feb 2026" in sent[0].args["text"]
    [button] = [e for b in sent[0].args["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert (
        button["action_id"] == blocks.RECORD_BUTTON and button["text"]["text"] == "Record a value"
    )
    with transaction(world["engine"]) as session:
        keys = (
            session.execute(
                select(OutboxMessage.slot_key).where(OutboxMessage.kind == "objective_reminder")
            )
            .scalars()
            .all()
        )
    assert len(keys) == len(set(keys))


def test_a_reminder_waits_while_the_owner_is_away_and_is_dropped_once_a_value_is_in(world):
    objective = create(world)
    engine, sweeper, slack = world["engine"], world["sweeper"], world["slack"]
    set_away(engine, person_id=world["U0BOB"].id, until=utc(2026, 2, 5, 14, 0))
    run_sweeps(sweeper, now=utc(2026, 2, 5, 9, 0))
    assert [c.args["channel"] for c in reminders(slack)] == ["U0ALICE"]
    run_sweeps(sweeper, now=utc(2026, 2, 5, 13, 59))
    assert len(reminders(slack, "U0BOB")) == 0
    run_sweeps(sweeper, now=utc(2026, 2, 5, 14, 0))  # back after lunch
    assert len(reminders(slack, "U0BOB")) == 1

    measure(world, objective, "18", at=utc(2026, 2, 20, 10))  # a value before 5 March
    reports = run_sweeps(sweeper, now=utc(2026, 3, 5, 9, 0))
    assert [r.result for r in reports if r.item.kind == "objective_reminder"] == ["cancelled"] * 2
    assert len(reminders(slack)) == 2  # nothing new: this period has its value


def test_reminders_missed_while_saydo_was_down_are_caught_up_within_a_day_only(world):
    create(world)
    sweeper, slack = world["sweeper"], world["slack"]
    run_sweeps(sweeper, now=utc(2026, 2, 5, 15, 0))  # down from before 09:00 until 15:00
    assert sorted(c.args["channel"] for c in reminders(slack)) == ["U0ALICE", "U0BOB"]
    run_sweeps(sweeper, now=utc(2026, 3, 6, 10, 0))  # down for all of 5 March: too late to ask
    assert len(reminders(slack)) == 2


def test_the_forms_are_valid_block_kit(world):
    objective = create(world)
    assert_valid_view(blocks.objective_modal("housing", ["Council", "NHS"], metadata='{"p":1}'))
    assert_valid_view(blocks.record_modal(objective, metadata='{"o":1}'))
    updated, achieved = measure(world, objective, "10", at=utc(2026, 5, 1, 10))
    for message in (
        blocks.recorded(updated, achieved=achieved),
        blocks.achieved(updated),
        blocks.created(updated, by_user_id="U0ALICE"),
        blocks.reminder(updated, due=date(2026, 5, 5)),
    ):
        assert_valid_blocks(message["blocks"])


def test_the_charter_form_sets_the_tolerance_and_the_status_follows_it(world, engine):
    view = charter_forms.setup_modal(
        name="housing",
        tz="Europe/London",
        charter=charter.DEFAULT_CHARTER,
        members=[],
        channel_id="C0PARTNER",
    )
    values = state_of(view)
    field = charter_forms.TOLERANCE
    assert values[field[0]][field[1]]["value"] == "10"
    values[field[0]][field[1]]["value"] = "150"
    errors: dict[str, str] = {}
    assert read_draft(values, charter.DEFAULT_CHARTER, tz="UTC", now=CREATED, errors=errors) is None
    assert set(errors) == {field[0]}
    values[field[0]][field[1]]["value"] = "20"
    errors.clear()
    draft = read_draft(values, charter.DEFAULT_CHARTER, tz="UTC", now=CREATED, errors=errors)
    assert draft.settings.objective_tolerance_percent == 20
    assert ("Objective and budget tolerance", "20%") in charter.describe_settings(draft.settings)

    objective = create(world)
    # 5 Apr: the line is at about 15.03; 17 is two days behind, beyond 10% (1) but within 20%.
    assert measure(world, objective, "17", at=utc(2026, 4, 5, 10))[0].status == Status.AT_RISK
    charter.setup(
        engine,
        partnership_id=world["partnership"].id,
        actor=world["U0ALICE"],
        agreed_by="Alice (Council)",
        name="housing",
        tz="Europe/London",
        draft=draft,
        now=utc(2026, 4, 5, 11),
    )
    [again] = service.list_objectives(
        engine, partnership_id=world["partnership"].id, viewer=world["U0BOB"], now=utc(2026, 4, 6)
    )
    assert again.status == Status.ON_TRACK


def test_objectives_and_measurements_export_as_csv_and_json(world, engine, monkeypatch):
    objective = create(world)
    measure(world, objective, "16.50", at=utc(2026, 4, 5, 10), evidence="dash, row 3")
    monkeypatch.setattr(clock, "now", lambda: utc(2026, 4, 6))
    out = io.StringIO()
    assert export(engine, out, fmt="csv", what="objectives") == 1
    [row] = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert (row["reference"], row["baseline_value"], row["latest_value"], row["status"]) == (
        "O1",
        "20",
        "16.50",
        "at risk",
    )
    assert row["better"] == "lower" and row["target_date"] == "2026-07-05"
    out = io.StringIO()
    assert export(engine, out, fmt="json", what="measurements") == 1
    [value] = json.loads(out.getvalue())
    assert value == {
        "workspace_id": "T0001",
        "channel_id": "C0PARTNER",
        "partnership": world["partnership"].name,
        "reference": "O1",
        "title": "Faster hospital discharge",
        "value": "16.50",
        "measured_on": "2026-04-05",
        "recorded_at": "2026-04-05T10:00:00Z",
        "recorded_by_id": "U0ALICE",
        "recorded_by_name": "Alice",
        "evidence": "dash, row 3",
    }
    out = io.StringIO()
    assert export(engine, out, fmt="json", what="measurements", channels=["C0OTHER"]) == 0


# --- in the reports ---------------------------------------------------------------------------


def three_objectives(world):
    """O1 achieved on 1 Apr; O2 at risk on 20 Mar and again on 1 Apr; O3 on track (NHS)."""
    achieved = create(world)
    slipping = create(world, good_draft(title="Fewer delayed transfers", measure="delays a week"))
    steady = create(
        world,
        good_draft(
            title="Invoices paid in 30 days",
            direction=service.HIGHER,
            measure="% of invoices",
            baseline_value="60",
            target_value="90",
            owner_organisation="NHS",
        ),
    )
    measure(world, achieved, "10", at=utc(2026, 4, 1, 10))
    measure(world, slipping, "19", at=utc(2026, 3, 20, 10))
    measure(world, slipping, "19", at=utc(2026, 4, 1, 10))
    measure(world, steady, "75", at=utc(2026, 4, 1, 10), by="U0CAROL")
    return achieved, slipping, steady


def test_the_evidence_pack_shows_objectives_and_puts_the_troubled_ones_on_the_agenda(world, engine):
    three_objectives(world)
    pack = reviews.evidence_pack(
        engine,
        partnership_id=world["partnership"].id,
        review_date=date(2026, 4, 15),
        now=utc(2026, 4, 2),
    )
    assert [(o.ref, o.status, o.at_risk_in_a_row) for o in pack.objectives] == [
        ("O1", Status.ACHIEVED, 0),
        ("O2", Status.AT_RISK, 2),
        ("O3", Status.ON_TRACK, 0),
    ]
    message = review_blocks.reminder(pack, days_before=14)
    assert_valid_blocks(message["blocks"])
    body = json.dumps(message, ensure_ascii=False)
    assert "*Objectives*" in body
    assert "baseline 60 → latest 75 (Wed 1 Apr 2026) → target 90 by Sun 5 Jul 2026" in body
    assert (
        "On the agenda: what got in the way?*\\nO2 Fewer delayed transfers (at risk twice in a row)"
        in body
    )
    assert "O1 Faster" not in body.split("On the agenda")[1]


def test_the_weekly_summary_says_what_was_achieved_and_what_is_newly_at_risk(world, engine):
    here = world["partnership"].id
    achieved = create(world)
    slipping = create(world, good_draft(title="Fewer delayed transfers", measure="delays a week"))
    measure(world, slipping, "19", at=utc(2026, 3, 20, 10))

    def summary(at):
        message = report_blocks.weekly_summary(
            summaries.weekly(engine, partnership_id=here, at=at, now=at)
        )
        assert_valid_blocks(message["blocks"])
        return json.dumps(message, ensure_ascii=False)

    # Mon 23 March, for 16 to 22 March: O2's first value was at risk; nothing achieved.
    body = summary(utc(2026, 3, 23, 9))
    assert "Newly at risk: O2 Fewer delayed transfers. The rest is in `/saydo objectives`." in body
    assert "Well done: O" not in body
    measure(world, achieved, "10", at=utc(2026, 4, 1, 10))
    measure(world, slipping, "19", at=utc(2026, 4, 1, 10))
    # Mon 6 April, for 30 March to 5 April: O1 achieved; O2 was at risk already.
    body = summary(utc(2026, 4, 6, 8))
    assert "Well done: O1 Faster hospital discharge reached its target." in body
    assert "Newly at risk" not in body


def test_home_shows_the_objectives_my_organisation_owns_with_the_next_value_due(world, engine):
    three_objectives(world)
    here = world["partnership"].id
    mine = service.owned_objectives(
        engine, partnership_id=here, user_id="U0BOB", now=utc(2026, 4, 2)
    )
    assert [o.ref for o in mine] == ["O1", "O2"]
    assert mine[1].next_due(date(2026, 4, 2)) == date(2026, 4, 5)
    home = blocks.home_blocks(mine, today=date(2026, 4, 2))
    text = json.dumps(home, ensure_ascii=False)
    assert "O2 Fewer delayed transfers* · :warning: at risk · next value due Sun 5 Apr 2026" in text
    assert "O1 Faster hospital discharge* · :trophy: achieved · no value due" in text
    assert_valid_view({"type": "home", "blocks": home})
    carol = service.owned_objectives(
        engine, partnership_id=here, user_id="U0CAROL", now=utc(2026, 4, 2)
    )
    assert [o.ref for o in carol] == ["O3"]
    assert (
        service.owned_objectives(engine, partnership_id=here, user_id="U0DAVE", now=utc(2026, 4, 2))
        == []
    )
