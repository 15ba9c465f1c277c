"""Slack gets its acknowledgement before Saydo talks to Slack: a slow Web API never delays it.

Saydo runs with two work threads and one form thread, and the stand-in leaves the calls the
work needs unanswered (`hold`), so a listener that acknowledged only once its work had a
thread, or once its Web API calls returned, would never answer these requests.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from bot.playground import slack_requests as doors
from storage.db import create_db_engine
from tests.saydo_process import SaydoProcess
from tests.waiting import posts_to

pytestmark = pytest.mark.e2e

COMMANDS = 8  # four times the work threads


@pytest.fixture
def small_saydo(people, database_url, tmp_path):
    process = SaydoProcess(
        slack_api_url=people.url,
        database_url=database_url,
        workdir=tmp_path,
        extra_env={"WORKER_THREADS": "2", "FORM_THREADS": "1"},
        response_url_factory=people.response_url,
    )
    process.start("--no-scheduler")
    try:
        yield process
    finally:
        people.release()  # held work must finish before a clean stop
        process.stop()


def titles_stored(database_url: str) -> list[str]:
    engine = create_db_engine(database_url)
    try:
        with engine.connect() as connection:
            return list(connection.execute(text("SELECT title FROM commitment")).scalars())
    finally:
        engine.dispose()


def test_commands_are_acknowledged_before_slack_answers_and_forms_still_open(
    small_saydo, people, database_url
):
    due = (datetime.now(UTC) + timedelta(days=30)).strftime("%d %b %Y")
    people.hold("users.info", "response_url", "chat.postMessage")

    with ThreadPoolExecutor(COMMANDS) as senders:
        answers = list(
            senders.map(
                lambda n: small_saydo.command("/commit", f"send report {n} by {due}"),
                range(COMMANDS),
            )
        )

    assert [(a.status_code, a.text) for a in answers] == [(200, "")] * COMMANDS
    assert titles_stored(database_url) == []  # acknowledged before any of the work was done

    # Both work threads wait on Slack; the form still opens, on its own thread.
    assert small_saydo.command("/commit", "").status_code == 200
    [opened] = people.wait_for("views.open")
    assert opened.succeeded

    people.release()
    logged = posts_to(people, "C0PARTNER", count=COMMANDS)
    assert all("Logged *#" in post.args["text"] for post in logged)
    assert sorted(titles_stored(database_url)) == sorted(
        f"send report {n}" for n in range(COMMANDS)
    )


def test_a_mention_is_acknowledged_before_saydo_answers_in_its_thread(
    small_saydo, people, database_url
):
    due = (datetime.now(UTC) + timedelta(days=30)).strftime("%d %b %Y")
    people.hold("users.info", "chat.postMessage")
    message = people.post_as("U0ALICE", "C0PARTNER", f"<@UBOT> I'll send the minutes by {due}")

    answer = small_saydo.event(
        doors.app_mention_event(
            user_id="U0ALICE",
            text=message["text"],
            channel_id="C0PARTNER",
            ts=message["ts"],
            team_id="T0001",
        )
    )

    assert answer.status_code == 200
    assert titles_stored(database_url) == []
    people.release()
    [reply] = people.wait_for("chat.postMessage", timeout=30)
    assert reply.args["thread_ts"] == message["ts"]
    assert titles_stored(database_url) == ["send the minutes"]
