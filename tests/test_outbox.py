"""The outbox's sending mechanisms, on both databases, against the Slack stand-in: concurrent
sending with per-channel pacing, `Retry-After` across threads, and the release of claims whose
sender stopped (on this host at once, elsewhere when the lease lapses)."""

from __future__ import annotations

import subprocess
import threading
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from itertools import pairwise

from sqlalchemy import select, update

from bot.commitments.service import ensure_partnership, log_commitment, save_person
from bot.config import Settings
from bot.outbox.sending import CLAIM_BATCH, Planned, Sweeper, enqueue, worker_name
from bot.slack_client import build_web_client
from scheduler.jobs import RENDERERS
from storage.db import transaction
from storage.models import OutboxMessage
from tests.saydo_process import BOT_TOKEN

NOW = datetime(2026, 12, 1, 9, tzinfo=UTC)
HERE = worker_name().rsplit(":", 2)[0]  # this host, as worker names spell it


def flood(engine, channels, *, due):
    """One ready-made message to each of `channels` (repeat a channel for several), all due
    at `due`."""
    with transaction(engine) as session:
        enqueue(
            session,
            (
                Planned(
                    slot_key=f"test:{n}",
                    kind="announcement",
                    channel=channel,
                    due_at=due,
                    payload={"text": f"message {n}"},
                )
                for n, channel in enumerate(channels)
            ),
            now=due,
        )


def delivered(slack) -> Counter:
    """Successful posts per channel."""
    return Counter(c.args["channel"] for c in slack.calls_to("chat.postMessage") if c.succeeded)


def row_states(engine) -> Counter:
    with transaction(engine) as session:
        return Counter(session.execute(select(OutboxMessage.state)).scalars())


def sweeper(engine, slack, **options) -> Sweeper:
    client = build_web_client(Settings(bot_token=BOT_TOKEN, slack_api_url=slack.url))
    return Sweeper(engine=engine, client=client, renderers=RENDERERS, **options)


def claim_all_as(engine, worker, *, at):
    """Make every row look claimed by `worker` at `at` (a sender that stopped mid-send)."""
    with transaction(engine) as session:
        session.execute(
            update(OutboxMessage).values(state="claimed", claimed_by=worker, claimed_at=at)
        )


def test_sending_is_concurrent_across_channels_and_paced_within_each(engine, slack):
    slack.delay(0.2)
    channels = [f"C{n:04d}" for n in range(3) for _ in range(3)] + [f"U{n:05d}" for n in range(12)]
    flood(engine, channels, due=NOW)
    reports = sweeper(engine, slack, worker="here:1:a", concurrency=4).sweep(now=NOW)

    assert Counter(r.result for r in reports) == {"sent": len(channels)}
    assert row_states(engine) == {"sent": len(channels)}
    assert delivered(slack) == Counter(channels)  # each row once
    arrivals = defaultdict(list)
    for call in slack.calls_to("chat.postMessage"):
        arrivals[call.args["channel"]].append(call.at)
    gaps = [b - a for times in arrivals.values() for a, b in pairwise(times)]
    assert len(gaps) == 6 and min(gaps) >= 1.0, gaps  # one post a second to any one channel
    starts = sorted(c.at for c in slack.calls_to("chat.postMessage"))
    # One at a time, each post would start after the previous one's 0.2 s answer.
    assert any(b - a < 0.2 for a, b in pairwise(starts)), "posts never overlapped"


def test_under_a_rate_limit_concurrent_sending_still_sends_every_row_once(engine, slack):
    slack.delay(0.1)
    slack.rate_limit_window("chat.postMessage", 4, 2)
    channels = [f"U{n:05d}" for n in range(10)]
    flood(engine, channels, due=NOW)
    reports = sweeper(engine, slack, worker="here:1:a", concurrency=4).sweep(now=NOW)

    assert Counter(r.result for r in reports) == {"sent": 10}
    assert row_states(engine) == {"sent": 10}
    assert delivered(slack) == Counter(channels)
    assert any(c.answered == "429" for c in slack.calls_to("chat.postMessage"))


def test_a_429_in_one_thread_holds_back_the_others_until_retry_after(slack):
    client = build_web_client(Settings(bot_token=BOT_TOKEN, slack_api_url=slack.url))
    slack.fail("chat.postMessage", status=429, retry_after=2, times=1)
    first = threading.Thread(target=lambda: client.chat_postMessage(channel="U00001", text="a"))
    first.start()
    refused = slack.wait_for("chat.postMessage")[0]
    time.sleep(0.5)  # the first thread has had the 429 back for a while; it waits for 2 s
    client.chat_postMessage(channel="U00002", text="b")
    first.join()

    calls = slack.calls_to("chat.postMessage")
    assert calls[0] == refused and refused.answered == "429"
    assert Counter((c.args["channel"], c.answered) for c in calls[1:]) == {
        ("U00001", "ok"): 1,
        ("U00002", "ok"): 1,
    }
    assert all(c.at >= refused.at + 2 for c in calls[1:])  # no call before Retry-After


def test_claims_of_a_process_gone_from_this_host_are_released_at_the_next_sweep(engine, slack):
    child = subprocess.Popen(["true"])  # a process that ran here and is gone
    child.wait()
    gone = f"{HERE}:{child.pid}:deadbeef"
    flood(engine, ["U00001", "U00002", "U00003"], due=NOW)
    claim_all_as(engine, gone, at=datetime.now(UTC))  # fresh: the lease has not lapsed

    reports = sweeper(engine, slack, worker=worker_name()).sweep(now=NOW)
    assert [r.result for r in reports] == ["sent"] * 3
    assert delivered(slack) == Counter(["U00001", "U00002", "U00003"])


def test_claims_of_this_pid_from_an_earlier_start_are_released(engine, slack):
    """A restarted container runs Saydo as PID 1 again: the same host and pid, another start."""
    me = worker_name()
    host, pid, _started = me.rsplit(":", 2)
    flood(engine, ["U00001"], due=NOW)
    claim_all_as(engine, f"{host}:{pid}:earlier0", at=datetime.now(UTC))

    reports = sweeper(engine, slack, worker=me).sweep(now=NOW)
    assert [r.result for r in reports] == ["sent"]


def test_live_claims_are_left_alone_until_their_lease_lapses(engine, slack):
    alive = subprocess.Popen(["sleep", "60"])
    try:
        flood(engine, ["U00001", "U00002"], due=NOW)
        here_alive = f"{HERE}:{alive.pid}:0a0a0a0a"
        elsewhere = "another-host:4242:0b0b0b0b"
        with transaction(engine) as session:
            for slot, worker in (("test:0", here_alive), ("test:1", elsewhere)):
                session.execute(
                    update(OutboxMessage)
                    .where(OutboxMessage.slot_key == slot)
                    .values(state="claimed", claimed_by=worker, claimed_at=datetime.now(UTC))
                )
        mine = sweeper(engine, slack, worker=worker_name(), lease=timedelta(minutes=1))
        assert mine.sweep(now=NOW) == []
        assert row_states(engine) == {"claimed": 2}

        claim_all_as(engine, elsewhere, at=datetime.now(UTC) - timedelta(minutes=2))
        assert [r.result for r in mine.sweep(now=NOW)] == ["sent", "sent"]
        assert delivered(slack) == Counter(["U00001", "U00002"])
    finally:
        alive.kill()
        alive.wait()


def test_a_long_send_keeps_its_claim_so_no_other_sweeper_takes_it(engine, slack):
    lease = timedelta(seconds=3)

    def slow(args):  # longer than the lease: only renewals keep the claim
        time.sleep(4.5)
        return {"channel": args["channel"], "ts": f"{time.time():.6f}", "message": {}}

    slack.set_answer("chat.postMessage", slow)
    flood(engine, ["U00001"], due=NOW)
    first = sweeper(engine, slack, worker="host-a:1:aaaaaaaa", lease=lease, concurrency=1)
    other = sweeper(engine, slack, worker="host-b:1:bbbbbbbb", lease=lease, concurrency=1)
    results: list = []
    sending = threading.Thread(target=lambda: results.extend(first.sweep(now=NOW)))
    sending.start()
    deadline = time.monotonic() + 30
    while row_states(engine) != {"claimed": 1}:  # until the first has claimed it
        assert time.monotonic() < deadline, "the first sweeper never claimed the message"
        time.sleep(0.01)
    others: list = []
    while sending.is_alive():
        others += other.sweep(now=NOW)
        time.sleep(0.2)
    sending.join()

    assert [r.result for r in results] == ["sent"]
    assert others == []
    assert len(slack.calls_to("chat.postMessage")) == 1


def test_reminders_about_one_commitment_are_collapsed_even_when_claimed_apart(engine, slack):
    owner = save_person(
        engine, team_id="T0001", user_id="U0ALICE", name="alice", tz="UTC", locale="en-GB", now=NOW
    )
    partnership = ensure_partnership(engine, team_id="T0001", channel_id="C0PARTNER")
    commitment = log_commitment(
        engine,
        partnership=partnership,
        creator=owner,
        owner=owner,
        recipient=None,
        title="send the budget",
        due_at=NOW + timedelta(days=7),
        has_time=True,
        now=NOW,
    ).commitment
    flood(engine, [f"U{n:05d}" for n in range(CLAIM_BATCH)], due=NOW - timedelta(hours=2))
    with transaction(engine) as session:  # after downtime: an old reminder and a newer one
        enqueue(
            session,
            [
                Planned(
                    slot_key=f"test:reminder:{hours}",
                    kind="announcement",
                    channel="U0ALICE",
                    due_at=NOW - timedelta(hours=hours),
                    commitment_id=commitment.id,
                    payload={"text": f"reminder from {hours} hours ago"},
                )
                for hours in (3, 1)
            ],
            now=NOW,
        )
    # The first batch of five holds the 3-hour-old reminder; the newer one is claimed with it.
    reports = sweeper(engine, slack, worker="here:1:a", concurrency=1).sweep(now=NOW)

    outcome = {r.item.slot_key: r.result for r in reports if "reminder" in r.item.slot_key}
    assert outcome == {"test:reminder:3": "superseded", "test:reminder:1": "sent"}
    [reminder] = slack.messages_to("U0ALICE")
    assert reminder.args["text"] == "reminder from 1 hours ago"
