"""Fan-out under a rate limit and Slack's latency: 1,000 nudges due at once to 1,000 owners.

A database is built as in `bench.sweep_cost` (1,000 closed commitments of history and 1,000
open ones, one owner each, all with their `overdue-1` nudge due at Tuesday 2026-12-01 09:00
UTC). Saydo's own sweeper (`scheduler.jobs.build_sweeper`, the Web API client from
`bot.slack_client.build_web_client` with its retry handlers) sends them to
`bot.playground.standin.SlackStandIn`, run in its own process, which allows `chat.postMessage`
100 calls per fixed 2-second window and answers the rest 429 with `Retry-After` (whole
seconds to the window's reset, at least 1), like Slack, and answers every call a fixed latency
after it arrived (0, 150 and 300 ms by default; Slack's own is often 100-300 ms). The sweeper
sends with `--concurrency` threads (default: `OUTBOX_CONCURRENCY`'s default).

Sweeps run as the scheduler runs them: one at start, then on the next 15-second tick
(`OUTBOX_SWEEP_SECONDS`; APScheduler with `max_instances=1` skips ticks while a sweep is
still running) until nothing is pending. Each sweep's `now` is the simulated clock, 10:00 UTC
plus the time elapsed, so put-back messages come due as they would in production.

Reported, for each latency: deliveries per channel (all 1,000 exactly once?), 429 answers,
sweeps, the total time against the least the limit allows, and where the time above it went.
For reference the same 1,000 are also sent without any limit (the sender's own speed).

    .venv/bin/python -m bench.fanout [--backends sqlite,postgresql] [--messages 1000]
                                     [--calls 100] [--window 2] [--latency 0,150,300]
                                     [--concurrency 8] [--json PATH]

Exits 1 if a message is missing or delivered twice.
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing
import os
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from sqlalchemy import text

from bench.ack_latency import machine
from bench.sweep_cost import BOT_TOKEN, PEOPLE, SWEEP_AT, Database, StatementLog, build
from bot.config import DEFAULT_OUTBOX_CONCURRENCY, MAX_OUTBOX_CONCURRENCY, Settings
from bot.outbox.sending import Sweeper
from bot.playground.standin import SlackStandIn
from bot.slack_client import build_web_client
from scheduler.jobs import OUTBOX_SWEEP_SECONDS, build_sweeper, run_sweeps

METHOD = "chat.postMessage"
RATIO_GOAL = 1.25
GOAL_LATENCY_MS = 150  # the goal is checked at this latency
HISTORY = 1_000
GIVE_UP_SECONDS = 600


def least_seconds(messages: int, calls: int, window: float) -> float:
    """The least time from the first to the last post the limit allows.

    Windows are consecutive from the first call, so post number `n` (from 0) can be made no
    earlier than `(n // calls) * window` after the first: the last one at
    `(ceil(messages / calls) - 1) * window`. A sender also needs some time to make the calls
    of the last window; that is its own speed, not the limit's, so it is not included.
    """
    return (math.ceil(messages / calls) - 1) * window


@dataclass(frozen=True)
class Call:
    """One Web API call as the stand-in recorded it."""

    method: str
    channel: str | None
    at: float  # time.time() when it arrived
    answered: str  # "ok", "429", "error:<code>" ...

    @property
    def succeeded(self) -> bool:
        return self.answered == "ok"


class RemoteStandIn:
    """`SlackStandIn` served from its own process, so its request parsing and contract checks
    do not take the sender's CPU and GIL (Slack's servers do not run on Saydo's machine).
    Controlled over a pipe: `url`, `rate_limit_window`, `delay`, `clear`, `calls`,
    `violations`."""

    def __init__(self) -> None:
        context = multiprocessing.get_context("spawn")
        self._connection, child = context.Pipe()
        self._process = context.Process(target=_serve_standin, args=(child,), daemon=True)
        self.url = ""

    def __enter__(self) -> RemoteStandIn:
        self._process.start()
        self.url = self._call("url")
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._call("stop")
        self._process.join(timeout=10)

    def _call(self, name: str, *args):
        self._connection.send((name, args))
        ok, value = self._connection.recv()
        if not ok:
            raise RuntimeError(f"stand-in {name}: {value}")
        return value

    def rate_limit_window(self, method: str, calls: int, seconds: float) -> None:
        self._call("rate_limit_window", method, calls, seconds)

    def delay(self, seconds: float) -> None:
        self._call("delay", seconds)

    def clear(self) -> None:
        self._call("clear")

    def calls(self, method: str) -> list[Call]:
        return [Call(*fields) for fields in self._call("calls", method)]

    def violations(self) -> list[str]:
        return self._call("violations")


def _serve_standin(connection) -> None:
    """The stand-in process: answer commands from `RemoteStandIn` until told to stop. Its
    contract checks are off: the tests check payloads; here only the rate limit matters."""
    with SlackStandIn() as slack:
        while True:
            name, args = connection.recv()
            try:
                if name == "stop":
                    connection.send((True, None))
                    return
                if name == "url":
                    value = slack.url
                elif name == "calls":
                    value = [
                        (c.method, c.args.get("channel"), c.at, c.answered)
                        for c in slack.calls_to(*args)
                    ]
                elif name == "violations":
                    value = slack.violations
                else:
                    value = getattr(slack, name)(*args)
                connection.send((True, value))
            except Exception as error:  # noqa: BLE001  (reported to the parent)
                connection.send((False, repr(error)))


def due_states(db: Database) -> Counter[str]:
    """States of the fanned-out rows."""
    ids = ", ".join(map(str, db.due_ids))
    with db.engine.connect() as connection:
        rows = connection.execute(
            text(f"SELECT state, count(*) FROM outbox_message WHERE id IN ({ids}) GROUP BY state")
        ).all()
    return Counter(dict(rows))


def still_pending(db: Database) -> int:
    ids = ", ".join(map(str, db.due_ids))
    with db.engine.connect() as connection:
        return connection.execute(
            text(
                f"SELECT count(*) FROM outbox_message WHERE id IN ({ids}) "
                "AND state IN ('pending', 'claimed')"
            )
        ).scalar_one()


def fan_out(
    db: Database, slack: RemoteStandIn, make_sweeper: Callable[[], Sweeper], *, cadence: float
) -> dict:
    """Sweep as the scheduler would until none of the due rows is pending; time it."""
    db.reset()
    slack.clear()
    sweeper = make_sweeper()
    log = StatementLog()
    recording = log.recording(db.engine)
    recording.__enter__()
    started = time.monotonic()
    wall_started = time.time()
    sweeps: list[dict] = []
    results: Counter[str] = Counter()
    while True:
        sweep_start = time.monotonic() - started
        reports = run_sweeps(sweeper, now=SWEEP_AT + timedelta(seconds=sweep_start))
        sweep_end = time.monotonic() - started
        outcome = Counter(report.result for report in reports)
        results.update(outcome)
        sweeps.append(
            {"start_s": round(sweep_start, 3), "end_s": round(sweep_end, 3), "results": outcome}
        )
        if not still_pending(db) or sweep_end > GIVE_UP_SECONDS:
            break
        next_tick = math.floor(sweep_end / cadence + 1) * cadence  # ticks missed while running
        time.sleep(max(0.0, started + next_tick - time.monotonic()))
    total = time.monotonic() - started
    recording.__exit__(None, None, None)
    calls = [c for c in slack.calls(METHOD) if c.at >= wall_started]
    delivered = Counter(c.channel for c in calls if c.succeeded)
    return {
        "total_s": total,
        "sweeps": sweeps,
        "results": results,
        "calls": calls,
        "delivered": delivered,
        "states": due_states(db),
        "db_s": sum(sum(times) for times in log.totals.values()),
        "db_top": {
            key: {"count": len(times), "total_ms": round(sum(times) * 1000, 1)}
            for key, times in sorted(log.totals.items(), key=lambda kv: -sum(kv[1]))[:4]
        },
    }


def where_time_went(calls, calls_per_window: int, window: float) -> dict:
    """Split the throttled run's waiting into Retry-After rounding and the client's extra.

    For each 429: `remaining` is the time left in the window when it was answered, the
    `Retry-After` was that rounded up to whole seconds, and the gap to the next call to the
    same channel (the retry, whichever thread makes it) is what the client actually waited.
    Also the idle time at the start of every window (from the window's start to its first
    call) and the time the last window's calls took.
    """
    if not calls:
        return {}
    t0 = calls[0].at
    rounding = extra = 0.0
    limited = 0
    for n, call in enumerate(calls):
        following = next((c for c in calls[n + 1 :] if c.channel == call.channel), None)
        if call.answered != "429" or following is None:
            continue
        limited += 1
        window_end = t0 + (math.floor((call.at - t0) / window) + 1) * window
        remaining = window_end - call.at
        retry_after = max(1, math.ceil(remaining - 1e-9))
        rounding += retry_after - remaining
        extra += (following.at - call.at) - retry_after
    ok = [c for c in calls if c.succeeded]
    first_in_window: dict[int, float] = {}
    for call in ok:
        first_in_window.setdefault(math.floor((call.at - t0) / window), call.at)
    idle = sum(at - (t0 + k * window) for k, at in first_in_window.items())
    last_window = max(first_in_window)
    per_window = Counter(math.floor((c.at - t0) / window) for c in ok)
    return {
        "posts_per_window": [per_window.get(k, 0) for k in range(last_window + 1)],
        "limited_calls": limited,
        "rounding_s": rounding,
        "client_extra_s": extra,
        "window_start_idle_s": idle,
        "windows_used": len(first_in_window),
        "first_to_last_post_s": ok[-1].at - t0,
        "last_window_calls_s": ok[-1].at - first_in_window[last_window],
    }


def run_backend(backend: str, args, workdir: Path) -> dict:
    db = Database(backend, HISTORY + args.messages, workdir)
    try:
        print(f"  {backend}: building ...", file=sys.stderr, flush=True)
        build(db.engine, HISTORY + args.messages, due=args.messages)
        db.find_due(args.messages)
        with RemoteStandIn() as slack:
            settings = Settings(bot_token=BOT_TOKEN, slack_api_url=slack.url)
            saydo = build_web_client(settings)

            def make_sweeper() -> Sweeper:
                return build_sweeper(db.engine, saydo, concurrency=args.concurrency)

            runs: dict[tuple[int, str], dict] = {}
            for name in ("unlimited", "limited"):  # the stand-in has no way to lift a limit
                for latency in args.latency:
                    slack.delay(latency / 1000)
                    if name == "limited":
                        slack.rate_limit_window(METHOD, args.calls, args.window)  # fresh windows
                    print(f"  {backend}: {name}, {latency} ms ...", file=sys.stderr, flush=True)
                    runs[latency, name] = fan_out(
                        db, slack, make_sweeper, cadence=OUTBOX_SWEEP_SECONDS
                    )
            violations = slack.violations()[:5]
    finally:
        db.drop()
    expected = {f"U{n:08d}" for n in range(1, args.messages + 1)}
    least = least_seconds(args.messages, args.calls, args.window)
    by_latency: dict[int, dict] = {latency: {} for latency in args.latency}
    for (latency, name), run in runs.items():
        delivered = run["delivered"]
        summary = {
            "total_s": round(run["total_s"], 3),
            "sweeps": run["sweeps"],
            "report_results": dict(run["results"]),
            "row_states": dict(run["states"]),
            "posts_ok": delivered.total(),
            "db_s": round(run["db_s"], 3),
            "db_top": run["db_top"],
            "answered_429": sum(c.answered == "429" for c in run["calls"]),
            "channels": len(delivered),
            "missing": len(expected - set(delivered)),
            "duplicates": sum(n - 1 for n in delivered.values() if n > 1),
        }
        if name == "limited":
            summary["ratio"] = run["total_s"] / least
            summary["breakdown"] = {
                k: round(v, 3) if isinstance(v, float) else v
                for k, v in where_time_went(run["calls"], args.calls, args.window).items()
            }
        by_latency[latency][name] = summary
    return {"backend": backend, "least_s": least, "violations": violations, "runs": by_latency}


def _limited_lines(label: str, run: dict, goal_checked: bool) -> list[str]:
    b = run["breakdown"]
    ok = run["missing"] == 0 and run["duplicates"] == 0
    verdict = "met" if ok and run["ratio"] <= RATIO_GOAL else "NOT met"
    sweeps = [(w["start_s"], w["end_s"], dict(w["results"])) for w in run["sweeps"]]
    return [
        f"  {label}: {run['total_s']:.2f} s, {run['posts_ok']} posts to {run['channels']} "
        f"channels, {run['missing']} missing, {run['duplicates']} duplicates, "
        f"{run['answered_429']} answered 429; sweeps (start s, end s, results): {sweeps}; "
        f"database time {run['db_s']:.2f} s",
        f"    row states: {run['row_states']}",
        f"    ratio total/least: {run['ratio']:.2f}"
        + (f" (goal <= {RATIO_GOAL}: {verdict})" if goal_checked else ""),
        f"    first to last post {b['first_to_last_post_s']:.2f} s over {b['windows_used']} "
        f"windows; idle at window starts {b['window_start_idle_s']:.2f} s = Retry-After "
        f"rounding up {b['rounding_s']:.2f} s + client's wait beyond Retry-After "
        f"{b['client_extra_s']:.2f} s (over {b['limited_calls']} 429s); last window's calls "
        f"{b['last_window_calls_s']:.2f} s",
        f"    posts per window: {b['posts_per_window']}",
    ]


def format_report(report: dict) -> str:
    s = report["settings"]
    lines = [
        f"{s['messages']} nudges to {s['messages']} owners, {s['concurrency']} sending threads; "
        f"{METHOD} limited to {s['calls']} calls per {s['window']} s window; least time the "
        f"limit allows: (ceil({s['messages']}/{s['calls']}) - 1) x {s['window']} s = "
        f"{report['least_s']:.1f} s"
    ]
    for r in report["results"]:
        lines.append(f"== {r['backend']} ==")
        for latency, runs in r["runs"].items():
            u = runs["unlimited"]
            lines += [
                f"  -- Slack answering after {latency} ms --",
                f"  without a limit: {u['total_s']:.2f} s, {u['posts_ok']} posts, "
                f"{u['missing']} missing, {u['duplicates']} duplicates, "
                f"{len(u['sweeps'])} sweep(s), database time {u['db_s']:.2f} s",
                *_limited_lines(
                    "with the limit (Saydo)",
                    runs["limited"],
                    goal_checked=latency == GOAL_LATENCY_MS,
                ),
            ]
        if r["violations"]:
            lines.append(f"  Slack contract violations: {r['violations']}")
    return "\n".join(lines)


def _load(averages) -> str:
    """Load averages, to show whether anything else was using the CPUs during the run."""
    return "/".join(f"{x:.1f}" for x in averages)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.fanout",
        description="1,000 nudges due at once, sent under a windowed Slack rate limit.",
    )
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--messages", type=int, default=1000, help=f"at most {PEOPLE}")
    parser.add_argument("--calls", type=int, default=100, help="calls allowed per window")
    parser.add_argument("--window", type=float, default=2.0, help="window length, seconds")
    parser.add_argument(
        "--latency", default="0,150,300", help="Slack's answer delays to try, milliseconds"
    )
    parser.add_argument(
        "--concurrency",
        type=int,
        default=DEFAULT_OUTBOX_CONCURRENCY,
        help="sending threads (OUTBOX_CONCURRENCY)",
    )
    parser.add_argument("--json", type=Path, metavar="PATH", help="save raw figures as JSON")
    args = parser.parse_args(argv)
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    if not 0 < args.messages <= PEOPLE or args.calls < 1 or args.window <= 0:
        parser.error(f"--messages 1..{PEOPLE}, --calls >= 1, --window > 0")
    if args.messages <= args.calls:
        parser.error("--messages must exceed --calls, or the limit is never reached")
    try:
        args.latency = [int(ms) for ms in args.latency.split(",")]
    except ValueError:
        parser.error("--latency takes whole milliseconds separated by commas, e.g. 0,150,300")
    if any(ms < 0 for ms in args.latency) or not 1 <= args.concurrency <= MAX_OUTBOX_CONCURRENCY:
        parser.error(f"--latency >= 0, --concurrency 1..{MAX_OUTBOX_CONCURRENCY}")

    report: dict = {
        "machine": machine(),
        "load_average_before": os.getloadavg(),
        "settings": {
            "messages": args.messages,
            "calls": args.calls,
            "window": args.window,
            "latency_ms": args.latency,
            "concurrency": args.concurrency,
        },
        "least_s": least_seconds(args.messages, args.calls, args.window),
        "results": [],
    }
    with tempfile.TemporaryDirectory(prefix="saydo-fanout-") as tmp:
        for backend in backends:
            report["results"].append(run_backend(backend, args, Path(tmp)))
    report["load_average_after"] = os.getloadavg()
    m = report["machine"]
    print(
        f"{m['cpus']} CPUs ({m['cpu_model']}), {m['memory_gib']} GiB, Python {m['python']}, "
        f"{m['date']}; load average (1, 5, 15 min) before {_load(report['load_average_before'])}, "
        f"after {_load(report['load_average_after'])}"
    )
    print(format_report(report))
    if args.json:
        args.json.write_text(json.dumps(report, indent=1, default=str))
        print(f"Raw figures written to {args.json}")
    bad = any(
        run["missing"] or run["duplicates"]
        for r in report["results"]
        for runs in r["runs"].values()
        for run in runs.values()
    )
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
