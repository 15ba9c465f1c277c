"""Settings in one place: read from the environment (and `.env` in the working directory).

Every problem is reported as a `ConfigError` whose message is one line naming the variable,
so `saydo` can print it and stop. Secrets are never included in messages or `repr`.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlparse

from dotenv import dotenv_values
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

DEFAULT_DATABASE_URL = "sqlite:///saydo.db"
DEFAULT_SLACK_API_URL = "https://slack.com/api/"
DEFAULT_OUTBOX_CONCURRENCY = 16  # at 150 ms a post, up to ~100 posts a second
MAX_OUTBOX_CONCURRENCY = 16  # each sender may hold one of the 20 pooled connections
DEFAULT_WORKER_THREADS = 32
DEFAULT_FORM_THREADS = 64
MAX_THREADS = 256
DEFAULT_UNINSTALL_RETENTION_DAYS = 30
MAX_UNINSTALL_RETENTION_DAYS = 3650
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
CREDENTIALS_HELP = "README.md, section 'Create the Slack app'"


class ConfigError(ValueError):
    """A configuration value is missing or invalid; the message names the variable."""


@dataclass(frozen=True)
class Settings:
    bot_token: str | None = field(default=None, repr=False)
    signing_secret: str | None = field(default=None, repr=False)
    app_token: str | None = field(default=None, repr=False)
    # Set both to let workspaces install Saydo through Slack's OAuth flow (HTTP mode).
    client_id: str | None = None
    client_secret: str | None = field(default=None, repr=False)
    database_url: str = DEFAULT_DATABASE_URL
    slack_api_url: str = DEFAULT_SLACK_API_URL
    host: str = "0.0.0.0"
    port: int = 3000
    log_level: str = "INFO"
    outbox_concurrency: int = DEFAULT_OUTBOX_CONCURRENCY
    # Threads for listeners' work after the acknowledgement (see handlers.common.Workers).
    worker_threads: int = DEFAULT_WORKER_THREADS
    form_threads: int = DEFAULT_FORM_THREADS
    # OAuth mode: days after a workspace uninstalls Saydo until its people's data is erased.
    uninstall_retention_days: int = DEFAULT_UNINSTALL_RETENTION_DAYS

    @property
    def socket_mode(self) -> bool:
        return self.app_token is not None

    @property
    def oauth(self) -> bool:
        """Workspaces install Saydo through OAuth; each request uses its workspace's token."""
        return self.client_id is not None

    @property
    def uninstall_retention(self) -> timedelta:
        return timedelta(days=self.uninstall_retention_days)

    @property
    def has_credentials(self) -> bool:
        return any((self.bot_token, self.signing_secret, self.app_token, self.client_id))

    def missing_for_slack(self) -> list[str]:
        """Variables still needed to connect in the mode these settings select."""
        missing = [] if self.bot_token or self.oauth else ["SLACK_BOT_TOKEN"]
        if not self.socket_mode and not self.signing_secret:
            missing.append("SLACK_SIGNING_SECRET")
        return missing

    def redacted_database_url(self) -> str:
        return make_url(self.database_url).render_as_string(hide_password=True)


def load_settings(
    environ: Mapping[str, str] | None = None, *, dotenv_path: Path | None = None
) -> Settings:
    """Build settings from `environ` (default: the process environment) over `.env` values.

    Real environment variables win over the `.env` file, as with docker and most twelve-factor
    tools. Empty values count as unset.
    """
    env_file = dotenv_path if dotenv_path is not None else Path.cwd() / ".env"
    values: dict[str, str] = {}
    if env_file.is_file():
        values.update({k: v for k, v in dotenv_values(env_file).items() if v is not None})
    values.update(os.environ if environ is None else environ)

    def get(name: str) -> str | None:
        value = values.get(name, "").strip()
        return value or None

    bot_token = _token(get("SLACK_BOT_TOKEN"), "SLACK_BOT_TOKEN", "xoxb-", "a bot token")
    app_token = _token(get("SLACK_APP_TOKEN"), "SLACK_APP_TOKEN", "xapp-", "an app-level token")
    client_id, client_secret = get("SLACK_CLIENT_ID"), get("SLACK_CLIENT_SECRET")
    _check_oauth(client_id, client_secret, bot_token=bot_token, app_token=app_token)
    return Settings(
        client_id=client_id,
        client_secret=client_secret,
        bot_token=bot_token,
        signing_secret=_signing_secret(get("SLACK_SIGNING_SECRET")),
        app_token=app_token,
        database_url=_database_url(get("DATABASE_URL") or DEFAULT_DATABASE_URL),
        slack_api_url=_slack_api_url(get("SLACK_API_URL") or DEFAULT_SLACK_API_URL),
        host=get("HOST") or "0.0.0.0",
        port=_port(get("PORT") or "3000"),
        log_level=_log_level(get("LOG_LEVEL") or "INFO"),
        outbox_concurrency=_count(
            get("OUTBOX_CONCURRENCY"),
            "OUTBOX_CONCURRENCY",
            DEFAULT_OUTBOX_CONCURRENCY,
            maximum=MAX_OUTBOX_CONCURRENCY,
        ),
        worker_threads=_count(
            get("WORKER_THREADS"), "WORKER_THREADS", DEFAULT_WORKER_THREADS, maximum=MAX_THREADS
        ),
        form_threads=_count(
            get("FORM_THREADS"), "FORM_THREADS", DEFAULT_FORM_THREADS, maximum=MAX_THREADS
        ),
        uninstall_retention_days=_count(
            get("UNINSTALL_RETENTION_DAYS"),
            "UNINSTALL_RETENTION_DAYS",
            DEFAULT_UNINSTALL_RETENTION_DAYS,
            maximum=MAX_UNINSTALL_RETENTION_DAYS,
        ),
    )


def _token(value: str | None, name: str, prefix: str, kind: str) -> str | None:
    if value is not None and not value.startswith(prefix):
        shown = value[:5] if len(value) > 5 else "a value"
        raise ConfigError(
            f"{name} must be {kind} starting with '{prefix}' (got one starting with '{shown}')."
        )
    return value


def _check_oauth(
    client_id: str | None,
    client_secret: str | None,
    *,
    bot_token: str | None,
    app_token: str | None,
) -> None:
    """OAuth needs both app credentials, HTTP mode, and no single workspace's token."""
    if client_id is None and client_secret is None:
        return
    if client_id is None or client_secret is None:
        missing = "SLACK_CLIENT_ID" if client_id is None else "SLACK_CLIENT_SECRET"
        raise ConfigError(
            f"{missing} is not set: installing through OAuth needs both SLACK_CLIENT_ID and "
            "SLACK_CLIENT_SECRET (Basic Information page)."
        )
    if bot_token is not None:
        raise ConfigError(
            "SLACK_BOT_TOKEN and SLACK_CLIENT_ID are both set: use one workspace's token or "
            "install through OAuth, not both."
        )
    if app_token is not None:
        raise ConfigError(
            "SLACK_APP_TOKEN and SLACK_CLIENT_ID are both set: installing through OAuth "
            "needs HTTP mode; unset SLACK_APP_TOKEN."
        )


def _signing_secret(value: str | None) -> str | None:
    if value is not None and not all(c in "0123456789abcdefABCDEF" for c in value):
        raise ConfigError(
            "SLACK_SIGNING_SECRET must be the hexadecimal signing secret from your app's "
            "Basic Information page."
        )
    return value


def _database_url(value: str) -> str:
    try:
        url = make_url(value)
    except ArgumentError:
        raise ConfigError(
            "DATABASE_URL is not a database URL; use e.g. sqlite:///saydo.db or "
            "postgresql+psycopg://user@host/db."
        ) from None
    backend = url.get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise ConfigError(
            f"DATABASE_URL uses '{backend}', but Saydo supports sqlite and postgresql only."
        )
    if backend == "postgresql" and url.drivername == "postgresql":
        # SQLAlchemy's default PostgreSQL driver is psycopg2; Saydo ships psycopg 3.
        url = url.set(drivername="postgresql+psycopg")
    elif backend == "postgresql" and url.drivername != "postgresql+psycopg":
        raise ConfigError("DATABASE_URL must use the psycopg driver: postgresql+psycopg://...")
    return url.render_as_string(hide_password=False)


def _slack_api_url(value: str) -> str:
    parsed = urlparse(value)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise ConfigError(
            f"SLACK_API_URL must be an http(s) URL such as https://slack.com/api/ (got '{value}')."
        )
    return value if value.endswith("/") else value + "/"


def _port(value: str) -> int:
    if not value.isdigit() or int(value) > 65535:
        raise ConfigError(f"PORT must be a number from 0 to 65535 (got '{value}').")
    return int(value)


def _count(value: str | None, name: str, default: int, *, maximum: int) -> int:
    """A count (threads, senders, days) from 1 to `maximum`; `default` when unset."""
    if value is None or value == "":
        return default
    if not value.isdigit() or not 1 <= int(value) <= maximum:
        raise ConfigError(f"{name} must be a number from 1 to {maximum} (got '{value}').")
    return int(value)


def _log_level(value: str) -> str:
    level = value.upper()
    if level not in LOG_LEVELS:
        raise ConfigError(f"LOG_LEVEL must be one of {', '.join(LOG_LEVELS)} (got '{value}').")
    return level


def configure_logging(settings: Settings, *, quiet: bool = False) -> None:
    """Saydo's lines at LOG_LEVEL; libraries' routine chatter only when debugging."""
    logging.basicConfig(
        level="WARNING" if quiet else settings.log_level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        force=True,
    )
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    # APScheduler logs two INFO lines for every run of every job (every 15 seconds).
    logging.getLogger("apscheduler").setLevel(
        logging.DEBUG if settings.log_level == "DEBUG" else logging.WARNING
    )
