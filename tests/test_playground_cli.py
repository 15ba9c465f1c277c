"""The playground as people start it: `saydo run` without credentials, `saydo playground`, and
the page's JSON API, on a real process."""

from __future__ import annotations

import socket

import pytest
import requests

from bot.playground import cast
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
