"""The `saydo` command line, run as a real process."""

from __future__ import annotations

import os
import subprocess
import sys

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
    assert result.returncode == 1
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
    assert result.returncode == 1
    assert "Socket Mode connection failed: invalid_auth" in result.stderr
    assert slack.calls_to("apps.connections.open")[0].token == "xapp-1-A0001-test"
