"""Sweep cost against history: one outbox sweep with 100 nudges due, among 10k and 1M commitments.

For each backend (SQLite, PostgreSQL) two databases are migrated with `storage.migrate.upgrade`
and filled with bulk SQL: 1,000 people, one partnership, and N commitments. All but 100 are
history (delivered or, one in ten, withdrawn, each with its `created` and closing events and
three outbox rows: two nudges sent, one cancelled). The last 100 are open, owned by 100
different people in Europe/London, with their nudge plan from `bot.policy.working_hours.plan_slots`:
two slots sent, `overdue-1` due at Tuesday 2026-12-01 09:00 UTC and the rest pending later.

Each timed run resets those 100 rows to pending, builds a fresh sweeper with
`scheduler.jobs.build_sweeper` (a Web API client from `bot.slack_client.build_web_client`
pointed at `bot.playground.standin.SlackStandIn`) and times `run_sweeps(sweeper, now=10:00)`,
which must send exactly 100 nudges. The two sizes run alternately, round after round, and the
median of the rounds is reported with the ratio 1M/10k. The plans of the claim query, and
per-statement database time of one extra (untimed, instrumented) sweep per size show where
any difference comes from.

    .venv/bin/python -m bench.sweep_cost [--sizes 10000,1000000] [--backends sqlite,postgresql]
                                         [--runs 7] [--json PATH]

Exits 1 if a sweep does not send exactly the 100 due nudges.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, bindparam, create_engine, event, insert, text
from sqlalchemy.engine import make_url

from bench.machine import machine
from bench.slack_stub import SlackStub
from bot.commitments.nudge_planning import NUDGE
from bot.config import Settings
from bot.playground.standin import SlackStandIn
from bot.policy.working_hours import NudgePolicy, plan_slots
from bot.slack_client import build_web_client
from scheduler.jobs import build_sweeper, run_sweeps
from storage import migrate
from storage.db import create_db_engine
from storage.models import (
    Commitment,
    CommitmentEvent,
    OutboxMessage,
    Partnership,
    Person,
    UTCDateTime,
)
from tests.slack_contract import call_problems

POSTGRES_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
BOT_TOKEN = "xoxb-0000000000-bench-token"
TEAM = "T0001"
PEOPLE = 1_000
DUE = 100
RATIO_GOAL = 2.0
TZ = "Europe/London"
# Tuesday 10:00 in London (GMT in December): inside the owners' working hours.
SWEEP_AT = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
OPEN_CREATED = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)  # a Friday
OPEN_DUE = datetime(2026, 11, 30, 17, 0, tzinfo=UTC)  # the Monday before the sweep
HISTORY_START = datetime(2021, 1, 4, 9, 0, tzinfo=UTC)
HISTORY_END = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
# The claim: selecting the due ids (FOR UPDATE SKIP LOCKED on PostgreSQL), then marking them.
CLAIM_SELECT_SQL = re.compile(
    r"^\s*SELECT outbox_message\.id\s+FROM outbox_message\s+WHERE outbox_message\.state = "
    r".*send_after <= .*LIMIT",
    re.S,
)
CLAIM_UPDATE_SQL = re.compile(r"^\s*UPDATE outbox_message SET state=.*RETURNING", re.S)
REQUEUE_SQL = re.compile(r"^\s*UPDATE outbox_message SET state=.*claimed_at <", re.S)


# --- building a database ---------------------------------------------------------------------


@dataclass(frozen=True)
class Dialect:
    """The few SQL spellings that differ between the backends, for the bulk inserts."""

    name: str
    true: str
    false: str

    def ts(self, value: datetime) -> str:
        """A literal for an instant, as SQLAlchemy stores it."""
        if self.name == "sqlite":  # naive UTC text, six fractional digits
            return f"'{value.astimezone(UTC):%Y-%m-%d %H:%M:%S}.000000'"
        return f"timestamptz '{value.astimezone(UTC).isoformat()}'"

    def plus(self, expr: str, seconds: str) -> str:
        """`expr` moved by an integer SQL expression of seconds."""
        if self.name == "sqlite":
            return (
                f"(strftime('%Y-%m-%d %H:%M:%S', {expr}, ({seconds}) || ' seconds') || '.000000')"
            )
        return f"({expr} + ({seconds}) * interval '1 second')"

    def user_id(self, person_id: str) -> str:
        if self.name == "sqlite":
            return f"printf('U%08d', {person_id})"
        return f"('U' || lpad(({person_id})::text, 8, '0'))"

    def series(self, count: int) -> tuple[str, str]:
        """(WITH prefix, FROM clause) yielding `i` from 1 to `count`."""
        if self.name == "sqlite":
            return (
                f"WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq "
                f"WHERE i < {count}) ",
                "seq",
            )
        return "", f"generate_series(1, {count}) AS seq(i)"


DAY = 86_400


def history_sql(d: Dialect, history: int) -> list[str]:
    """Bulk statements for `history` closed commitments with their events and outbox rows."""
    step = int((HISTORY_END - HISTORY_START).total_seconds()) // max(1, history)
    created = d.plus(d.ts(HISTORY_START), f"i * {step}")
    due = d.plus(created, str(7 * DAY))
    closed = d.plus(created, str(6 * DAY))
    owner = f"(1 + i % {PEOPLE})"
    withdrawn = "i % 10 = 0"
    with_prefix, source = d.series(history)
    commitments = (
        f"{with_prefix}INSERT INTO commitment (id, team_id, ref, partnership_id, owner_id, "
        "recipient_id, created_by_id, title, has_time, created_at, status, original_due_at, "
        "due_at, judged_due_at, delivered_at, withdrawn_at, date_changes, confirmed, "
        "renegotiated) "
        f"SELECT i, '{TEAM}', i, 1, {owner}, 1 + (i + 1) % {PEOPLE}, {owner}, "
        f"'History commitment ' || i, {d.false}, {created}, "
        f"CASE WHEN {withdrawn} THEN 'withdrawn' ELSE 'delivered' END, {due}, {due}, {due}, "
        f"CASE WHEN {withdrawn} THEN NULL ELSE {closed} END, "
        f"CASE WHEN {withdrawn} THEN {closed} ELSE NULL END, 0, "
        f"CASE WHEN {withdrawn} THEN {d.false} ELSE {d.true} END, {d.false} FROM {source}"
    )
    events = [
        "INSERT INTO commitment_event (commitment_id, kind, at, actor_id, due_at, proposed) "
        f"SELECT id, 'created', created_at, owner_id, due_at, {d.false} FROM commitment "
        f"WHERE id <= {history} ORDER BY id",
        "INSERT INTO commitment_event (commitment_id, kind, at, actor_id, due_at, proposed) "
        f"SELECT id, status, COALESCE(delivered_at, withdrawn_at), owner_id, NULL, {d.false} "
        f"FROM commitment WHERE id <= {history} ORDER BY id",
    ]
    # Three nudge slots per commitment: the day before and the due day sent, overdue-1 cancelled.
    slots = (
        ("before", f"-{DAY}", "sent", "NULL"),
        ("due", "0", "sent", "NULL"),
        ("overdue-1", str(DAY), "cancelled", "'no longer needed'"),
    )
    outbox = []
    for suffix, offset, state, last_error in slots:
        at = d.plus("due_at", offset)
        sent = state == "sent"
        attempts, claimed_at, claimed_by = (1, at, "'bench:1'") if sent else (0, "NULL", "NULL")
        outbox.append(
            "INSERT INTO outbox_message (slot_key, kind, commitment_id, channel, due_at, "
            "send_after, state, attempts, last_error, claimed_at, claimed_by, sent_at, "
            "created_at) "
            f"SELECT 'nudge:' || id || ':e1:{suffix}', '{NUDGE}', id, {d.user_id('owner_id')}, "
            f"{at}, {at}, '{state}', {attempts}, {last_error}, "
            f"{claimed_at}, {claimed_by}, {claimed_at}, created_at FROM commitment "
            f"WHERE id <= {history} "
            "ORDER BY id"
        )
    return [commitments, *events, *outbox]


def open_rows(first_id: int, due: int) -> tuple[list[dict], list[dict], list[dict]]:
    """`due` open commitments (ids from `first_id`, owners 1..`due`), events, outbox rows."""
    commitments, events, outbox = [], [], []
    slots = plan_slots(created_at=OPEN_CREATED, due_at=OPEN_DUE, tz=TZ, policy=NudgePolicy())
    for n in range(due):
        cid, owner = first_id + n, n + 1
        commitments.append(
            {
                "id": cid,
                "team_id": TEAM,
                "ref": cid,
                "partnership_id": 1,
                "owner_id": owner,
                "recipient_id": 1 + (owner % PEOPLE),
                "created_by_id": owner,
                "title": f"Send the signed data-sharing agreement, part {n + 1}",
                "has_time": True,
                "created_at": OPEN_CREATED,
                "status": "open",
                "original_due_at": OPEN_DUE,
                "due_at": OPEN_DUE,
                "judged_due_at": OPEN_DUE,
                "date_changes": 0,
                "confirmed": False,
                "renegotiated": False,
            }
        )
        events.append(
            {
                "commitment_id": cid,
                "kind": "created",
                "at": OPEN_CREATED,
                "actor_id": owner,
                "due_at": OPEN_DUE,
                "proposed": False,
            }
        )
        for slot in slots:
            past = slot.at < SWEEP_AT - timedelta(hours=2)  # sent before; overdue-1 is due now
            outbox.append(
                {
                    "slot_key": f"{NUDGE}:{cid}:e1:{slot.key_suffix}",
                    "kind": NUDGE,
                    "commitment_id": cid,
                    "channel": f"U{owner:08d}",
                    "due_at": slot.at,
                    "send_after": slot.at,
                    "state": "sent" if past else "pending",
                    "attempts": 1 if past else 0,
                    "claimed_at": slot.at if past else None,
                    "claimed_by": "bench:1" if past else None,
                    "sent_at": slot.at if past else None,
                    "created_at": OPEN_CREATED,
                }
            )
    return commitments, events, outbox


def build(engine: Engine, size: int, due: int = DUE) -> float:
    """Migrate and fill an empty database with `size` commitments, of which `due` (at most
    `PEOPLE`) are open with a nudge due at `SWEEP_AT`; return the seconds taken."""
    if not 0 < due <= min(size, PEOPLE):
        raise ValueError(f"due must be between 1 and {PEOPLE} and at most size")
    started = time.perf_counter()
    migrate.upgrade(engine)
    dialect_name = engine.dialect.name
    d = (
        Dialect(dialect_name, "1", "0")
        if dialect_name == "sqlite"
        else Dialect(dialect_name, "true", "false")
    )
    history = size - due
    people = [
        {
            "id": n,
            "team_id": TEAM,
            "user_id": f"U{n:08d}",
            "name": f"Person {n}",
            "tz": TZ,
            "locale": "en-GB",
            "profile_fetched_at": OPEN_CREATED,
        }
        for n in range(1, PEOPLE + 1)
    ]
    commitments, events, outbox = open_rows(history + 1, due)
    with _bulk_connection(engine) as run:
        run(insert(Person.__table__), people)
        run(
            insert(Partnership.__table__),
            [
                {
                    "id": 1,
                    "team_id": TEAM,
                    "channel_id": "C00000001",
                    "name": "Council and Trust",
                    "tz": TZ,
                    "created_at": HISTORY_START,
                }
            ],
        )
        run(
            text("INSERT INTO ref_counter (team_id, last_ref) VALUES (:t, :n)"),
            {"t": TEAM, "n": size},
        )
        for statement in history_sql(d, history) if history else []:
            run(text(statement))
        run(insert(Commitment.__table__), commitments)
        run(insert(CommitmentEvent.__table__), events)
        run(insert(OutboxMessage.__table__), outbox)
        if dialect_name == "postgresql":
            for table in ("person", "partnership", "commitment"):
                run(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT max(id) FROM {table}))"
                    )
                )
    if dialect_name == "postgresql":  # what autovacuum does after a bulk load
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("VACUUM ANALYZE")
    return time.perf_counter() - started


@contextmanager
def _bulk_connection(engine: Engine) -> Iterator:
    """One transaction to load in; on SQLite without fsync and with a large page cache."""
    if engine.dialect.name == "sqlite":
        bulk = create_engine(engine.url)  # plain connection: no BEGIN IMMEDIATE, no FK checks
        with bulk.begin() as connection:
            connection.exec_driver_sql("PRAGMA cache_size=-1000000")
            connection.exec_driver_sql("PRAGMA synchronous=OFF")
            yield connection.execute
        bulk.dispose()
    else:
        with engine.begin() as connection:
            connection.exec_driver_sql("SET LOCAL synchronous_commit=off")
            connection.exec_driver_sql("SET LOCAL maintenance_work_mem='512MB'")
            yield connection.execute


def counts(engine: Engine) -> dict[str, int]:
    """Rows per table and the outbox by state, as a check of what was built."""
    with engine.connect() as connection:
        result = {
            table: connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
            for table in ("person", "commitment", "commitment_event", "outbox_message")
        }
        for state, n in connection.execute(
            text("SELECT state, count(*) FROM outbox_message GROUP BY state ORDER BY state")
        ):
            result[f"outbox {state}"] = n
    return result


# --- databases per backend -------------------------------------------------------------------


class Database:
    """A scratch database of one size on one backend; `drop()` removes it."""

    def __init__(self, backend: str, size: int, workdir: Path) -> None:
        self.backend, self.size = backend, size
        if backend == "sqlite":
            self.url = f"sqlite:///{workdir / f'sweep-{size}.db'}"
        else:
            self.name = f"saydo_bench_sweep_{size}_{uuid.uuid4().hex[:8]}"
            admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
            with admin.connect() as connection:
                connection.exec_driver_sql(f'CREATE DATABASE "{self.name}"')
            admin.dispose()
            self.url = (
                make_url(POSTGRES_ADMIN_URL)
                .set(database=self.name)
                .render_as_string(hide_password=False)
            )
        self.engine = create_db_engine(self.url)
        self.due_ids: list[int] = []

    def drop(self) -> None:
        self.engine.dispose()
        if self.backend == "postgresql":
            admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
            with admin.connect() as connection:
                connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
            admin.dispose()

    def find_due(self, expected: int = DUE) -> None:
        """Remember the ids of the rows due at the sweep instant (checked to be `expected`)."""
        with self.engine.connect() as connection:
            self.due_ids = list(
                connection.execute(
                    text(
                        "SELECT id FROM outbox_message WHERE state = 'pending' "
                        "AND send_after <= :now ORDER BY id"
                    ).bindparams(bindparam("now", type_=UTCDateTime())),
                    {"now": SWEEP_AT},
                ).scalars()
            )
        if len(self.due_ids) != expected:
            raise RuntimeError(f"{self.size}: {len(self.due_ids)} rows due, expected {expected}")

    def reset(self) -> None:
        """Make the 100 due rows pending again, as they were before the sweep."""
        with self.engine.begin() as connection:
            connection.execute(
                text(
                    "UPDATE outbox_message SET state = 'pending', send_after = due_at, "
                    "attempts = 0, last_error = NULL, claimed_at = NULL, claimed_by = NULL, "
                    f"sent_at = NULL WHERE id IN ({', '.join(map(str, self.due_ids))})"
                )
            )


# --- timing ----------------------------------------------------------------------------------


@dataclass
class StatementLog:
    """Database time per statement shape, recorded with SQLAlchemy cursor events."""

    totals: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    samples: dict[str, tuple[str, object]] = field(default_factory=dict)

    @staticmethod
    def shape(statement: str) -> str:
        flat = " ".join(statement.split())
        flat = re.sub(r"\(\s*SELECT outbox_message\.id .*?\)", "(SELECT id ...)", flat)
        return flat[:90]

    @contextmanager
    def recording(self, engine: Engine) -> Iterator[None]:
        def before(conn, cursor, statement, parameters, context, executemany) -> None:
            conn.info.setdefault("bench_started", []).append(time.perf_counter())

        def after(conn, cursor, statement, parameters, context, executemany) -> None:
            elapsed = time.perf_counter() - conn.info["bench_started"].pop()
            key = self.shape(statement)
            self.totals[key].append(elapsed)
            self.samples.setdefault(key, (statement, parameters))

        event.listen(engine, "before_cursor_execute", before)
        event.listen(engine, "after_cursor_execute", after)
        try:
            yield
        finally:
            event.remove(engine, "before_cursor_execute", before)
            event.remove(engine, "after_cursor_execute", after)

    def statement(self, pattern: re.Pattern) -> tuple[str, object] | None:
        """The first statement run that matches `pattern`, with its parameters."""
        return next((s for s in self.samples.values() if pattern.search(s[0])), None)


class Slack:
    """Where the sweeps post: the minimal `bench.slack_stub.SlackStub` (default) or, with
    `--standin`, `bot.playground.standin.SlackStandIn` with the tests' contract checker, which
    checks every message against Slack's contract (at several milliseconds per call, the same
    for every size)."""

    def __init__(self, standin: bool) -> None:
        self.standin = standin
        self.server = (
            SlackStandIn(contract=call_problems) if standin else SlackStub(post_message=True)
        )

    def __enter__(self) -> Slack:
        self.server.__enter__()
        if self.standin:
            for n in range(1, DUE + 1):
                self.server.add_user(f"U{n:08d}", name=f"person{n}", tz=TZ)
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.server.__exit__(*exc_info)

    def clear(self) -> None:
        if self.standin:
            self.server.clear()
        else:
            self.server.channels.clear()

    def delivered(self) -> Counter[str]:
        """Successful posts per channel since `clear()`."""
        if self.standin:
            return Counter(
                c.args["channel"] for c in self.server.calls_to("chat.postMessage") if c.succeeded
            )
        return Counter(self.server.channels)

    def violations(self) -> list[str]:
        return self.server.violations if self.standin else []


def sweep_once(db: Database, slack: Slack, client) -> float:
    """Reset the due rows, sweep once as of `SWEEP_AT` and check that all 100 were sent."""
    db.reset()
    slack.clear()
    sweeper = build_sweeper(db.engine, client)  # fresh: no per-channel pacing memory
    started = time.perf_counter()
    reports = run_sweeps(sweeper, now=SWEEP_AT)
    elapsed = time.perf_counter() - started
    sent = sum(report.result == "sent" for report in reports)
    delivered = slack.delivered()
    if sent != DUE or len(delivered) != DUE or set(delivered.values()) != {1}:
        results = sorted({f"{r.result}: {r.detail}" for r in reports})[:5]
        raise RuntimeError(
            f"{db.backend} {db.size}: {sent} sent, {delivered.total()} delivered to "
            f"{len(delivered)} channels; {results}"
        )
    return elapsed


def explain(db: Database, log: StatementLog) -> dict[str, str]:
    """Plans of the claim and stale-claim statements as the sweep ran them."""
    plans = {}
    for name, pattern in (
        ("claim: select due ids", CLAIM_SELECT_SQL),
        ("claim: update", CLAIM_UPDATE_SQL),
        ("requeue_stale", REQUEUE_SQL),
    ):
        sample = log.statement(pattern)
        if sample is None:
            continue
        statement, parameters = sample
        db.reset()
        with db.engine.connect() as connection:
            transaction = connection.begin()
            if db.backend == "sqlite":
                rows = connection.exec_driver_sql(
                    "EXPLAIN QUERY PLAN " + statement, parameters
                ).all()
                plan = "\n".join(f"{'  ' * _depth(rows, r)}{r[3]}" for r in rows)
            else:  # ANALYZE runs it: rolled back below
                rows = connection.exec_driver_sql(
                    "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF, TIMING OFF, SUMMARY OFF) " + statement,
                    parameters,
                ).all()
                plan = "\n".join(r[0] for r in rows)
            transaction.rollback()
        plans[name] = plan
    return plans


def _depth(rows, row) -> int:
    parents = {r[0]: r[1] for r in rows}
    depth, parent = 0, row[1]
    while parent in parents:
        depth, parent = depth + 1, parents[parent]
    return depth


def run_backend(backend: str, sizes: list[int], runs: int, workdir: Path, slack, client) -> dict:
    databases = [Database(backend, size, workdir) for size in sizes]
    try:
        built = {}
        for db in databases:
            print(f"  {backend}: building {db.size:,} commitments ...", file=sys.stderr, flush=True)
            seconds = build(db.engine, db.size)
            db.find_due()
            built[db.size] = {"build_seconds": round(seconds, 1), "rows": counts(db.engine)}
            print(f"    built in {seconds:.1f} s: {built[db.size]['rows']}", file=sys.stderr)
        logs = {}
        for db in databases:  # warm-up, instrumented: statement shapes and times, untimed
            logs[db.size] = StatementLog()
            with logs[db.size].recording(db.engine):
                sweep_once(db, slack, client)
        times: dict[int, list[float]] = {db.size: [] for db in databases}
        for round_no in range(runs):
            order = databases if round_no % 2 == 0 else databases[::-1]
            for db in order:
                times[db.size].append(sweep_once(db, slack, client))
        plans = {db.size: explain(db, logs[db.size]) for db in databases}
    finally:
        for db in databases:
            db.drop()
    medians = {size: statistics.median(values) for size, values in times.items()}
    small, large = min(sizes), max(sizes)
    return {
        "backend": backend,
        "built": built,
        "times_ms": {size: [round(t * 1000, 2) for t in values] for size, values in times.items()},
        "median_ms": {size: round(m * 1000, 2) for size, m in medians.items()},
        "ratio": medians[large] / medians[small],
        "plans": plans,
        "statements": {
            size: {
                key: {"count": len(v), "total_ms": round(sum(v) * 1000, 2)}
                for key, v in sorted(log.totals.items(), key=lambda kv: -sum(kv[1]))
            }
            for size, log in logs.items()
        },
    }


def format_report(report: dict) -> str:
    lines = []
    for result in report["results"]:
        sizes = sorted(result["median_ms"], key=int)
        small, large = sizes[0], sizes[-1]
        verdict = "met" if result["ratio"] <= RATIO_GOAL else "NOT met"
        lines.append(f"== {result['backend']} ==")
        for size in sizes:
            built = result["built"][size]
            lines.append(
                f"  {int(size):>9,} commitments: median {result['median_ms'][size]:8.1f} ms "
                f"(runs {result['times_ms'][size]}); built in {built['build_seconds']} s, "
                f"{built['rows']}"
            )
        lines.append(
            f"  ratio {int(large):,}/{int(small):,}: {result['ratio']:.2f} "
            f"(goal <= {RATIO_GOAL}: {verdict})"
        )
        for size in sizes:
            lines.append(f"  statements of one sweep at {int(size):,} (count, total ms):")
            for key, s in list(result["statements"][size].items())[:8]:
                lines.append(f"    {s['count']:>4} {s['total_ms']:8.2f}  {key}")
        for size in sizes:
            for name, plan in result["plans"][size].items():
                lines.append(f"  plan of {name} at {int(size):,}:")
                lines.extend("    " + line for line in plan.splitlines())
    return "\n".join(lines)


def _load(averages) -> str:
    """Load averages, to show whether anything else was using the CPUs during the run."""
    return "/".join(f"{x:.1f}" for x in averages)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.sweep_cost",
        description="Time one outbox sweep (100 nudges due) among 10k and 1M commitments.",
    )
    parser.add_argument("--sizes", default="10000,1000000", help="commitments per database")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--runs", type=int, default=7, help="timed sweeps per size (median)")
    parser.add_argument(
        "--standin",
        action="store_true",
        help="post to bot.playground.standin.SlackStandIn (contract-checked) instead of the stub",
    )
    parser.add_argument("--json", type=Path, metavar="PATH", help="save raw figures as JSON")
    args = parser.parse_args(argv)
    sizes = sorted(int(s) for s in args.sizes.split(",") if s.strip())
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    if len(sizes) < 2 or min(sizes) <= DUE or args.runs < 1:
        parser.error(f"give at least two sizes above {DUE} and --runs >= 1")
    if set(backends) - {"sqlite", "postgresql"}:
        parser.error("backends are sqlite and postgresql")

    report: dict = {
        "machine": machine(),
        "load_average_before": os.getloadavg(),
        "settings": vars(args) | {"json": None},
        "results": [],
    }
    with (
        tempfile.TemporaryDirectory(prefix="saydo-sweep-") as tmp,
        Slack(args.standin) as slack,
    ):
        client = build_web_client(Settings(bot_token=BOT_TOKEN, slack_api_url=slack.server.url))
        for backend in backends:
            report["results"].append(
                run_backend(backend, sizes, args.runs, Path(tmp), slack, client)
            )
        report["violations"] = slack.violations()[:5]
    report["load_average_after"] = os.getloadavg()
    m = report["machine"]
    print(
        f"{m['cpus']} CPUs ({m['cpu_model']}), {m['memory_gib']} GiB, Python {m['python']}, "
        f"{m['date']}; load average (1, 5, 15 min) before {_load(report['load_average_before'])}, "
        f"after {_load(report['load_average_after'])}; {DUE} nudges due at "
        f"{SWEEP_AT:%Y-%m-%d %H:%M}Z, {args.runs} runs per size, posting to "
        f"{'SlackStandIn' if args.standin else 'SlackStub'}"
    )
    print(format_report(report))
    if report["violations"]:
        print(f"Slack contract violations: {report['violations']}")
    if args.json:
        args.json.write_text(json.dumps(report, indent=1, default=str))
        print(f"Raw figures written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
