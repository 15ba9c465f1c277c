"""The `saydo` command line, run as a real process."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import uuid

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.databases import POSTGRES_ADMIN_URL
from tests.saydo_process import BOT_TOKEN, SIGNING_SECRET


def run_saydo(*args: str, env: dict[str, str], cwd) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DATABASE_"))}
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        env={**clean, **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_an_invalid_setting_stops_start_up_with_one_line(tmp_path):
    result = run_saydo("run", env={"PORT": "eighty"}, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip() == "saydo: PORT must be a number from 0 to 65535 (got 'eighty')."


def test_db_upgrade_migrates_a_new_database(database_url, tmp_path):
    result = run_saydo("db", "upgrade", env={"DATABASE_URL": database_url}, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "is at" in result.stdout


def test_db_upgrade_reports_an_unreachable_database_in_one_line(tmp_path):
    url = "postgresql+psycopg://nobody@127.0.0.1:1/none"
    result = run_saydo("db", "upgrade", env={"DATABASE_URL": url}, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith("saydo: database upgrade failed:")
    assert len(result.stderr.strip().splitlines()) == 1


def test_doctor_passes_every_check_against_a_working_setup(database_url, slack, tmp_path):
    env = {
        "DATABASE_URL": database_url,
        "SLACK_API_URL": slack.url,
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
    }
    result = run_saydo("doctor", env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stdout
    lines = result.stdout.strip().splitlines()
    assert [line.split(":")[0] for line in lines] == [
        "ok    configuration",
        "ok    database",
        "ok    migrations",
        "ok    slack",
    ]
    assert slack.calls_to("auth.test")[0].token == BOT_TOKEN
    assert BOT_TOKEN not in result.stdout


def test_doctor_reports_each_failure_and_exits_non_zero(slack, tmp_path):
    slack.fail("auth.test", error="invalid_auth")
    env = {
        "DATABASE_URL": f"sqlite:///{tmp_path}/new.db",
        "SLACK_API_URL": slack.url,
        "SLACK_BOT_TOKEN": BOT_TOKEN,
    }
    result = run_saydo("doctor", env=env, cwd=tmp_path)
    assert result.returncode == 1
    out = result.stdout
    assert "FAIL  configuration: missing SLACK_SIGNING_SECRET for HTTP mode" in out
    assert "ok    database: reachable" in out
    assert "FAIL  migrations: at nothing, newest is" in out
    assert "FAIL  slack: auth.test answered invalid_auth" in out


def test_socket_mode_uses_the_app_token_and_fails_clearly(slack, database_url, tmp_path):
    env = {
        "DATABASE_URL": database_url,
        "SLACK_API_URL": slack.url,
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_APP_TOKEN": "xapp-1-A0001-test",
        "PORT": "0",
    }
    result = run_saydo("run", "--no-scheduler", env=env, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1] == (
        "saydo: cannot connect to Slack in Socket Mode: invalid_auth "
        "(check SLACK_APP_TOKEN and SLACK_API_URL)."
    )
    assert "Traceback" not in result.stderr
    assert slack.calls_to("apps.connections.open")[0].token == "xapp-1-A0001-test"


def test_socket_mode_with_slack_unreachable_is_one_line_and_ends(database_url, tmp_path):
    env = {
        "DATABASE_URL": database_url,
        "SLACK_API_URL": "http://127.0.0.1:1/api/",
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_APP_TOKEN": "xapp-1-A0001-test",
        "PORT": "0",
        "LOG_LEVEL": "WARNING",
    }
    result = run_saydo("run", "--no-scheduler", env=env, cwd=tmp_path)  # times out if it hangs

    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    last = result.stderr.strip().splitlines()[-1]  # after the SDK's own log of each attempt
    assert last.startswith("saydo: cannot connect to Slack in Socket Mode: ")
    assert "Connection refused" in last


@pytest.fixture
def empty_database_url(backend, tmp_path):
    """A database of the test's backend that Saydo has never migrated."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path}/empty.db"
        return
    name = f"saydo_empty_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    yield make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    admin.dispose()


DATABASE_COMMANDS = [("export",), ("tick", "--dry-run"), ("schedule",), ("db", "upgrade")]


def assert_one_line(result: subprocess.CompletedProcess, starts: str) -> None:
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith(starts), result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize("command", DATABASE_COMMANDS)
@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("sqlite:////nonexistent/folder/saydo.db", "unable to open database file"),
        ("postgresql+psycopg://nobody@127.0.0.1:1/none", "Connection refused"),
    ],
)
def test_a_database_that_cannot_be_used_is_one_line_naming_it(command, url, problem, tmp_path):
    result = run_saydo(*command, env={"DATABASE_URL": url}, cwd=tmp_path)
    assert_one_line(result, "saydo: ")
    assert problem in result.stderr
    if command != ("db", "upgrade"):
        assert f"cannot use the database at {url}" in result.stderr


@pytest.mark.parametrize("command", [c for c in DATABASE_COMMANDS if c != ("db", "upgrade")])
def test_an_unmigrated_database_is_refused_with_what_to_do(command, empty_database_url, tmp_path):
    result = run_saydo(*command, env={"DATABASE_URL": empty_database_url}, cwd=tmp_path)
    assert_one_line(result, "saydo: the database needs migrating first: run `saydo db upgrade`.")


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        (("schedule", "--days", "many"), "saydo: argument --days: invalid int value: 'many'"),
        (("export", "--what", "secrets"), "saydo: argument --what: invalid choice: 'secrets'"),
        (("launch",), "saydo: argument COMMAND: invalid choice: 'launch'"),
        (("tick", "--now", "soon"), "saydo: --now must be an ISO-8601 instant"),
    ],
)
def test_a_mistyped_command_line_is_one_line(args, problem, tmp_path):
    assert_one_line(run_saydo(*args, env={}, cwd=tmp_path), problem)


def test_http_mode_on_a_busy_port_is_one_line(database_url, tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {
            "DATABASE_URL": database_url,
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "HOST": "127.0.0.1",
            "PORT": str(port),
            "LOG_LEVEL": "WARNING",
        }
        result = run_saydo("run", env=env, cwd=tmp_path)

    assert_one_line(
        result, f"saydo: port {port} is already in use; set PORT to another (PORT=0 picks"
    )
