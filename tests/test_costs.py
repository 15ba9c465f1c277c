"""The cost ledger on both databases: exact Decimal money, derived figures (budget to date,
projection, savings against the baseline), the form's field-by-field refusals, privacy, and the
over-budget note to the admins involved, sent once through the outbox."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from bot.blocks import costs as blocks
from bot.blocks import reviews as review_blocks
from bot.commitments.service import ensure_partnership, save_person
from bot.config import Settings
from bot.costs import service
from bot.costs.service import FormRefusal, LedgerDraft, figures, money
from bot.reports import reviews
from bot.reports.export import export
from bot.slack_client import build_web_client
from handlers.costs import parse_cost
from scheduler.jobs import build_sweeper, run_sweeps
from storage.db import transaction
from storage.models import Member
from tests.saydo_process import BOT_TOKEN
from tests.slack_contract import assert_valid_blocks, assert_valid_view


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_figures_are_exact_and_rounded_half_up_only_for_display():
    # A calendar year's budget of 36,500 is 100 a day; 10 April is day 100.
    f = figures(
        budget=Decimal("36500"),
        start=date(2026, 1, 1),
        end=date(2026, 12, 31),
        spent=Decimal("10000.10"),
        today=date(2026, 4, 10),
    )
    assert f.budget_to_date == Decimal("10000")
    assert f.projected == Decimal("36500.365")
    assert money(f.projected, "GBP") == "GBP 36,500.37"  # half up, not banker's or binary
    assert f.over_tolerance(0) and not f.over_tolerance(1)
    before = figures(
        budget=Decimal(100),
        start=date(2026, 2, 1),
        end=date(2026, 2, 28),
        spent=Decimal(0),
        today=date(2026, 1, 15),
    )
    assert (before.budget_to_date, before.projected) == (Decimal(0), Decimal(0))
    after = figures(
        budget=Decimal(100),
        start=date(2026, 2, 1),
        end=date(2026, 2, 28),
        spent=Decimal(120),
        today=date(2026, 3, 15),
    )
    assert (after.budget_to_date, after.projected) == (Decimal(100), Decimal(120))
    assert after.over_tolerance(10) and not after.over_tolerance(20)


def test_amounts_are_read_as_exact_money():
    assert service.parse_money("£1,250.50") == Decimal("1250.50")
    assert service.parse_money("0.10") + service.parse_money("0.20") == Decimal("0.30")
    for bad in ("", "1.005", "-5", "0", "12,34", "lots", "1e3"):
        with pytest.raises(ValueError):
            service.parse_money(bad)


def test_the_command_is_parsed_with_period_and_evidence():
    assert parse_cost("Brokerage pilot £1,250.50 for November evidence: invoice 42") == (
        "Brokerage pilot",
        "£1,250.50",
        "November",
        "invoice 42",
    )
    assert parse_cost("P1 300") == ("P1", "300", None, None)
    with pytest.raises(ValueError):
        parse_cost("Brokerage pilot")


@pytest.fixture
def world(engine, people):
    partnership = ensure_partnership(engine, team_id="T0001", channel_id="C0PARTNER")
    folks = {}
    for user_id, organisation, admin in (
        ("U0ALICE", "Council", True),
        ("U0BOB", "Council", False),
        ("U0CAROL", "NHS", True),
        ("U0ERIN", "Acme", True),  # an admin of an organisation not involved in the project
        ("U0DAVE", None, False),  # not a member
    ):
        folks[user_id] = save_person(
            engine,
            team_id="T0PARTNER" if organisation == "NHS" else "T0001",
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
                        is_admin=admin,
                    )
                )
    people.add_user("U0ERIN", name="erin", real_name="Erin Evans")
    client = build_web_client(Settings(bot_token=BOT_TOKEN, slack_api_url=people.url))
    sweeper = build_sweeper(engine, client)
    sweeper.sleep = lambda _seconds: None
    return {"engine": engine, "p": partnership, "slack": people, "sweeper": sweeper, **folks}


def save(world, draft, by="U0ALICE", now=None):
    return service.save_ledger(
        world["engine"],
        partnership_id=world["p"].id,
        actor=world[by],
        draft=draft,
        now=now or utc(2026, 1, 2, 10),
    )


def spend(world, amount, *, at, project="Brokerage pilot", by="U0BOB", period=None):
    return service.record_cost(
        world["engine"],
        partnership_id=world["p"].id,
        actor=world[by],
        project=project,
        amount=amount,
        period=period,
        evidence="invoice",
        now=at,
    )


def set_up_ledger(world):
    area = "Home care brokerage"
    save(world, LedgerDraft(area, "Council", "60,000", "Staff and contracts 2025"))
    save(world, LedgerDraft("home care BROKERAGE", "NHS", "40000", "", market="90,000"))
    return save(
        world,
        LedgerDraft(
            area,
            project="Brokerage pilot",
            supplier="NHS",
            budget="36,500",
            start=date(2026, 1, 1),
            end=date(2026, 12, 31),
        ),
    )


def test_the_form_refuses_each_bad_field_and_saves_nothing(world):
    with pytest.raises(FormRefusal) as refused:
        save(
            world,
            LedgerDraft(
                "",
                organisation="",
                baseline="lots",
                note="x",
                project="P",
                supplier="Nobody",
                budget="",
                start=date(2026, 2, 1),
                end=date(2026, 1, 1),
            ),
        )
    assert set(refused.value.problems) == {
        service.AREA,
        service.BASELINE,
        service.ORGANISATION,
        service.SUPPLIER,
        service.BUDGET,
        service.END,
    }
    with pytest.raises(FormRefusal) as empty:
        save(world, LedgerDraft("Home care"))
    assert set(empty.value.problems) == {service.BASELINE}
    ledger = service.ledger(
        world["engine"], partnership_id=world["p"].id, viewer=world["U0BOB"], now=utc(2026, 1, 3)
    )
    assert ledger.areas == ()


def test_ledger_savings_and_spend_against_budget(world):
    ledger = set_up_ledger(world)
    [area] = ledger.areas
    assert area.name == "Home care brokerage" and area.market_price == Decimal("90000")
    assert [(b.organisation, b.annual_cost) for b in area.baselines] == [
        ("Council", Decimal("60000")),
        ("NHS", Decimal("40000")),
    ]
    for amount in ("3,000.10", "3,000.20", "3,999.70"):  # 10,000.00 by 10 April exactly
        ledger, project, alerted = spend(world, amount, at=utc(2026, 4, 10, 12))
    assert not alerted
    assert project.figures.spent == Decimal("10000.00")
    assert project.figures.projected == Decimal("36500")  # exactly on budget
    [area] = ledger.areas
    assert area.savings == Decimal("63500") and area.savings_percent == Decimal("63.5")
    message = blocks.ledger_message(ledger)
    assert_valid_blocks(message["blocks"])
    body = json.dumps(message, ensure_ascii=False)
    assert "Baseline, Council: GBP 60,000.00 a year — Staff and contracts 2025" in body
    assert "spent GBP 10,000.00 of GBP 36,500.00" in body
    assert "Savings against the baseline: GBP 63,500.00 a year (63.5%), projected" in body
    spend(world, "5,000", at=utc(2026, 4, 10, 14))
    pack = reviews.evidence_pack(
        world["engine"],
        partnership_id=world["p"].id,
        review_date=date(2026, 4, 15),
        now=utc(2026, 4, 10, 15),
    )
    body = json.dumps(review_blocks.reminder(pack, days_before=14), ensure_ascii=False)
    assert (
        "On the agenda: budgets to agree again*\\nP1 Brokerage pilot: projected 50.0% over budget"
        in body
    )
    with pytest.raises(FormRefusal, match="can't find the project `Pilot`"):
        spend(world, "5", at=utc(2026, 4, 10, 12), project="Pilot")
    assert spend(world, "5", at=utc(2026, 4, 10, 13), project="p1")[1].name == "Brokerage pilot"


def test_only_partnership_members_see_or_change_the_ledger(world):
    set_up_ledger(world)
    with pytest.raises(FormRefusal, match="members only"):
        service.ledger(
            world["engine"],
            partnership_id=world["p"].id,
            viewer=world["U0DAVE"],
            now=utc(2026, 2, 1),
        )
    with pytest.raises(FormRefusal, match="members only"):
        spend(world, "10", at=utc(2026, 2, 1), by="U0DAVE")
    with pytest.raises(FormRefusal, match="members only"):
        save(world, LedgerDraft("Care", "Council", "10"), by="U0DAVE")


def test_over_budget_beyond_the_tolerance_tells_the_admins_involved_once(world):
    set_up_ledger(world)
    # Day 100 of 365: 11,000 projects to 40,150, 10% over a 36,500 budget: still within it.
    _, project, alerted = spend(world, "11,000", at=utc(2026, 4, 10, 12))
    assert not alerted and not project.over_budget
    _, project, alerted = spend(world, "0.01", at=utc(2026, 4, 10, 12, 5))
    assert alerted and project.over_budget
    _, _, again = spend(world, "500", at=utc(2026, 4, 10, 12, 10))
    assert not again
    run_sweeps(world["sweeper"], now=utc(2026, 4, 10, 12, 11))
    run_sweeps(world["sweeper"], now=utc(2026, 4, 10, 12, 12))
    notes = [
        c
        for c in world["slack"].calls_to("chat.postMessage")
        if "projected to spend" in c.args["text"]
    ]
    # Admins of the supplier (NHS) and of the organisations with a baseline (Council), once.
    assert sorted(c.args["channel"] for c in notes) == ["U0ALICE", "U0CAROL"]
    assert "beyond the 10% the charter allows" in notes[0].args["text"]


def test_the_ledger_form_and_notes_are_valid_block_kit(world):
    ledger = set_up_ledger(world)
    assert_valid_view(blocks.ledger_modal(ledger, ["Council", "NHS"], metadata='{"p":1}'))
    ledger, project, _ = spend(world, "20,000", at=utc(2026, 4, 10, 12))
    assert_valid_blocks(
        blocks.recorded(ledger, project, amount=Decimal(20000), alerted=True)["blocks"]
    )
    assert_valid_blocks(blocks.over_budget_note(ledger, project)["blocks"])


def test_spend_exports_as_csv_and_json_with_exact_money(world, engine):
    set_up_ledger(world)
    spend(world, "1,250.10", at=utc(2026, 4, 10, 12), period="March")
    out = io.StringIO()
    assert export(engine, out, fmt="csv", what="costs") == 1
    [row] = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert (row["project"], row["amount"], row["currency"], row["period"]) == (
        "Brokerage pilot",
        "1250.10",
        "GBP",
        "March",
    )
    assert (row["budget"], row["service_area"], row["supplier_organisation"]) == (
        "36500",
        "Home care brokerage",
        "NHS",
    )
    out = io.StringIO()
    export(engine, out, fmt="json", what="costs", since=utc(2026, 4, 11))
    assert json.loads(out.getvalue()) == []


def test_the_evidence_pack_shows_costs_against_budget_and_baseline(world, engine):
    set_up_ledger(world)
    spend(world, "10,000", at=utc(2026, 4, 10, 12))
    pack = reviews.evidence_pack(
        engine,
        partnership_id=world["p"].id,
        review_date=date(2026, 4, 15),
        now=utc(2026, 4, 10, 13),
    )
    message = review_blocks.reminder(pack, days_before=14)
    assert_valid_blocks(message["blocks"])
    body = json.dumps(message, ensure_ascii=False)
    assert "*Costs against budget and baseline*" in body
    assert "spent GBP 10,000.00 of GBP 36,500.00; budget to date GBP 10,000.00" in body
    assert "Savings against the baseline: GBP 63,500.00 a year (63.5%), projected" in body
