"""Configuration: defaults, `.env`, and one clear line for every bad value."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta

import pytest

from bot.config import ConfigError, load_settings


def settings_from(env: dict[str, str], tmp_path):
    return load_settings(env, dotenv_path=tmp_path / "absent.env")


def test_defaults_without_any_configuration(tmp_path):
    settings = settings_from({}, tmp_path)
    assert settings.database_url == "sqlite:///saydo.db"
    assert settings.slack_api_url == "https://slack.com/api/"
    assert (settings.host, settings.port, settings.log_level) == ("0.0.0.0", 3000, "INFO")
    assert settings.outbox_concurrency == 16
    assert not settings.has_credentials
    assert settings.missing_for_slack() == ["SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET"]


def test_app_token_selects_socket_mode_which_needs_no_signing_secret(tmp_path):
    settings = settings_from({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xapp-1"}, tmp_path)
    assert settings.socket_mode
    assert settings.missing_for_slack() == []


def test_app_credentials_select_oauth_which_needs_no_bot_token(tmp_path):
    settings = settings_from(
        {
            "SLACK_CLIENT_ID": "111.222",
            "SLACK_CLIENT_SECRET": "c0ffee",
            "SLACK_SIGNING_SECRET": "ab",
        },
        tmp_path,
    )
    assert settings.oauth and settings.has_credentials
    assert settings.missing_for_slack() == []
    assert "c0ffee" not in repr(settings)


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"SLACK_CLIENT_ID": "111.222"}, "SLACK_CLIENT_SECRET is not set"),
        ({"SLACK_CLIENT_SECRET": "c0ffee"}, "SLACK_CLIENT_ID is not set"),
        (
            {"SLACK_CLIENT_ID": "1.2", "SLACK_CLIENT_SECRET": "c", "SLACK_BOT_TOKEN": "xoxb-1"},
            "SLACK_BOT_TOKEN and SLACK_CLIENT_ID are both set",
        ),
        (
            {"SLACK_CLIENT_ID": "1.2", "SLACK_CLIENT_SECRET": "c", "SLACK_APP_TOKEN": "xapp-1"},
            "SLACK_APP_TOKEN and SLACK_CLIENT_ID are both set",
        ),
    ],
)
def test_incomplete_or_mixed_oauth_settings_are_refused_in_one_line(tmp_path, env, expected):
    with pytest.raises(ConfigError) as caught:
        settings_from(env, tmp_path)
    assert str(caught.value).startswith(expected)


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("SLACK_BOT_TOKEN", "xoxp-user-token", "SLACK_BOT_TOKEN must be a bot token"),
        ("SLACK_APP_TOKEN", "xoxb-not-app", "SLACK_APP_TOKEN must be an app-level token"),
        ("SLACK_SIGNING_SECRET", "not hex!", "SLACK_SIGNING_SECRET must be the hexadecimal"),
        ("DATABASE_URL", "not a url", "DATABASE_URL is not a database URL"),
        ("DATABASE_URL", "mysql://u@h/db", "DATABASE_URL uses 'mysql'"),
        (
            "DATABASE_URL",
            "postgresql+psycopg2://u@h/db",
            "DATABASE_URL must use the psycopg driver",
        ),
        ("SLACK_API_URL", "ftp://slack.example", "SLACK_API_URL must be an http(s) URL"),
        ("SLACK_API_URL", "slack.com/api", "SLACK_API_URL must be an http(s) URL"),
        ("PORT", "abc", "PORT must be a number from 0 to 65535"),
        ("PORT", "70000", "PORT must be a number from 0 to 65535"),
        ("LOG_LEVEL", "chatty", "LOG_LEVEL must be one of"),
        ("OUTBOX_CONCURRENCY", "0", "OUTBOX_CONCURRENCY must be a number from 1 to 16"),
        ("OUTBOX_CONCURRENCY", "lots", "OUTBOX_CONCURRENCY must be a number from 1 to 16"),
        ("WORKER_THREADS", "0", "WORKER_THREADS must be a number from 1 to 256"),
        ("FORM_THREADS", "lots", "FORM_THREADS must be a number from 1 to 256"),
        (
            "UNINSTALL_RETENTION_DAYS",
            "0",
            "UNINSTALL_RETENTION_DAYS must be a number from 1 to 3650",
        ),
        (
            "UNINSTALL_RETENTION_DAYS",
            "a month",
            "UNINSTALL_RETENTION_DAYS must be a number from 1 to 3650",
        ),
    ],
)
def test_invalid_values_name_the_variable_in_one_line(tmp_path, name, value, expected):
    with pytest.raises(ConfigError) as caught:
        settings_from({name: value}, tmp_path)
    assert str(caught.value).startswith(expected)
    assert "\n" not in str(caught.value)


def test_thread_pools_are_sized_from_the_environment(tmp_path):
    settings = settings_from({"WORKER_THREADS": "4", "FORM_THREADS": "2"}, tmp_path)
    assert (settings.worker_threads, settings.form_threads) == (4, 2)


def test_data_is_kept_thirty_days_after_an_uninstall_unless_told_otherwise(tmp_path):
    assert settings_from({}, tmp_path).uninstall_retention == timedelta(days=30)
    assert settings_from({"UNINSTALL_RETENTION_DAYS": "7"}, tmp_path).uninstall_retention == (
        timedelta(days=7)
    )


def test_a_wrong_token_is_not_echoed_in_full(tmp_path):
    with pytest.raises(ConfigError) as caught:
        settings_from({"SLACK_BOT_TOKEN": "xoxp-1234567890-secret-part"}, tmp_path)
    assert "secret-part" not in str(caught.value)


def test_plain_postgresql_urls_use_psycopg3(tmp_path):
    settings = settings_from({"DATABASE_URL": "postgresql://saydo:pw@db/saydo"}, tmp_path)
    assert settings.database_url == "postgresql+psycopg://saydo:pw@db/saydo"
    assert "pw" not in settings.redacted_database_url()


def test_dotenv_file_is_read_and_the_environment_wins(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text("PORT=4000\nLOG_LEVEL=debug\nSLACK_BOT_TOKEN=xoxb-from-file\n")
    settings = load_settings({"PORT": "5000"}, dotenv_path=env_file)
    assert settings.port == 5000
    assert settings.log_level == "DEBUG"
    assert settings.bot_token == "xoxb-from-file"


def test_secrets_are_not_in_the_settings_repr(tmp_path):
    settings = settings_from(
        {"SLACK_BOT_TOKEN": "xoxb-top-secret", "SLACK_SIGNING_SECRET": "abcdef0123"}, tmp_path
    )
    assert "top-secret" not in repr(settings)
    assert "abcdef0123" not in repr(settings)


SCHEDULER_RUNS_ONE_JOB = """
import threading
from bot.config import configure_logging, load_settings
from scheduler import Sweep, build_scheduler

configure_logging(load_settings())
ran = threading.Event()
scheduler = build_scheduler((Sweep("probe", ran.set, 15),))
scheduler.start()
assert ran.wait(30)
scheduler.shutdown(wait=True)
"""


@pytest.mark.parametrize(("level", "chatty"), [("INFO", False), ("DEBUG", True)])
def test_the_schedulers_routine_lines_show_only_when_debugging(level, chatty, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DATABASE_"))}
    result = subprocess.run(
        [sys.executable, "-c", SCHEDULER_RUNS_ONE_JOB],
        env={**env, "LOG_LEVEL": level},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert ('Running job "' in result.stderr) is chatty, result.stderr
    assert ("apscheduler" in result.stderr) is chatty
