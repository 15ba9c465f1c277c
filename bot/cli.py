"""The `saydo` command line: run, db upgrade, doctor."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from slack_sdk.errors import SlackApiError

from bot.config import CREDENTIALS_HELP, ConfigError, Settings, configure_logging, load_settings

EXIT_USAGE = 2


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = load_settings()
    except ConfigError as error:
        print(f"saydo: {error}", file=sys.stderr)
        return EXIT_USAGE
    # `run` logs at LOG_LEVEL; one-shot commands print their own results and log only problems.
    configure_logging(settings, quiet=args.handler is not _run)
    return args.handler(settings, args)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="saydo", description="Saydo: commitments kept, visibly and kindly, in Slack."
    )
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    run = commands.add_parser("run", help="migrate the database, start the scheduler, serve Slack")
    run.add_argument("--no-scheduler", action="store_true", help="leave the scheduler out")
    run.set_defaults(handler=_run)

    db = commands.add_parser("db", help="database maintenance")
    db_commands = db.add_subparsers(required=True, metavar="ACTION")
    db_commands.add_parser("upgrade", help="apply pending migrations").set_defaults(
        handler=_db_upgrade
    )

    commands.add_parser(
        "doctor", help="check configuration, database, migrations and Slack"
    ).set_defaults(handler=_doctor)
    return parser


def _run(settings: Settings, args: argparse.Namespace) -> int:
    missing = settings.missing_for_slack()
    if missing:
        print(
            f"saydo: cannot connect to Slack: set {' and '.join(missing)} "
            f"(see {CREDENTIALS_HELP}; set SLACK_APP_TOKEN too for Socket Mode).",
            file=sys.stderr,
        )
        return EXIT_USAGE
    from bot import service

    return service.run(settings, with_scheduler=not args.no_scheduler)


def _db_upgrade(settings: Settings, _args: argparse.Namespace) -> int:
    from storage import migrate
    from storage.db import create_db_engine

    engine = create_db_engine(settings.database_url)
    try:
        migrate.upgrade(engine)
        print(
            f"Database at {settings.redacted_database_url()} is at {migrate.head_revision(engine)}."
        )
    except Exception as error:  # noqa: BLE001  (one line for the operator, not a traceback)
        print(f"saydo: database upgrade failed: {_one_line(error)}", file=sys.stderr)
        return 1
    finally:
        engine.dispose()
    return 0


def _doctor(settings: Settings, _args: argparse.Namespace) -> int:
    from bot.slack_client import build_web_client
    from storage import migrate
    from storage.db import create_db_engine, ping

    engine = create_db_engine(settings.database_url)
    mode = "Socket Mode" if settings.socket_mode else "HTTP mode"
    missing = settings.missing_for_slack()

    def configuration() -> str:
        if missing:
            raise RuntimeError(f"missing {', '.join(missing)} for {mode}")
        return f"{mode}, database {settings.redacted_database_url()}"

    def database() -> str:
        ping(engine)
        return "reachable"

    def migrations() -> str:
        current, head = migrate.current_revision(engine), migrate.head_revision(engine)
        if current != head:
            raise RuntimeError(
                f"at {current or 'nothing'}, newest is {head}: run `saydo db upgrade`"
            )
        return f"up to date ({head})"

    def slack() -> str:
        if not settings.bot_token:
            raise RuntimeError("SLACK_BOT_TOKEN is not set")
        try:
            result = build_web_client(settings).auth_test()
        except SlackApiError as error:
            raise RuntimeError(f"auth.test answered {error.response.get('error')}") from None
        return f"auth.test ok: {result['user']} in {result['team']} ({result['team_id']})"

    checks: list[tuple[str, Callable[[], str]]] = [
        ("configuration", configuration),
        ("database", database),
        ("migrations", migrations),
        ("slack", slack),
    ]
    failures = 0
    for name, check in checks:
        try:
            print(f"ok    {name}: {check()}")
        except Exception as error:  # noqa: BLE001  (each check reports its own failure)
            failures += 1
            print(f"FAIL  {name}: {_one_line(error)}")
    engine.dispose()
    return 1 if failures else 0


def _one_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__


if __name__ == "__main__":
    sys.exit(main())
