"""The `saydo` command line: run, db upgrade, doctor, export, tick, schedule."""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

from slack_sdk.errors import SlackApiError, SlackTokenRotationError
from sqlalchemy.exc import SQLAlchemyError

from bot.config import CREDENTIALS_HELP, ConfigError, Settings, configure_logging, load_settings
from storage import clock
from storage.db import database_problem

EXIT_USAGE = 2
DETAIL = " " * 6  # a check's further lines, under its first
WITHOUT_AN_INSTALLATION = (
    "Where an organisation has not installed Saydo, its people mention @saydo in the shared "
    "channel (no slash commands, shortcuts or Home tab for them) and get their nudges as "
    "private messages in the channel instead of DMs."
)
_SLACK_ID = re.compile(r"[A-Z][A-Z0-9]{2,31}")


def main(argv: Sequence[str] | None = None) -> int:
    """Every failure a user can cause (a bad option or setting, a database that cannot be
    opened, reached or is not migrated, a busy port) is one line on stderr and exit 2."""
    args = _parser().parse_args(argv)
    try:
        settings = load_settings()
    except ConfigError as error:
        return _refuse(str(error))
    # `run` logs at LOG_LEVEL; one-shot commands print their own results and log only problems.
    configure_logging(settings, quiet=args.handler is not _run)
    try:
        return args.handler(settings, args)
    except ConfigError as error:
        return _refuse(str(error))
    except SQLAlchemyError as error:
        return _refuse(
            f"cannot use the database at {settings.redacted_database_url()}: "
            f"{database_problem(error)}"
        )


def _refuse(problem: str) -> int:
    print(f"saydo: {problem}", file=sys.stderr)
    return EXIT_USAGE


class _Parser(argparse.ArgumentParser):
    """argparse, with its usage errors as one line like every other refusal."""

    def error(self, message: str):
        self.exit(EXIT_USAGE, f"saydo: {message} (see `{self.prog} --help`).\n")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="saydo", description="Saydo: commitments kept, visibly and kindly, in Slack."
    )
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    run = commands.add_parser(
        "run",
        help="migrate the database, start the scheduler, serve Slack (without Slack "
        "credentials: the playground)",
    )
    run.add_argument("--no-scheduler", action="store_true", help="leave the scheduler out")
    _playground_options(run, prefix="without Slack credentials: ")
    run.set_defaults(handler=_run)

    playground = commands.add_parser(
        "playground",
        help="try Saydo in a browser, with Slack simulated locally (no Slack account needed)",
        description="Serve the playground on http://127.0.0.1:PORT: a simulated Slack workspace "
        "with a partnership channel, each member's DM with Saydo and the Home tab, driving the "
        "real Saydo, with a clock you can move on. Its data is kept in its own database file.",
    )
    _playground_options(playground)
    playground.set_defaults(handler=_playground)

    db = commands.add_parser("db", help="database maintenance")
    db_commands = db.add_subparsers(required=True, metavar="ACTION")
    db_commands.add_parser("upgrade", help="apply pending migrations").set_defaults(
        handler=_db_upgrade
    )

    commands.add_parser(
        "doctor", help="check configuration, database, migrations and Slack"
    ).set_defaults(handler=_doctor)

    export = commands.add_parser(
        "export",
        help="write every commitment as CSV or JSON to standard output",
        description="Write every commitment, one row each, to standard output. Times are "
        "ISO-8601 UTC; kept is true, false (late or missed) or empty (pending, not counted).",
    )
    export.add_argument(
        "--format", choices=("csv", "json"), default="csv", help="output format (default: csv)"
    )
    export.add_argument(
        "--channel",
        action="append",
        default=[],
        metavar="CHANNEL_ID",
        help="only this partnership channel (repeat for more)",
    )
    export.add_argument(
        "--since", metavar="DATE", help="only records created on or after this ISO date (UTC)"
    )
    export.add_argument(
        "--what",
        choices=(
            "commitments",
            "reviews",
            "lessons",
            "coffee",
            "objectives",
            "measurements",
            "costs",
        ),
        default="commitments",
        help="what to export: commitments (default), review records, lessons, coffee pairings, "
        "objectives, their measurements, or spend against the cost ledger",
    )
    export.set_defaults(handler=_export)

    tick = commands.add_parser(
        "tick",
        help="run every sweep once as of an instant and print what was sent",
        description="Run every scheduled sweep once, through the same code as `saydo run`, "
        "and print one line per message sent (or, with --dry-run, that would be sent).",
    )
    tick.add_argument(
        "--now",
        metavar="ISO-8601",
        help="the instant to sweep as of (default: now; no offset = UTC)",
    )
    tick.add_argument("--dry-run", action="store_true", help="send nothing and change nothing")
    tick.set_defaults(handler=_tick)

    forget = commands.add_parser(
        "forget",
        help="erase a person's (or a workspace's) personal data, keeping the counts (see "
        "README 'Data and privacy')",
        description="Replace a person (--user), or everyone of a workspace (--team alone), by "
        "a tombstone: their name, Slack id and profile copy, and the free text they wrote, are "
        "erased; every count and ratio stays. Prints what changed; running it again changes "
        "nothing.",
    )
    forget.add_argument("--user", metavar="USER_ID", help="their Slack user id")
    forget.add_argument(
        "--team",
        metavar="TEAM_ID",
        help="with --user: only in this workspace (default: in every workspace); alone: "
        "everyone of this workspace, and its installations of Saydo",
    )
    forget.set_defaults(handler=_forget)

    schedule = commands.add_parser("schedule", help="what Saydo will send in the next days")
    schedule.add_argument("--days", type=int, default=7, help="how far ahead (default: 7)")
    schedule.add_argument(
        "--channel",
        action="append",
        default=[],
        metavar="ID",
        help="only messages to this channel or person (repeat for more)",
    )
    schedule.set_defaults(handler=_schedule)
    return parser


def _playground_options(parser: argparse.ArgumentParser, *, prefix: str = "") -> None:
    from bot.playground.serve import DEFAULT_DATABASE, DEFAULT_PORT

    parser.add_argument(
        "--port",
        type=int,
        default=DEFAULT_PORT,
        help=f"{prefix}the playground's port on 127.0.0.1 (default: {DEFAULT_PORT})",
    )
    parser.add_argument(
        "--database",
        type=Path,
        default=DEFAULT_DATABASE,
        metavar="FILE",
        help=f"{prefix}the playground's own SQLite file (default: {DEFAULT_DATABASE})",
    )
    parser.add_argument("--reset", action="store_true", help=f"{prefix}start the playground afresh")


def _playground(settings: Settings, args: argparse.Namespace, *, why: str = "") -> int:
    from bot.playground import serve

    if not 0 <= args.port <= 65535:
        raise ConfigError(f"--port must be from 0 to 65535 (got {args.port}).")
    return serve.run(args.database, port=args.port, fresh=args.reset, why=why)


def _run(settings: Settings, args: argparse.Namespace) -> int:
    if not settings.has_credentials:
        return _playground(settings, args, why="no Slack credentials are set, so ")
    missing = settings.missing_for_slack()
    if missing:
        raise ConfigError(
            f"cannot connect to Slack: set {' and '.join(missing)} "
            f"(see {CREDENTIALS_HELP}; set SLACK_APP_TOKEN too for Socket Mode)."
        )
    from bot import runner as service

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
    except SQLAlchemyError as error:
        return _refuse(f"database upgrade failed: {database_problem(error)}")
    finally:
        engine.dispose()
    return 0


def _doctor(settings: Settings, _args: argparse.Namespace) -> int:
    from bot.erasure import pending_erasures
    from bot.installations import Routes, coverage, installed
    from bot.slack_client import build_web_client
    from storage import migrate
    from storage.db import create_db_engine, ping

    engine = create_db_engine(settings.database_url)
    mode = (
        "Socket Mode"
        if settings.socket_mode
        else "HTTP mode, installed through OAuth"
        if settings.oauth
        else "HTTP mode"
    )
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
        if settings.oauth:
            return installations()
        if not settings.bot_token:
            raise RuntimeError("SLACK_BOT_TOKEN is not set")
        try:
            result = build_web_client(settings).auth_test()
        except SlackApiError as error:
            raise RuntimeError(f"auth.test answered {error.response.get('error')}") from None
        return f"auth.test ok: {result['user']} in {result['team']} ({result['team_id']})"

    def installations() -> str:
        known = installed(settings, engine)
        if not known:
            return "no workspace has installed Saydo yet (open /slack/install)"
        lines, refused = [], False
        routes = Routes(settings, engine)
        for each in known:
            try:
                token = routes.fresh_token(each.team_id) if each.team_id else each.bot_token
                build_web_client(settings, token=token or each.bot_token).auth_test()
                lines.append(f"{each.describe()}: auth.test ok")
            except SlackTokenRotationError as error:
                refused = True
                lines.append(f"{each.describe()}: the token could not be refreshed ({error})")
            except SlackApiError as error:
                refused = True
                lines.append(f"{each.describe()}: auth.test answered {error.response.get('error')}")
        report = f"{len(known)} installation(s): " + "; ".join(lines)
        if refused:
            raise RuntimeError(report)
        return report

    def partnerships() -> str:
        listed = coverage(settings, engine)
        if not listed:
            return "none yet (a channel becomes one at its first /commit or @saydo)"
        missing = sum(any(not w.installed for w in each.workspaces) for each in listed)
        lines = [
            f"{len(listed)} partnership(s), {missing} with organisations that have not "
            "installed Saydo",
            *(each.describe() for each in listed),
        ]
        if missing:
            lines.append(WITHOUT_AN_INSTALLATION)
        return f"\n{DETAIL}".join(lines)

    def erasure() -> str:
        retention = settings.uninstall_retention
        waiting = pending_erasures(engine, retention=retention)
        kept = f"data kept {retention.days} day(s) after an uninstall (UNINSTALL_RETENTION_DAYS)"
        if not waiting:
            return f"{kept}; no workspace is waiting to be erased"
        return f"\n{DETAIL}".join(
            [f"{kept}; {len(waiting)} workspace(s) waiting to be erased"]
            + [
                f"{each.team_id}: uninstalled Saydo on {each.uninstalled_at:%Y-%m-%d}, its "
                f"people's data is erased from {each.erase_at:%Y-%m-%d %H:%M} UTC"
                for each in waiting
            ]
        )

    checks: list[tuple[str, Callable[[], str]]] = [
        ("configuration", configuration),
        ("database", database),
        ("migrations", migrations),
        ("slack", slack),
    ]
    if settings.oauth:
        checks += [("partnerships", partnerships), ("erasure", erasure)]
    failures = 0
    for name, check in checks:
        try:
            print(f"ok    {name}: {check()}")
        except SQLAlchemyError as error:
            failures += 1
            print(f"FAIL  {name}: {database_problem(error)}")
        except Exception as error:  # noqa: BLE001  (each check reports its own failure)
            failures += 1
            print(f"FAIL  {name}: {_one_line(error)}")
    engine.dispose()
    return 1 if failures else 0


def _forget(settings: Settings, args: argparse.Namespace) -> int:
    from bot.erasure import forget, forget_team

    if args.user is None and args.team is None:
        raise ConfigError(
            "say whom to erase: --user USER_ID (a person), --team TEAM_ID (a workspace), or both."
        )
    given = [value for value in (args.user, args.team) if value is not None]
    if not all(_SLACK_ID.fullmatch(value) for value in given):
        raise ConfigError("--user and --team take Slack ids such as U0123ABCD and T0123ABCD.")
    engine = _migrated_engine(settings)
    try:
        if args.user is None:
            erased = forget_team(engine, team_id=args.team, now=clock.now())
        else:
            erased = forget(engine, user_id=args.user, team_id=args.team)
    finally:
        engine.dispose()
    if args.user is None:
        whose = f"workspace {args.team}"
    else:
        whose = args.user + (f" in {args.team}" if args.team else "")
    if not erased.lines():
        print(f"No personal data of {whose} is kept: nothing to erase.")
    for line in erased.lines():
        print(line)
    return 0


def _export(settings: Settings, args: argparse.Namespace) -> int:
    from bot.reports.export import ExportError, export, parse_since

    try:
        since = parse_since(args.since) if args.since is not None else None
    except ExportError as error:
        return _refuse(str(error))
    engine = _migrated_engine(settings)
    try:
        export(
            engine,
            sys.stdout,
            fmt=args.format,
            channels=args.channel,
            since=since,
            what=args.what,
        )
        sys.stdout.flush()
    except BrokenPipeError:  # `saydo export | head`: the reader has all it wanted
        _silence_stdout()
    finally:
        engine.dispose()
    return 0


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush does not fail again."""
    import os

    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


def _instant(text: str | None) -> datetime:
    """`--now`: ISO-8601, UTC when it has no offset; one clear line when unreadable."""
    if text is None:
        return clock.now()
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ConfigError(
            f"--now must be an ISO-8601 instant such as 2026-12-01T09:00Z (got '{text}')."
        ) from None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _migrated_engine(settings: Settings):
    """The database engine, refusing (one line) a database whose schema is not current."""
    from storage import migrate
    from storage.db import create_db_engine

    engine = create_db_engine(settings.database_url)
    try:
        current = migrate.current_revision(engine)
    finally:
        engine.dispose()  # the pool is rebuilt on next use
    if current != migrate.head_revision(engine):
        raise ConfigError("the database needs migrating first: run `saydo db upgrade`.")
    return engine


def _tick(settings: Settings, args: argparse.Namespace) -> int:
    from bot.erasure import pending_erasures
    from bot.installations import router_for
    from bot.slack_client import build_web_client
    from scheduler.jobs import build_sweeper, erase_uninstalled, run_sweeps

    now = _instant(args.now)
    if not args.dry_run and not (settings.bot_token or settings.oauth):
        raise ConfigError(
            "sending needs SLACK_BOT_TOKEN, or SLACK_CLIENT_ID and SLACK_CLIENT_SECRET "
            "(or use --dry-run)."
        )
    retention = settings.uninstall_retention
    engine = _migrated_engine(settings)
    try:
        if args.dry_run:
            erased = [
                f"Would erase workspace {each.team_id} (uninstalled Saydo on "
                f"{each.uninstalled_at:%Y-%m-%d})."
                for each in pending_erasures(engine, retention=retention)
                if each.erase_at <= now
            ]
        else:  # run_sweeps erases them too; done first here to say what it erased
            erased = erase_uninstalled(engine, now=now, retention=retention)
        reports = run_sweeps(
            build_sweeper(
                engine,
                build_web_client(settings),
                concurrency=settings.outbox_concurrency,
                router=router_for(settings, engine),
            ),
            now=now,
            dry_run=args.dry_run,
            retention=retention,
        )
    finally:
        engine.dispose()
    for line in erased:
        print(line)
    for report in reports:
        print(report.line())
    if not (reports or erased):
        print(f"Nothing due at {now:%Y-%m-%dT%H:%MZ}.")
    return 0


def _schedule(settings: Settings, args: argparse.Namespace) -> int:
    from bot.outbox.upcoming import schedule_table, upcoming

    if not 1 <= args.days <= 366:
        raise ConfigError(f"--days must be from 1 to 366 (got {args.days}).")
    engine = _migrated_engine(settings)
    try:
        rows = upcoming(engine, now=clock.now(), days=args.days, channels=args.channel)
    finally:
        engine.dispose()
    print(schedule_table(rows))
    return 0


def _one_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__


if __name__ == "__main__":
    sys.exit(main())
