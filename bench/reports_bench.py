"""Report cost: building a partnership's weekly summary and quarterly evidence pack over 100,000
commitments, each against one raw SQL aggregate over the rows it counts.

For each backend (SQLite, PostgreSQL) a scratch database is migrated with
`storage.migrate.upgrade` and filled by SQL alone (a recursive CTE on SQLite, `generate_series`
on PostgreSQL): 60 people in 4 organisations (member rows), one partnership, and N commitments
whose judged due dates are spread evenly, one an hour, back from Mon 30 Nov 2026; older than eight
weeks they are delivered (kept or late), withdrawn or declined; within the last eight weeks and
ahead they are also open or proposed. A second partnership holds as many rows again (noise the
indexes must skip).

Timed, alternately, round after round (median reported), each report against its raw aggregate:

- summary: `bot.reports.summaries.weekly(...)` + `bot.blocks.reports.weekly_summary(...)` for the
summary due Mon 30 Nov 2026 09:00 UTC, with the default charter (figures by organisation): every
query and the Block Kit message; against raw: one `SELECT sum(CASE ...)...` over the rows the
summary reads (the eight trend weeks), the same outcome sums (`raw_week_aggregate` below); - pack:
`bot.reports.reviews.evidence_pack(...)` + `bot.blocks.reviews.reminder(...)` for the quarterly
review on Mon 30 Nov 2026, as posted two days before; against the same raw aggregate over that
quarter's rows; - summary by person: the same summary once the partnership adopts a charter (version
1) with `summary_visibility = "person"` (people's lines, streaks and titles too); against the raw
aggregate of the eight trend weeks.

    .venv/bin/python -m bench.reports_bench [--rows 100000] [--backends sqlite,postgresql]
                                           [--runs 15] [--json PATH]

The schema is the migrated one, including migration 0005's commitment (partnership_id, status,
due_at) index, which serves "open and past its date" and "open and due next week" without
reading the partnership's history. Exits 1 if a report takes more than 3 times its raw query
on a backend.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from bench.machine import machine
from bot.blocks import reports as report_blocks
from bot.blocks import reviews as review_blocks
from bot.commitments.lifecycle import Status
from bot.policy.charter_settings import BY_PERSON, CharterSettings
from bot.reports import figures as reports
from bot.reports import reviews, summaries
from storage import migrate
from storage.db import create_db_engine, transaction
from storage.models import CharterVersion, Commitment

POSTGRES_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
SUMMARY_AT = datetime(2026, 11, 30, 9, tzinfo=UTC)
REVIEW_DATE = date(2026, 11, 30)
GOAL = 3.0
REPORTS = ("weekly_summary", "quarterly_pack", "weekly_summary_by_person")
PEOPLE = 60
ORGS = ("Council", "NHS Trust", "Supplier Ltd", "Housing Association")


def _series(dialect: str, rows: int) -> str:
    if dialect == "sqlite":
        return (
            f"WITH RECURSIVE s(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM s WHERE n < {rows - 1}) "
        )
    return f"WITH s AS (SELECT generate_series(0::bigint, {rows - 1}) AS n) "


def _ts(dialect: str, minutes_back: str) -> str:
    """Mon 30 Nov 2026 00:00 UTC minus `minutes_back` minutes, as each backend stores it."""
    if dialect == "sqlite":
        return (
            f"strftime('%Y-%m-%d %H:%M:%S', '2026-11-30 00:00:00', "
            f"printf('%+d minutes', -({minutes_back}))) || '.000000'"
        )
    return f"(TIMESTAMPTZ '2026-11-30 00:00:00+00' - ({minutes_back}) * INTERVAL '1 minute')"


def fill(engine, rows: int) -> float:
    dialect = engine.dialect.name
    started = time.perf_counter()
    now_sql = _ts(dialect, "0")
    with engine.begin() as connection:
        run = connection.execute
        for pid in (1, 2):
            run(
                text(
                    "INSERT INTO partnership (id, team_id, channel_id, name, tz, created_at) "
                    f"VALUES ({pid}, 'T1', 'C{pid}', 'partnership {pid}', 'Europe/London', "
                    f"{_ts(dialect, '60 * 24 * 365 * 2')})"
                )
            )
        run(
            text(
                _series(dialect, PEOPLE)
                + "INSERT INTO person (id, team_id, user_id, name, tz, profile_fetched_at) "
                f"SELECT n + 1, 'T1', 'U' || n, 'Person ' || n, 'Europe/London', {now_sql} FROM s"
            )
        )
        orgs = " ".join(f"WHEN {i} THEN '{o}'" for i, o in enumerate(ORGS))
        run(
            text(
                _series(dialect, PEOPLE)
                + "INSERT INTO member (partnership_id, person_id, organisation, is_admin, "
                "active, coffee_opt_out, joined_at) "
                f"SELECT 1, n + 1, CASE n % {len(ORGS)} {orgs} END, "
                f"{'0' if dialect == 'sqlite' else 'false'}, "
                f"{'1' if dialect == 'sqlite' else 'true'}, "
                f"{'0' if dialect == 'sqlite' else 'false'}, {now_sql} FROM s"
            )
        )
        false = "0" if dialect == "sqlite" else "false"
        # minutes back from Mon 30 Nov 00:00: two years of rows, the newest four weeks ahead.
        span = 60 * 24 * 7 * 104
        back = f"((n / 2) * {span} / {rows} - 60 * 24 * 28)"
        recent = f"(({back}) < 60 * 24 * 7 * 8)"
        status = (
            f"CASE WHEN NOT {recent} THEN CASE (n / 2) % 20 "
            "WHEN 0 THEN 'withdrawn' WHEN 1 THEN 'declined' ELSE 'delivered' END "
            "ELSE CASE (n / 2) % 10 WHEN 0 THEN 'withdrawn' WHEN 1 THEN 'proposed' "
            "WHEN 2 THEN 'open' WHEN 3 THEN 'open' "
            "ELSE CASE WHEN ({b}) < 0 THEN 'open' ELSE 'delivered' END END END"
        ).format(b=back)
        judged = _ts(dialect, back)
        created = _ts(dialect, back + " + 60 * 24 * 30")
        delivered = _ts(dialect, back + " + 60 * (30 - n % 40)")
        withdrawn = _ts(dialect, back + " + 60 * 24 * (3 - n % 7)")
        true = "1" if dialect == "sqlite" else "true"
        run(
            text(
                _series(dialect, rows * 2)
                + "INSERT INTO commitment (team_id, ref, partnership_id, owner_id, recipient_id, "
                "created_by_id, title, has_time, created_at, status, original_due_at, due_at, "
                "judged_due_at, delivered_at, withdrawn_at, date_changes, confirmed, "
                "renegotiated) "
                f"SELECT 'T1', n + 1, 1 + n % 2, 1 + (n / 2) % {PEOPLE}, "
                f"1 + (n / 2 + 7) % {PEOPLE}, 1 + (n / 2) % {PEOPLE}, 'commitment ' || n, "
                f"{true}, {created}, "
                f"st, {judged}, {judged}, {judged}, "
                f"CASE WHEN st = 'delivered' THEN {delivered} END, "
                f"CASE WHEN st = 'withdrawn' THEN {withdrawn} END, "
                f"0, {false}, {false} "
                f"FROM (SELECT n, {status} AS st FROM s) AS g"
            )
        )
    if dialect == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            for table in ("person", "partnership", "commitment", "member"):
                connection.exec_driver_sql(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT max(id) FROM {table}))"
                )
            connection.exec_driver_sql("VACUUM ANALYZE")
    else:
        with engine.connect() as connection:
            connection.exec_driver_sql("ANALYZE")
    return time.perf_counter() - started


def build_summary(engine) -> dict:
    weekly = summaries.weekly(engine, partnership_id=1, at=SUMMARY_AT, now=SUMMARY_AT)
    return report_blocks.weekly_summary(weekly)


def adopt_by_person_charter(engine) -> None:
    """Partnership 1 adopts charter version 1, naming people in its summaries."""
    settings = CharterSettings(summary_visibility=BY_PERSON).to_json()
    with transaction(engine) as session:
        session.add(
            CharterVersion(partnership_id=1, version=1, settings=settings, adopted_at=SUMMARY_AT)
        )


def build_pack(engine) -> dict:
    """The quarterly evidence pack for a review on the summary's Monday, as posted 2 days ahead."""
    pack = reviews.evidence_pack(engine, partnership_id=1, review_date=REVIEW_DATE, now=SUMMARY_AT)
    return review_blocks.reminder(pack, days_before=2)


def raw_week_aggregate(engine, *, partnership_id: int, start, end, now):
    """The benchmark's yardstick: one plain aggregate over the period's rows, with the reports'
    own outcome sums."""
    c = Commitment.__table__.c
    query = select(*reports._outcome_sums(now, engine.dialect.name)).where(
        c.partnership_id == partnership_id,
        c.judged_due_at >= start,
        c.judged_due_at < end,
        c.status.not_in((Status.PROPOSED.value, Status.DECLINED.value)),
    )
    with engine.connect() as connection:
        return connection.execute(query).one()


def raw_quarter(engine):
    """One raw aggregate over the rows the pack counts (the quarter before the review)."""
    _previous, start, end = reviews.quarter_bounds(REVIEW_DATE, "Europe/London")
    return raw_week_aggregate(engine, partnership_id=1, start=start, end=end, now=SUMMARY_AT)


def raw(engine):
    week_end = reports.local_midnight(SUMMARY_AT.date(), "Europe/London")
    trend = reports.week_starts(week_end, "Europe/London")
    return raw_week_aggregate(
        engine, partnership_id=1, start=trend[0], end=trend[-1], now=SUMMARY_AT
    )


def timed(func, engine) -> float:
    started = time.perf_counter()
    func(engine)
    return time.perf_counter() - started


def measure(engine, runs: int, build=build_summary, baseline=raw) -> dict:
    """Median times of building the report and of its raw aggregate, alternately."""
    report_times, raw_times = [], []
    for _ in range(runs):
        report_times.append(timed(build, engine))
        raw_times.append(timed(baseline, engine))
    report_ms = statistics.median(report_times) * 1000
    raw_ms = statistics.median(raw_times) * 1000
    return {
        "report_ms": round(report_ms, 2),
        "raw_ms": round(raw_ms, 2),
        "ratio": round(report_ms / raw_ms, 2),
    }


def bench(backend: str, rows: int, runs: int, workdir: Path) -> dict:
    name = None
    if backend == "sqlite":
        url = f"sqlite:///{workdir / 'reports.db'}"
    else:
        name = f"saydo_bench_reports_{uuid.uuid4().hex[:8]}"
        admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
        admin.dispose()
        url = make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(False)
    engine = create_db_engine(url)
    try:
        migrate.upgrade(engine)
        fill_seconds = fill(engine, rows)
        with engine.connect() as connection:
            count = connection.execute(
                text("SELECT count(*) FROM commitment WHERE partnership_id = 1")
            ).scalar_one()
        message = build_summary(engine)  # warm caches and check the summary has content
        week_rows = raw(engine)
        result = {
            "backend": backend,
            "rows_in_partnership": count,
            "fill_seconds": round(fill_seconds, 1),
            "rows_read_by_raw": int(sum(int(v or 0) for v in week_rows)),
            "summary_blocks": len(message["blocks"]),
        }
        if backend == "postgresql":
            with engine.begin() as connection:
                connection.exec_driver_sql("ANALYZE")
        build_summary(engine)
        build_pack(engine)
        result["weekly_summary"] = measure(engine, runs)
        result["quarterly_pack"] = measure(engine, runs, build_pack, raw_quarter)
        adopt_by_person_charter(engine)
        message = build_summary(engine)
        assert any("By person" in json.dumps(block) for block in message["blocks"])
        result["summary_by_person_blocks"] = len(message["blocks"])
        result["weekly_summary_by_person"] = measure(engine, runs)
        return result
    finally:
        engine.dispose()
        if name:
            admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
            with admin.connect() as connection:
                connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    load_before = os.getloadavg()
    print(f"load average before: {load_before[0]:.2f}", file=sys.stderr)
    results = []
    with tempfile.TemporaryDirectory() as workdir:
        for backend in args.backends.split(","):
            result = bench(backend.strip(), args.rows, args.runs, Path(workdir))
            results.append(result)
            print(json.dumps(result))
    load_after = os.getloadavg()
    print(f"load average after: {load_after[0]:.2f}", file=sys.stderr)
    report = {
        "machine": machine(),
        "load_average": {"before": load_before[0], "after": load_after[0]},
        "results": results,
        "goal_ratio": GOAL,
    }
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
    met = True
    for result in results:
        for name in REPORTS:
            figures = result[name]
            ok = figures["ratio"] <= GOAL
            met &= ok
            print(
                f"{result['backend']:<10} {name:<25} {figures['report_ms']:7.2f} ms "
                f"{figures['raw_ms']:7.2f} ms  {figures['ratio']:5.2f}  "
                f"{'met' if ok else 'NOT MET'}",
                file=sys.stderr,
            )
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
