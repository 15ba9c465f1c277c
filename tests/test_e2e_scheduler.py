"""The outbox across processes: `saydo tick`, `saydo schedule`, two sweepers at once, and a
`saydo run` killed with SIGKILL in the middle of sending."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from bot.commitments.service import ensure_partnership, log_commitment, save_person
from bot.outbox.sending import CLAIM_BATCH
from storage.db import transaction
from storage.models import OutboxMessage
from tests.saydo_process import BOT_TOKEN, SaydoProcess
from tests.test_outbox import delivered, flood

pytestmark = pytest.mark.e2e


def saydo_cli(*args, database_url, slack, cwd) -> subprocess.CompletedProcess:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DATABASE_"))},
        "DATABASE_URL": database_url,
        "SLACK_API_URL": slack.url,
        "SLACK_BOT_TOKEN": BOT_TOKEN,
    }
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def commit(engine, user_id, *, created, due, tz="Europe/London", title="send the budget"):
    owner = save_person(
        engine,
        team_id="T0001",
        user_id=user_id,
        name=user_id.lower(),
        tz=tz,
        locale="en-GB",
        now=created,
    )
    partnership = ensure_partnership(engine, team_id="T0001", channel_id="C0PARTNER")
    return log_commitment(
        engine,
        partnership=partnership,
        creator=owner,
        owner=owner,
        recipient=None,
        title=title,
        due_at=due,
        has_time=True,
        now=created,
    ).commitment


def test_tick_sends_what_is_due_and_prints_a_line_each(engine, database_url, slack, tmp_path):
    c = commit(
        engine,
        "U0ALICE",
        created=datetime(2026, 11, 23, 10, tzinfo=UTC),
        due=datetime(2026, 11, 27, 17, tzinfo=UTC),
    )
    early = saydo_cli(
        "tick", "--now", "2026-11-26T08:59Z", database_url=database_url, slack=slack, cwd=tmp_path
    )
    assert early.returncode == 0, early.stderr
    assert early.stdout.strip() == "Nothing due at 2026-11-26T08:59Z."

    dry = saydo_cli(
        "tick",
        "--now",
        "2026-11-26T09:00Z",
        "--dry-run",
        database_url=database_url,
        slack=slack,
        cwd=tmp_path,
    )
    assert dry.stdout.startswith("would send")
    assert slack.calls_to("chat.postMessage") == []

    sent = saydo_cli(
        "tick", "--now", "2026-11-26T09:00Z", database_url=database_url, slack=slack, cwd=tmp_path
    )
    lines = sent.stdout.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("sent")
    assert f"#{c.ref} before nudge" in lines[0]
    dm = slack.calls_to("chat.postMessage")[0]
    assert dm.args["channel"] == "U0ALICE"

    again = saydo_cli(
        "tick", "--now", "2026-11-26T09:00Z", database_url=database_url, slack=slack, cwd=tmp_path
    )
    assert again.stdout.startswith("Nothing due")
    assert len(slack.calls_to("chat.postMessage")) == 1


def test_tick_refuses_bad_input_in_one_line(database_url, slack, tmp_path):
    result = saydo_cli(
        "tick", "--now", "next tuesday", database_url=database_url, slack=slack, cwd=tmp_path
    )
    assert result.returncode == 2
    assert result.stderr.strip().startswith("saydo: --now must be an ISO-8601 instant")


def test_schedule_shows_what_is_coming_in_utc_and_local_time(engine, database_url, slack, tmp_path):
    now = datetime.now(UTC)
    commit(
        engine,
        "U0BOB",
        tz="America/New_York",
        created=now,
        due=now + timedelta(days=3),
        title="share the risk register",
    )
    result = saydo_cli(
        "schedule", "--days", "14", database_url=database_url, slack=slack, cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert lines[0].split()[:3] == ["when", "(UTC)", "when"]
    assert any(
        "America/New_York" in line and "09:00" in line and "#1 share the risk" in line
        for line in lines[1:]
    )
    assert all("U0BOB" in line for line in lines[1:])


def test_two_sweepers_at_once_send_every_message_exactly_once(
    engine, database_url, slack, tmp_path
):
    count = 400

    def slow_post(args):  # long enough that both sweepers are sending at the same time
        time.sleep(0.01)
        return {"channel": args["channel"], "ts": f"{time.time():.6f}", "message": {}}

    slack.set_answer("chat.postMessage", slow_post)
    flood(engine, [f"U{n:05d}" for n in range(count)], due=datetime(2026, 12, 1, 9, tzinfo=UTC))
    results: list[subprocess.CompletedProcess] = []

    def tick():
        results.append(
            saydo_cli(
                "tick",
                "--now",
                "2026-12-01T09:05Z",
                database_url=database_url,
                slack=slack,
                cwd=tmp_path,
            )
        )

    threads = [threading.Thread(target=tick) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(r.returncode == 0 for r in results), [r.stderr for r in results]
    per_process = [sum(line.startswith("sent") for line in r.stdout.splitlines()) for r in results]
    assert sum(per_process) == count
    assert all(n > 0 for n in per_process), per_process  # both really swept
    counts = delivered(slack)
    assert len(counts) == count and set(counts.values()) == {1}


def test_a_killed_sender_loses_nothing_and_repeats_only_what_was_in_flight(
    engine, database_url, slack, tmp_path
):
    count = 300
    slack.delay(0.02)
    channels = [f"U{n:05d}" for n in range(count)]
    flood(engine, channels, due=datetime.now(UTC) - timedelta(minutes=1))
    # Anywhere from a fifth to a half of the way, never at a batch boundary.
    kill_after = random.randrange(count // 5, count // 2)
    if kill_after % CLAIM_BATCH == 0:
        kill_after += random.randrange(1, CLAIM_BATCH)
    first = SaydoProcess(slack_api_url=slack.url, database_url=database_url, workdir=tmp_path)
    first.start()
    deadline = time.monotonic() + 60
    while len(slack.calls_to("chat.postMessage")) < kill_after:
        assert time.monotonic() < deadline, "the scheduler did not start sending"
        time.sleep(0.005)
    first.process.send_signal(signal.SIGKILL)
    first.process.wait()
    time.sleep(0.2)  # a post already written to the socket still reaches Slack
    with transaction(engine) as session:
        rows = session.execute(select(OutboxMessage.channel, OutboxMessage.state)).all()
    at_kill = Counter(state for _channel, state in rows)
    claimed = {channel for channel, state in rows if state == "claimed"}
    sent_then = delivered(slack)
    assert set(at_kill) <= {"sent", "claimed", "pending"} and sum(at_kill.values()) == count
    assert 0 < at_kill["sent"] < count and at_kill["claimed"] > 0, at_kill
    # Every row recorded as sent was delivered, and only claimed rows can have been posted
    # without being recorded yet.
    assert {c for c, s in rows if s == "sent"} <= set(sent_then)
    assert set(sent_then) <= {c for c, s in rows if s in ("sent", "claimed")}

    restart = tmp_path / "restart"
    restart.mkdir()
    second = SaydoProcess(slack_api_url=slack.url, database_url=database_url, workdir=restart)
    second.start()
    try:
        deadline = time.monotonic() + 90
        while len(delivered(slack)) < count:
            if time.monotonic() > deadline:
                with transaction(engine) as session:
                    states = session.execute(
                        select(
                            OutboxMessage.state, OutboxMessage.claimed_by, func.count()
                        ).group_by(OutboxMessage.state, OutboxMessage.claimed_by)
                    ).all()
                raise AssertionError(f"only {len(delivered(slack))} of {count} sent: {states}")
            time.sleep(0.1)
    finally:
        second.stop()
    # The restart on this host put the dead process's claims back at once (no lease wait).
    log = second.log_path.read_text()
    assert f"Put back {at_kill['claimed']} outbox message(s) claimed by" in log, log[-2000:]
    counts = delivered(slack)
    twice = {channel for channel, n in counts.items() if n > 1}
    assert set(counts) == set(channels)
    assert max(counts.values()) <= 2
    assert twice <= claimed and len(twice) <= len(claimed & set(sent_then)), (twice, claimed)
    with transaction(engine) as session:
        final = Counter(session.execute(select(OutboxMessage.state)).scalars())
    assert final == {"sent": count}
