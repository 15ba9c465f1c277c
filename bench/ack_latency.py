"""Acknowledgement latency: Saydo against a bare Bolt app, and Saydo with a slow Slack.

Part 1 (`--part ratio`), slash-command acknowledgement against a bare Bolt app:

Starts `saydo run --no-scheduler` (HTTP mode, SQLite in a temporary directory) and
`bench.bare_bolt` as subprocesses, both talking to a local Slack Web API stub, then drives
them with the same signed-request load generator (`bench.loadgen`, in its own process). For
each concurrency the two targets are run alternately, round after round (the order flips
every round), and the latencies of all rounds are pooled per target.

    .venv/bin/python -m bench.ack_latency [--requests 2000] [--concurrency 1,10,50]
                                          [--rounds 4] [--json PATH]

Prints p50, p99, mean throughput and the Saydo/bare ratios; exits 1 if any request failed.

Part 2 (`--part slow`), Saydo alone against the Slack stand-in (`bot.playground.standin`)
answering every Web API call and `response_url` after `--delays` seconds: `/commit`, `/commit`
with no text (opens the form), `/done` and an `app_mention`, at each concurrency. Reports the
acknowledgement's p50/p99/max and the time from sending until the reply reached Slack (the
`response_url` POST, the `views.open`, the thread reply), and exits 1 if a request failed, a
reply never came, or an acknowledgement took 3 s or more.

    .venv/bin/python -m bench.ack_latency --part slow [--delays 0,0.5,1.5]
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import multiprocessing
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import requests
from slack_sdk.signature import SignatureVerifier
from sqlalchemy import Engine, text

from bench.loadgen import CHANNEL, LoadResult, Scenario, run_load, send, signed_request
from bench.machine import machine, read_text
from bench.slack_stub import SlackStub
from bench.sweep_cost import Database
from bot.playground.standin import BOT_USER, SlackStandIn

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SIGNING_SECRET = "8f742231b10e8888abcd9912ab85a5f0"
BOT_TOKEN = "xoxb-0000000000-bench-token"
HOST = "127.0.0.1"
START_TIMEOUT_SECONDS = 60
WARMUP_REQUESTS = 200
P99_RATIO_GOAL = 1.5
TARGETS = ("saydo", "bare")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


class Target:
    """One server under test, run as a subprocess and logging to `<workdir>/<name>.log`."""

    def __init__(
        self, name: str, args: list[str], env: dict[str, str], workdir: Path, port: int
    ) -> None:
        self.name = name
        self.port = port
        self.args = args
        self.env = {**env, "PORT": str(port)}
        self.workdir = workdir
        self.log_path = workdir / f"{name}.log"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, *self.args],
                cwd=self.workdir,  # no stray .env from the project is picked up
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def cpu_seconds(self) -> float:
        """User + system CPU time the server process has used so far (Linux `/proc`)."""
        assert self.process is not None
        fields = read_text(f"/proc/{self.process.pid}/stat").rsplit(")", 1)[-1].split()
        if len(fields) < 13:
            return math.nan
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def wait_healthy(self) -> None:
        assert self.process is not None
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"{self.name} exited with {self.process.returncode}:\n{self.log()}"
                )
            try:
                if requests.get(f"http://{HOST}:{self.port}/healthz", timeout=1).ok:
                    return
            except requests.ConnectionError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"{self.name} did not become healthy:\n{self.log()}")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def make_targets(workdir: Path, slack_api_url: str) -> dict[str, Target]:
    """Saydo (port from `PORT`, as deployed) and the baseline (port from `--port`)."""
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DATABASE_"))},
        "PYTHONPATH": os.pathsep.join(
            filter(None, [str(PROJECT_ROOT), os.environ.get("PYTHONPATH")])
        ),
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": slack_api_url,
        "DATABASE_URL": f"sqlite:///{workdir / 'bench.db'}",
        "HOST": HOST,
        "LOG_LEVEL": "INFO",
    }
    saydo_port, bare_port = free_port(), free_port()
    return {
        "saydo": Target("saydo", ["-m", "bot", "run", "--no-scheduler"], env, workdir, saydo_port),
        "bare": Target(
            "bare", ["-m", "bench.bare_bolt", "--port", str(bare_port)], env, workdir, bare_port
        ),
    }


def check_answers(targets: dict[str, Target]) -> None:
    """One request each, to see that both answer `/saydo help` as expected before timing."""
    verifier = SignatureVerifier(SIGNING_SECRET)
    expected = {"saydo": b'"blocks"', "bare": b"ok"}
    for name, target in targets.items():
        connection = http.client.HTTPConnection(HOST, target.port, timeout=30)
        status, body = send(connection, *signed_request(verifier)[:2])
        connection.close()
        if status != 200 or expected[name] not in body:
            raise RuntimeError(f"{name} answered {status} {body[:200]!r}:\n{target.log()}")


@dataclass
class Pooled:
    """Latencies of every round for one target at one concurrency."""

    latencies: list[float] = field(default_factory=list)
    wall_seconds: float = 0.0
    cpu_seconds: float = 0.0
    errors: list[str] = field(default_factory=list)
    rounds: list[dict] = field(default_factory=list)

    def add(self, result: LoadResult, cpu_seconds: float) -> None:
        self.cpu_seconds += cpu_seconds
        self.latencies.extend(result.latencies)
        self.wall_seconds += result.wall_seconds
        self.errors.extend(result.errors)
        self.rounds.append(
            {
                "requests": len(result.latencies),
                "wall_seconds": result.wall_seconds,
                "p50_ms": percentile(result.latencies, 50) * 1000,
                "p99_ms": percentile(result.latencies, 99) * 1000,
                "errors": len(result.errors),
                "server_cpu_seconds": cpu_seconds,
            }
        )

    def summary(self) -> dict:
        return {
            "requests": len(self.latencies),
            "errors": len(self.errors),
            "p50_ms": percentile(self.latencies, 50) * 1000,
            "p99_ms": percentile(self.latencies, 99) * 1000,
            "max_ms": max(self.latencies, default=math.nan) * 1000,
            "throughput_rps": len(self.latencies) / self.wall_seconds if self.wall_seconds else 0,
            "server_cpu_ms_per_request": 1000 * self.cpu_seconds / max(1, len(self.latencies)),
        }


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile (NaN for no values)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


def run_benchmark(requests_per_target: int, concurrencies: list[int], rounds: int) -> dict:
    per_round = math.ceil(requests_per_target / rounds)
    results: dict[int, dict[str, Pooled]] = {}
    with (
        tempfile.TemporaryDirectory(prefix="saydo-bench-") as tmp,
        SlackStub() as stub,
        ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as generator,
    ):
        targets = make_targets(Path(tmp), stub.url)
        try:
            for target in targets.values():
                target.start()
            for target in targets.values():
                target.wait_healthy()
            check_answers(targets)
            for name, target in targets.items():
                warm = generator.submit(
                    run_load, HOST, target.port, SIGNING_SECRET, WARMUP_REQUESTS, 10
                ).result()
                if warm.errors:
                    raise RuntimeError(f"{name} warm-up failed: {warm.errors[:3]}")
            for concurrency in concurrencies:
                pooled = results[concurrency] = {name: Pooled() for name in TARGETS}
                for round_no in range(rounds):
                    order = TARGETS if round_no % 2 == 0 else TARGETS[::-1]
                    for name in order:
                        cpu_before = targets[name].cpu_seconds()
                        result = generator.submit(
                            run_load,
                            HOST,
                            targets[name].port,
                            SIGNING_SECRET,
                            per_round,
                            concurrency,
                        ).result()
                        pooled[name].add(result, targets[name].cpu_seconds() - cpu_before)
                    print(
                        f"  c={concurrency:<3} round {round_no + 1}/{rounds} done",
                        file=sys.stderr,
                        flush=True,
                    )
        finally:
            for target in targets.values():
                target.stop()
        web_api_calls = dict(stub.calls)

    report: dict = {
        "machine": machine(),
        "settings": {
            "requests_per_target": per_round * rounds,
            "rounds": rounds,
            "requests_per_round": per_round,
            "concurrency": concurrencies,
        },
        "web_api_calls": web_api_calls,
        "results": [],
    }
    for concurrency, pooled in results.items():
        saydo, bare = pooled["saydo"].summary(), pooled["bare"].summary()
        report["results"].append(
            {
                "concurrency": concurrency,
                "saydo": saydo,
                "bare": bare,
                "ratio_p50": saydo["p50_ms"] / bare["p50_ms"],
                "ratio_p99": saydo["p99_ms"] / bare["p99_ms"],
                "rounds": {name: pooled[name].rounds for name in TARGETS},
                "error_samples": {name: pooled[name].errors[:5] for name in TARGETS},
                "latencies_ms": {
                    name: [round(x * 1000, 3) for x in pooled[name].latencies] for name in TARGETS
                },
            }
        )
    return report


def verdict(row: dict) -> str:
    """Whether one concurrency meets the goal; failed requests make the figures invalid."""
    failed = row["saydo"]["errors"] + row["bare"]["errors"]
    if failed:
        return f"not valid: {failed} failed requests"
    return "met" if row["ratio_p99"] <= P99_RATIO_GOAL else "NOT met"


def format_table(report: dict) -> str:
    """The figures as a plain-text (and Markdown) table, one row per target and concurrency."""
    columns = ("clients", "target", "requests", "errors", "p50 ms", "p99 ms", "req/s", "CPU ms/req")
    lines = ["| " + " | ".join(columns) + " |", "|" + "|".join("---" for _ in columns) + "|"]
    for row in report["results"]:
        for name in TARGETS:
            s = row[name]
            cells = (
                str(row["concurrency"]),
                name,
                str(s["requests"]),
                str(s["errors"]),
                f"{s['p50_ms']:.2f}",
                f"{s['p99_ms']:.2f}",
                f"{s['throughput_rps']:.0f}",
                f"{s['server_cpu_ms_per_request']:.2f}",
            )
            lines.append("| " + " | ".join(cells) + " |")
        lines.append(
            f"| {row['concurrency']} | **saydo/bare** | | | **{row['ratio_p50']:.2f}** | "
            f"**{row['ratio_p99']:.2f}** | | |"
        )
    lines.append("")
    lines.extend(
        f"{row['concurrency']:>3} clients: p99 ratio {row['ratio_p99']:.2f}, "
        f"goal <= {P99_RATIO_GOAL}: {verdict(row)}"
        for row in report["results"]
    )
    return "\n".join(lines)


# --- part 2: Saydo with a slow Slack ------------------------------------------------------------

SLOW_SCENARIOS = ("commit", "form", "done", "mention")
ACK_DEADLINE_SECONDS = 3.0
ACK_P99_GOAL_MS = 300
REPLY_TIMEOUT_SECONDS = 180
REPLY_CALL = {  # how each scenario's reply reaches Slack, and the argument that identifies it
    "commit": ("response_url", None),
    "done": ("response_url", None),
    "form": ("views.open", "trigger_id"),
    "mention": ("chat.postMessage", "thread_ts"),
}


def slow_requests(concurrency: int) -> int:
    """Requests per cell: a burst of two per client (at least 20), so a cell drains in seconds."""
    return max(20, 2 * concurrency)


def open_refs(engine: Engine, clients: int) -> tuple[tuple[int, int], ...]:
    """The bench users' open commitments (for `/done`) as (client, ref), taking each user's
    oldest in turn, so a burst closes commitments of every client."""
    with engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT p.user_id, c.ref FROM commitment c JOIN person p ON p.id = c.owner_id "
                "WHERE c.status = 'open' ORDER BY c.ref"
            )
        ).all()
    refs: dict[str, list[int]] = {}
    for user, ref in rows:
        refs.setdefault(user, []).append(ref)
    owned = [refs.get(f"U0BENCH{i:02d}", []) for i in range(clients)]
    return tuple(
        (client, mine[turn])
        for turn in range(max(map(len, owned), default=0))
        for client, mine in enumerate(owned)
        if turn < len(mine)
    )


def wait_for_replies(slack: SlackStandIn, scenario: str, sent: dict[str, float]) -> list[float]:
    """Seconds from sending each request until its reply reached the stand-in (missing ones are
    left out); waits until every reply came or `REPLY_TIMEOUT_SECONDS` passed."""
    method, argument = REPLY_CALL[scenario]
    deadline = time.monotonic() + REPLY_TIMEOUT_SECONDS
    while True:
        arrived = {
            (call.path if argument is None else call.args.get(argument)): call.at
            for call in slack.calls_to(method)
        }
        found = {key: arrived[key] - at for key, at in sent.items() if key in arrived}
        if len(found) == len(sent) or time.monotonic() > deadline:
            return list(found.values())
        time.sleep(0.1)


def run_slow_slack(delays: list[float], concurrencies: list[int], backend: str) -> dict:
    clients = max(concurrencies)
    due = (datetime.now(UTC) + timedelta(days=30)).strftime("%d %b %Y")
    cells = []
    with (
        tempfile.TemporaryDirectory(prefix="saydo-bench-slow-") as tmp,
        SlackStandIn() as slack,
        ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as generator,
    ):
        users = [f"U0BENCH{i:02d}" for i in range(clients)]
        for user in users:
            slack.add_user(user, name=user.lower())
        slack.add_channel(CHANNEL, name="bench", members=[*users, BOT_USER])
        database = Database(backend, 0, Path(tmp))
        saydo = make_targets(Path(tmp), slack.url)["saydo"]
        saydo.env["DATABASE_URL"] = database.url
        saydo.start()
        try:
            saydo.wait_healthy()
            for delay in delays:
                slack.delay(delay)
                for concurrency in concurrencies:
                    for name in SLOW_SCENARIOS:
                        requests_ = slow_requests(concurrency)
                        refs = open_refs(database.engine, concurrency)
                        scenario = Scenario(name, reply_base=slack.base, due=due, refs=refs)
                        if name == "done":
                            requests_ = min(requests_, len(refs))
                        slack.clear()
                        result = generator.submit(
                            run_load,
                            HOST,
                            saydo.port,
                            SIGNING_SECRET,
                            requests_,
                            concurrency,
                            scenario,
                        ).result()
                        replies = wait_for_replies(slack, name, result.sent)
                        cells.append(
                            {
                                "backend": backend,
                                "delay_s": delay,
                                "concurrency": concurrency,
                                "scenario": name,
                                "requests": len(result.latencies),
                                "errors": len(result.errors),
                                "error_samples": result.errors[:3],
                                "ack_p50_ms": percentile(result.latencies, 50) * 1000,
                                "ack_p99_ms": percentile(result.latencies, 99) * 1000,
                                "ack_max_ms": max(result.latencies, default=math.nan) * 1000,
                                "acks_over_3s": sum(
                                    x >= ACK_DEADLINE_SECONDS for x in result.latencies
                                ),
                                "replies": len(replies),
                                "reply_p50_ms": percentile(replies, 50) * 1000,
                                "reply_p99_ms": percentile(replies, 99) * 1000,
                                "reply_max_ms": max(replies, default=math.nan) * 1000,
                            }
                        )
                        print(
                            f"  {backend}, delay {delay} s, c={concurrency:<3} {name:<8} done",
                            file=sys.stderr,
                            flush=True,
                        )
        finally:
            saydo.stop()
            database.drop()
    return {"machine": machine(), "delays": delays, "concurrency": concurrencies, "cells": cells}


def slow_failures(cell: dict) -> int:
    return cell["errors"] + cell["acks_over_3s"] + (cell["requests"] - cell["replies"])


def format_slow_table(report: dict) -> str:
    columns = (
        "database",
        "Slack delay s",
        "clients",
        "request",
        "requests",
        "errors",
        "ack p50 ms",
        "ack p99 ms",
        "ack max ms",
        "replies",
        "reply p50 ms",
        "reply p99 ms",
        "reply max ms",
    )
    lines = ["| " + " | ".join(columns) + " |", "|" + "|".join("---" for _ in columns) + "|"]
    for c in report["cells"]:
        cells = (
            c["backend"],
            f"{c['delay_s']:g}",
            str(c["concurrency"]),
            c["scenario"],
            str(c["requests"]),
            str(c["errors"]),
            f"{c['ack_p50_ms']:.1f}",
            f"{c['ack_p99_ms']:.1f}",
            f"{c['ack_max_ms']:.1f}",
            str(c["replies"]),
            f"{c['reply_p50_ms']:.0f}",
            f"{c['reply_p99_ms']:.0f}",
            f"{c['reply_max_ms']:.0f}",
        )
        lines.append("| " + " | ".join(cells) + " |")
    slowest = max(report["delays"])
    widest = max(report["concurrency"])
    worst = max(
        (
            c["ack_p99_ms"]
            for c in report["cells"]
            if c["delay_s"] == slowest and c["concurrency"] == widest
        ),
        default=math.nan,
    )
    failures = sum(slow_failures(c) for c in report["cells"])
    lines.append("")
    lines.append(
        f"Worst ack p99 at {widest} clients with a {slowest:g} s Slack: {worst:.1f} ms "
        f"(goal < {ACK_P99_GOAL_MS} ms: {'met' if worst < ACK_P99_GOAL_MS else 'NOT met'}); "
        f"failed requests, missing replies and acks of 3 s or more: {failures}"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.ack_latency",
        description="Slash-command ack latency: Saydo against a bare Bolt app.",
    )
    parser.add_argument(
        "--requests",
        type=int,
        default=2000,
        help="requests per target per concurrency (default 2000)",
    )
    parser.add_argument(
        "--concurrency", default="1,10,50", help="comma-separated client counts (default 1,10,50)"
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=4,
        help="alternating rounds the requests are split into (default 4)",
    )
    parser.add_argument("--json", type=Path, metavar="PATH", help="save raw figures as JSON")
    parser.add_argument(
        "--part", choices=("ratio", "slow", "both"), default="both", help="default both"
    )
    parser.add_argument(
        "--delays", default="0,0.5,1.5", help="Slack's answer delays in s (default 0,0.5,1.5)"
    )
    parser.add_argument(
        "--backends", default="sqlite,postgresql", help="databases of the slow-Slack part"
    )
    args = parser.parse_args(argv)
    concurrencies = [int(c) for c in args.concurrency.split(",") if c.strip()]
    if args.requests < 1 or args.rounds < 1 or not concurrencies or min(concurrencies) < 1:
        parser.error("--requests, --rounds and every --concurrency must be at least 1")
    delays = [float(d) for d in args.delays.split(",") if d.strip()]

    failures = 0
    report: dict = {}
    if args.part in ("ratio", "both"):
        report["ratio"] = run_ratio(args, concurrencies)
        failures += sum(row[n]["errors"] for row in report["ratio"]["results"] for n in TARGETS)
    if args.part in ("slow", "both"):
        slow = report["slow"] = {"cells": []}
        for backend in args.backends.split(","):
            part = run_slow_slack(delays, concurrencies, backend)
            slow.update({**part, "cells": slow["cells"] + part["cells"]})
        m = slow["machine"]
        print(
            f"{m['cpus']} CPUs ({m['cpu_model']}), {m['memory_gib']} GiB, Python {m['python']}, "
            f"{m['date']}; Slack answering after {args.delays} s"
        )
        print(format_slow_table(slow))
        failures += sum(slow_failures(c) for c in slow["cells"])
    if args.json:
        args.json.write_text(json.dumps(report, indent=1))
        print(f"Raw figures written to {args.json}")
    return 1 if failures else 0


def run_ratio(args: argparse.Namespace, concurrencies: list[int]) -> dict:
    report = run_benchmark(args.requests, concurrencies, args.rounds)
    m = report["machine"]
    print(
        f"{m['cpus']} CPUs ({m['cpu_model']}), {m['memory_gib']} GiB, Python {m['python']}, "
        f"{m['date']}; {report['settings']['requests_per_target']} requests per target per "
        f"concurrency in {args.rounds} alternating rounds; Web API calls: "
        f"{report['web_api_calls']}"
    )
    print(format_table(report))
    return report


if __name__ == "__main__":
    sys.exit(main())
