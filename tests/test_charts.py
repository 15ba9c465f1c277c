"""Charts: the data each chart is drawn from, the PNG it makes (decoded, its size), and the
upload through the outbox with Slack's external upload flow, sent once, even after a crash."""

from __future__ import annotations

import io
from datetime import date, timedelta
from decimal import Decimal

import pytest
from matplotlib.figure import Figure
from PIL import Image
from sqlalchemy import select, update

from bot.blocks import charts
from bot.costs.service import LedgerDraft, partnership_ledger, record_cost, save_ledger
from bot.objectives import service
from bot.outbox.sending import State
from scheduler.jobs import run_sweeps
from storage import clock
from storage.db import transaction
from storage.models import OutboxMessage, Partnership
from tests import test_objectives
from tests.test_objectives import create, good_draft, measure, utc

world = test_objectives.world  # the fixture `partners` builds on


@pytest.fixture
def partners(world):
    """The partnership of tests/test_objectives.py: Council (Alice, Bob), NHS (Carol)."""
    return world


def test_an_objective_chart_shows_its_values_against_the_line(partners):
    objective = create(partners)
    measure(partners, objective, "17", at=utc(2026, 3, 5, 10))
    updated, _ = measure(partners, objective, "15.5", at=utc(2026, 4, 5, 10))
    chart = charts.objective_chart(updated)
    line, values = chart.series
    assert (line.label, line.x, line.y) == (
        "Baseline to target",
        (date(2026, 1, 5), date(2026, 7, 5)),
        (Decimal(20), Decimal(10)),
    )
    assert values.label == "Measured"
    assert values.x == (date(2026, 1, 5), date(2026, 3, 5), date(2026, 4, 5))
    assert values.y == (Decimal(20), Decimal(17), Decimal("15.5"))
    assert chart.y_label == "days from referral to discharge"
    assert "from a baseline of 20 on 5 Jan 2026 towards 10 by 5 Jul 2026" in chart.alt_text
    assert "latest 15.5 (on track), 2 values" in chart.alt_text
    png = Image.open(io.BytesIO(charts.render_png(chart)))
    assert png.format == "PNG"
    assert png.size == (charts.WIDTH_PX, charts.HEIGHT_PX)


def test_the_spend_chart_compares_budget_spend_and_projection(partners, engine):
    here = partners["partnership"].id
    save_ledger(
        engine,
        partnership_id=here,
        actor=partners["U0ALICE"],
        draft=LedgerDraft(
            "Home care",
            project="Pilot",
            supplier="NHS",
            budget="36,500",
            start=date(2026, 1, 1),
            end=date(2026, 12, 31),
        ),
        now=utc(2026, 1, 2),
    )
    record_cost(
        engine,
        partnership_id=here,
        actor=partners["U0BOB"],
        project="Pilot",
        amount="20,000",
        period=None,
        evidence=None,
        now=utc(2026, 4, 10, 12),
    )
    chart = charts.spend_chart(
        partnership_ledger(engine, partnership_id=here, now=utc(2026, 4, 10, 13))
    )
    assert [(s.label, s.x, s.y) for s in chart.series] == [
        ("Budget", ("P1",), (Decimal(36500),)),
        ("Budget to date", ("P1",), (Decimal(10000),)),
        ("Spent", ("P1",), (Decimal(20000),)),
        ("Projected", ("P1",), (Decimal(73000),)),
    ]
    assert chart.y_label == "GBP" and "projected over budget: P1" in chart.alt_text
    png = Image.open(io.BytesIO(charts.render_png(chart)))
    assert (png.format, png.size) == ("PNG", (800, 450))


def uploads(slack):
    return [f for f in slack.uploaded()]


def test_charts_are_uploaded_to_the_members_dm_once_even_after_a_crash(partners, engine):
    first = create(partners)
    create(partners, good_draft(title="Invoices paid", direction="higher", target_value="30"))
    measure(partners, first, "16", at=utc(2026, 4, 5, 10))
    now = clock.now()
    assert (
        service.request_charts(
            engine, partnership_id=partners["partnership"].id, viewer=partners["U0ALICE"], now=now
        )
        == 2
    )
    # Saydo died while sending the first: its claim is taken back, and it is sent once.
    with transaction(engine) as session:
        row = session.execute(select(OutboxMessage).order_by(OutboxMessage.id)).scalars().first()
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == row.id)
            .values(
                state=State.CLAIMED.value,
                claimed_by="elsewhere:1",
                claimed_at=now - timedelta(hours=1),
            )
        )
    run_sweeps(partners["sweeper"], now=now + timedelta(seconds=15))
    run_sweeps(partners["sweeper"], now=now + timedelta(seconds=30))
    files = uploads(partners["slack"])
    assert sorted(f["name"] for f in files) == ["objective-o1.png", "objective-o2.png"]
    for f in files:
        assert Image.open(io.BytesIO(f["data"])).size == (800, 450)
        assert f["channels"] and f["channels"][0].startswith("D")  # Alice's DM with Saydo
        assert f["alt_txt"].startswith(f["title"].split(" ")[0])
    completed = partners["slack"].calls_to("files.completeUploadExternal")
    assert len(completed) == 2 and completed[0].args["initial_comment"].startswith("O")
    with transaction(engine) as session:
        states = (
            session.execute(
                select(OutboxMessage.state).where(OutboxMessage.kind == "objective_chart")
            )
            .scalars()
            .all()
        )
    assert states == ["sent", "sent"]


def test_the_evidence_pack_brings_its_charts_to_the_channel_once(partners, engine):
    with transaction(engine) as session:  # began 15 Jan 2026: the first review is 15 April
        session.execute(
            update(Partnership)
            .where(Partnership.id == partners["partnership"].id)
            .values(created_at=utc(2026, 1, 15, 10))
        )
    objective = create(partners)
    measure(partners, objective, "16", at=utc(2026, 3, 5, 10))
    save_ledger(
        engine,
        partnership_id=partners["partnership"].id,
        actor=partners["U0ALICE"],
        draft=LedgerDraft(
            "Home care",
            project="Pilot",
            supplier="NHS",
            budget="1,000",
            start=date(2026, 1, 1),
            end=date(2026, 12, 31),
        ),
        now=utc(2026, 1, 2),
    )
    # The pack's first post is 14 days before, at 09:00 London (08:00 UTC in summer time).
    run_sweeps(partners["sweeper"], now=utc(2026, 4, 1, 8, 0))
    assert uploads(partners["slack"]) == []
    run_sweeps(partners["sweeper"], now=utc(2026, 4, 1, 8, 1))
    run_sweeps(partners["sweeper"], now=utc(2026, 4, 1, 8, 2))
    run_sweeps(partners["sweeper"], now=utc(2026, 4, 2, 8, 1))
    files = uploads(partners["slack"])
    assert sorted(f["name"] for f in files) == [
        "objective-o1.png",
        "say-do-ratio.png",
        "spend-against-budget.png",
    ]
    assert all(f["channels"] == ["C0PARTNER"] for f in files)
    [spend] = [f for f in files if f["name"].startswith("spend")]
    assert spend["alt_txt"].startswith("Spend against budget in GBP for 1 project (P1 Pilot)")
    assert Image.open(io.BytesIO(spend["data"])).size == (800, 450)


def test_the_ratio_chart_has_a_line_per_organisation_with_gaps_and_the_target():
    weeks = [date(2026, 1, 5), date(2026, 1, 12), date(2026, 1, 19)]
    chart = charts.ratio_chart(
        weeks, {"NHS": [0.5, None, 1.0], "Council": [1.0, 0.75, None]}, target=0.85
    )
    council, nhs, target = chart.series
    assert (council.label, council.x, council.y[:2]) == (
        "Council",
        tuple(weeks),
        (Decimal("100.0"), Decimal("75.0")),
    )
    assert council.y[2].is_nan() and nhs.y[1].is_nan()  # nothing judged: a gap, not zero
    assert nhs.y[2] == Decimal("100.0")
    assert (target.label, target.y) == ("Target", (Decimal("85.0"), Decimal("85.0")))
    assert "Council latest 75.0%; NHS latest 100.0%" in chart.alt_text
    png = Image.open(io.BytesIO(charts.render_png(chart)))
    assert (png.format, png.size) == ("PNG", (800, 450))


def test_the_legend_goes_in_a_corner_the_data_leaves_empty():
    def corner(draw, series):
        axes = Figure().add_subplot()
        return charts._emptiest_corner(axes, draw(axes, series))

    start, end = date(2026, 1, 1), date(2026, 7, 1)
    rising = [charts.Series("Baseline to target", (start, end), (Decimal(0), Decimal(100)))]
    falling = [charts.Series("Baseline to target", (start, end), (Decimal(100), Decimal(0)))]
    assert corner(charts._lines, rising) in ("upper left", "lower right")
    assert corner(charts._lines, falling) in ("upper right", "lower left")
    tall_then_short = [charts.Series("Budget", ("P1", "P2"), (Decimal(90), Decimal(10)))]
    assert corner(charts._bars, tall_then_short) == "upper right"
