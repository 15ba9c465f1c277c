"""The quarterly evidence pack with its charts, for one partnership with 10 objectives (six
monthly values each), a cost ledger of two projects, and 1,000 commitments.

A scratch SQLite database is migrated and filled through the domain (commitments logged and half of
them delivered, objectives created and measured, the ledger saved and spent against). Timed (median
of `--runs`): `bot.reports.reviews.evidence_pack` + `bot.blocks.reviews.reminder` and the charts the
pack uploads (`bot.blocks.charts.render_png` for each objective and the spend chart and the say/do
ratio per organisation per week: 12 PNGs). Goal: under 1 s on this machine.

    .venv/bin/python -m bench.pack_charts_bench [--runs 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from bot.blocks import charts
from bot.blocks import reviews as review_blocks
from bot.commitments.lifecycle import EventKind
from bot.commitments.service import (
    change_commitment,
    ensure_partnership,
    log_commitment,
    save_person,
)
from bot.costs.service import LedgerDraft, record_cost, save_ledger
from bot.objectives.service import Draft, create_objective, record_measurement
from bot.reports import reviews
from storage import migrate
from storage.db import create_db_engine, transaction
from storage.models import Member

REVIEW = date(2026, 4, 15)
NOW = datetime(2026, 4, 1, 8, tzinfo=UTC)
GOAL_SECONDS = 1.0


def fill(engine) -> int:
    partnership = ensure_partnership(engine, team_id="T1", channel_id="C1", name="housing")
    people = []
    for n, organisation in enumerate(("Council", "NHS", "Care Co")):
        person = save_person(
            engine, team_id="T1", user_id=f"U{n}", name=f"P{n}", tz="Europe/London",
            locale="en-GB", now=datetime(2026, 1, 1, tzinfo=UTC),
        )  # fmt: skip
        with transaction(engine) as session:
            session.add(
                Member(
                    partnership_id=partnership.id, person_id=person.id, organisation=organisation
                )
            )
        people.append(person)
    start = datetime(2026, 1, 1, 12, tzinfo=UTC)
    for n in range(1000):
        owner = people[n % 3]
        due = start + timedelta(hours=2 * n)
        logged = log_commitment(
            engine, partnership=partnership, creator=owner, owner=owner, recipient=None,
            title=f"task {n}", due_at=due, has_time=True, now=due - timedelta(days=5),
        )  # fmt: skip
        if n % 2:
            change_commitment(
                engine, team_id="T1", ref=logged.commitment.ref, actor=owner,
                kind=EventKind.DELIVERED, now=due - timedelta(hours=1),
            )  # fmt: skip
    for n in range(10):
        objective = create_objective(
            engine,
            partnership_id=partnership.id,
            creator=people[0],
            draft=Draft(
                f"Objective {n}",
                "",
                "days",
                "lower",
                "20",
                date(2025, 10, 1),
                "10",
                date(2026, 9, 30),
                "Council",
            ),
            now=datetime(2025, 10, 1, tzinfo=UTC),
        )
        for month in range(6):
            record_measurement(
                engine, objective_id=objective.id, actor=people[0], value=str(19 - month + n % 3),
                evidence=None, now=datetime(2025, 10 + month, 1, 10, tzinfo=UTC)
                if month < 3 else datetime(2026, month - 2, 1, 10, tzinfo=UTC),
            )  # fmt: skip
    for name in ("Pilot", "Rollout"):
        save_ledger(
            engine, partnership_id=partnership.id, actor=people[0],
            draft=LedgerDraft("Home care", "Council", "60,000", project=name, supplier="NHS",
                              budget="36,500", start=date(2026, 1, 1), end=date(2026, 12, 31)),
            now=datetime(2026, 1, 2, tzinfo=UTC),
        )  # fmt: skip
        record_cost(
            engine, partnership_id=partnership.id, actor=people[1], project=name,
            amount="12,000", period=None, evidence=None, now=datetime(2026, 3, 31, tzinfo=UTC),
        )  # fmt: skip
    return partnership.id


def build(engine, partnership_id: int) -> int:
    pack = reviews.evidence_pack(engine, partnership_id=partnership_id, review_date=REVIEW, now=NOW)
    review_blocks.reminder(pack, days_before=14)
    pngs = [charts.render_png(charts.objective_chart(o)) for o in pack.objectives]
    pngs.append(charts.render_png(charts.spend_chart(pack.costs)))
    weekly = reviews.weekly_ratios(
        engine, partnership_id=partnership_id, review_date=REVIEW, now=NOW
    )
    pngs.append(
        charts.render_png(charts.ratio_chart(weekly.weeks, weekly.ratios, target=weekly.target))
    )
    return len(pngs)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as directory:
        engine = create_db_engine(f"sqlite:///{Path(directory) / 'bench.db'}")
        migrate.upgrade(engine)
        partnership_id = fill(engine)
        build(engine, partnership_id)  # warm up (imports, fonts)
        times = []
        for _ in range(args.runs):
            started = time.perf_counter()
            count = build(engine, partnership_id)
            times.append(time.perf_counter() - started)
        engine.dispose()
    median = statistics.median(times)
    spread = f"min {min(times) * 1000:.0f}, max {max(times) * 1000:.0f}"
    print(
        f"pack + {count} charts: median {median * 1000:.0f} ms over {args.runs} runs ({spread}); "
        f"goal < {GOAL_SECONDS:.0f} s"
    )
    return 0 if median < GOAL_SECONDS else 1


if __name__ == "__main__":
    sys.exit(main())
