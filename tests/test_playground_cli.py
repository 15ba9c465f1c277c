"""The playground as people start it: `saydo run` without credentials, `saydo playground`, and
the page's JSON API, on a real process."""

from __future__ import annotations

import os
import pty
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests

from bot.playground import workspace as cast
from bot.playground.standin import dm_id
from tests.playground_process import PlaygroundProcess
from tests.test_cli import run_saydo

ALICE, PRIYA = "U0ALICE", "U0PRIYA"


@pytest.fixture
def playground(tmp_path):
    with PlaygroundProcess(tmp_path, "--database", str(tmp_path / "pg.db")) as process:
        yield process


def saydo_said(state: dict) -> str:
    return " ".join(m["html"] for m in state["messages"] if m["author"] == "Saydo")


def test_run_without_credentials_starts_the_playground_and_says_where_in_one_line(tmp_path):
    process = PlaygroundProcess(tmp_path, command="run").start()
    try:
        [line] = process.announcement.splitlines()
        assert line.startswith(f"Saydo playground: open {process.base_url} ")
        assert "no Slack credentials" in line
        page = requests.get(process.base_url + "/", timeout=10)
        assert page.status_code == 200
        assert "<title>Saydo playground</title>" in page.text
        assert (tmp_path / "saydo-playground.db").is_file()  # its own file, not saydo.db
        assert not (tmp_path / "saydo.db").exists()
    finally:
        assert process.stop() == 0


def test_run_with_only_some_credentials_still_says_what_is_missing(tmp_path):
    result = run_saydo("run", env={"SLACK_BOT_TOKEN": "xoxb-1"}, cwd=tmp_path)

    assert result.returncode == 2
    assert result.stderr.startswith("saydo: cannot connect to Slack: set SLACK_SIGNING_SECRET")
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_busy_port_is_one_clear_line(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_saydo("playground", "--port", str(port), env={}, cwd=tmp_path)

    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"saydo: port {port} is already in use; choose another with --port."
    )


def test_the_database_must_be_a_database_file(tmp_path):
    result = run_saydo("playground", "--database", "notes.txt", env={}, cwd=tmp_path)

    assert result.returncode == 2
    assert "must be a .db file" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_the_page_api_drives_saydo_and_shows_its_replies(playground):
    assert playground.post(
        "type", **{"as": ALICE, "in": cast.CHANNEL_ID, "text": "/commit send the figures by Friday"}
    ).json() == {"ok": True}

    state = playground.state(**{"as": ALICE, "in": cast.CHANNEL_ID})
    assert "send the figures" in saydo_said(state)
    assert state["me"]["organisation"] == "Northshire County Council"
    assert [e["label"] for e in state["sidebar"]] == ["#care-home-discharge", "Saydo"]

    moved = playground.post("advance", **{"as": ALICE, "by": "week"}).json()
    assert moved["ok"] and "messages sent" in moved["advanced"]
    dm = playground.state(**{"as": ALICE, "in": dm_id(ALICE)})
    assert "Mark delivered" in saydo_said(dm)


def test_the_api_refuses_bad_requests_with_a_clear_reason(playground):
    def error(response: requests.Response, status: int) -> str:
        assert response.status_code == status
        return response.json()["error"]

    assert "JSON" in error(
        requests.post(f"{playground.base_url}/api/type", data="as=U0ALICE", timeout=10), 400
    )
    assert "127.0.0.1 only" in error(
        requests.get(
            f"{playground.base_url}/api/state", headers={"Host": "evil.example"}, timeout=10
        ),
        403,
    )
    assert "No one in the playground" in error(
        playground.post("type", **{"as": "U0NOBODY", "in": cast.CHANNEL_ID, "text": "hi"}), 400
    )
    assert "Choose a date" in error(
        playground.post("advance", **{"as": ALICE, "to": "next tuesday-ish"}), 400
    )
    assert "only moves forward" in error(
        playground.post("advance", **{"as": ALICE, "to": "2020-01-01T09:00"}), 400
    )
    assert error(playground.post("nothing"), 404)


def test_restarting_keeps_the_world_and_reset_starts_afresh(tmp_path):
    database = str(tmp_path / "pg.db")
    with PlaygroundProcess(tmp_path, "--database", database) as first:
        first.post("type", **{"as": PRIYA, "in": cast.CHANNEL_ID, "text": "Morning all"})

    with PlaygroundProcess(tmp_path, "--database", database) as second:
        [message] = second.state(**{"as": ALICE})["messages"]
        assert "Morning all" in message["html"]
        assert message["organisation"] == "Kestrel Digital"

    with PlaygroundProcess(tmp_path, "--database", database, "--reset") as third:
        assert third.state(**{"as": ALICE})["messages"] == []


def test_saydo_answers_a_partners_mention_in_its_thread(playground):
    playground.post(
        "type",
        **{"as": PRIYA, "in": cast.CHANNEL_ID, "text": "@saydo I'll share the prototype by Friday"},
    )

    mention, answer = playground.state(**{"as": ALICE})["messages"]
    assert mention["author"] == "Priya Nair" and not mention["in_thread"]
    assert answer["author"] == "Saydo" and answer["in_thread"]
    assert "share the prototype" in answer["html"]


@pytest.mark.parametrize(
    ("database", "problem"),
    [
        ("missing/pg.db", "the folder for the playground's database does not exist"),
        ("garbage.db", "cannot use garbage.db as the playground's database: file is not a"),
    ],
)
def test_a_database_it_cannot_use_is_one_line_and_nothing_is_left_running(
    database, problem, tmp_path
):
    (tmp_path / "garbage.db").write_text("not a database, only words " * 100)

    result = run_saydo("playground", "--port", "0", "--database", database, env={}, cwd=tmp_path)

    assert result.returncode == 2  # run_saydo would time out if the process hung on
    assert result.stderr.startswith(f"saydo: {problem}")
    assert len(result.stderr.strip().splitlines()) == 1


def announced(tmp_path, *, terminal: bool, display: str | None) -> tuple[str, Path]:
    """Start the playground as from a terminal (or not) with a display (or none), with a
    stand-in browser that notes the address it was asked to open; its announcement."""
    opened = tmp_path / "opened.txt"
    browser = tmp_path / "browser.sh"
    browser.write_text(f'#!/bin/sh\necho "$1" > {opened}\n')
    browser.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env |= {"BROWSER": str(browser)} | ({"DISPLAY": display} if display else {})
    controller, stdout = pty.openpty() if terminal else (None, subprocess.DEVNULL)
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "playground", "--port", "0", "--database", "pg.db"],
        cwd=tmp_path,
        env=env,
        stdout=stdout,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = process.stderr.readline()
        if terminal:  # the browser starts in the background: wait for it, not for a time
            deadline = time.monotonic() + 30
            while not opened.exists() and time.monotonic() < deadline:
                time.sleep(0.1)
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
        if terminal:
            os.close(controller)
            os.close(stdout)
    return line, opened


def test_from_a_terminal_with_a_display_the_page_opens_in_the_browser(tmp_path):
    line, opened = announced(tmp_path, terminal=True, display=":0")

    address = re.search(r"http://127\.0\.0\.1:\d+", line)[0]
    assert line.startswith(f"Saydo playground: opening {address} in your browser")
    assert opened.read_text().strip() == address


@pytest.mark.parametrize(("terminal", "display"), [(False, ":0"), (True, None)])
def test_without_a_terminal_or_a_display_it_only_says_where(tmp_path, terminal, display):
    line, opened = announced(tmp_path, terminal=terminal, display=display)

    assert re.match(r"Saydo playground: open http://127\.0\.0\.1:\d+ \(", line)
    assert not opened.exists()


def test_seeding_a_quarter_shows_the_weeks_played_while_it_runs(playground):
    answers: list[requests.Response] = []
    seeding = threading.Thread(target=lambda: answers.append(playground.post("seed")))
    seeding.start()
    weeks_seen, version = [], -1
    while seeding.is_alive():  # the page's long poll: it answers when anything changes
        state = playground.state(**{"as": ALICE, "since": str(version)})
        version = state["version"]
        if state["seeding"] is not None:
            weeks_seen.append(state["seeding"]["week"])
    seeding.join()

    assert answers[0].json()["advanced"].startswith("Seeded a quarter")
    assert weeks_seen == sorted(weeks_seen) and weeks_seen[-1] > 0  # counting up, as played
    assert playground.state(**{"as": ALICE})["seeding"] is None


def test_sigterm_while_a_quarter_is_played_cuts_it_short_and_stops(tmp_path):
    process = PlaygroundProcess(tmp_path, "--database", str(tmp_path / "pg.db")).start()
    answers: list[requests.Response] = []
    seeding = threading.Thread(target=lambda: answers.append(process.post("seed")))
    seeding.start()
    version = -1
    while True:  # until a week has been played
        state = process.state(**{"as": ALICE, "since": str(version)})
        version = state["version"]
        if (state["seeding"] or {}).get("week"):
            break

    assert process.stop() == 0
    seeding.join()
    assert answers[0].json() == {"ok": False, "error": "The playground is stopping."}
