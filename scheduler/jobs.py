"""The sweeps Saydo runs: one code path for the running scheduler and `saydo tick`."""

from __future__ import annotations

import functools
import logging
from datetime import datetime, timedelta

from slack_sdk import WebClient
from sqlalchemy import Engine

from bot import erasure
from bot.coffee import service as coffee
from bot.config import DEFAULT_OUTBOX_CONCURRENCY, DEFAULT_UNINSTALL_RETENTION_DAYS
from bot.objectives import sweeps as objective_sweeps
from bot.outbox.sending import Report, Router, Sweeper, worker_name
from bot.partnerships.members import refresh_all_members, shared_channels
from bot.reports import reviews, summaries
from bot.slack_client import directories
from scheduler import Sweep
from scheduler.renderers import RENDERERS
from storage import clock
from storage.events import forget_old_claims

logger = logging.getLogger(__name__)

OUTBOX_SWEEP_SECONDS = 15
DEFAULT_RETENTION = timedelta(days=DEFAULT_UNINSTALL_RETENTION_DAYS)
MEMBERS_REFRESH_SECONDS = 6 * 60 * 60
CLAIMS_SWEEP_SECONDS = 60 * 60

# Planning sweeps, by stable id: run before the outbox sweep by `run_sweeps` (so by the
# scheduler's "outbox" job and `saydo tick --now`); each enqueues slots as of `now`.
PLANNERS = {
    "reviews": reviews.plan,
    "summaries": summaries.plan,
    "coffee": coffee.plan,
    "objectives": objective_sweeps.plan,
    "pack_charts": reviews.plan_pack_charts,
}


def build_sweeper(
    engine: Engine,
    client: WebClient,
    *,
    concurrency: int = DEFAULT_OUTBOX_CONCURRENCY,
    router: Router | None = None,
) -> Sweeper:
    return Sweeper(
        engine=engine,
        client=client,
        router=router,
        shared_channels=functools.partial(shared_channels, engine),
        renderers=RENDERERS,
        worker=worker_name(),
        concurrency=concurrency,
    )


def run_sweeps(
    sweeper: Sweeper,
    *,
    now: datetime,
    dry_run: bool = False,
    retention: timedelta = DEFAULT_RETENTION,
) -> list[Report]:
    """Every sweep once, as of `now`: the planners, the erasure of workspaces that uninstalled
    Saydo at least `retention` ago, then the outbox."""
    if not dry_run:  # planning sweeps only enqueue (idempotent slot keys); the outbox sends
        for plan in PLANNERS.values():
            plan(sweeper.engine, now=now)
        erase_uninstalled(sweeper.engine, now=now, retention=retention)
    return sweeper.sweep(now=now, dry_run=dry_run)


def erase_uninstalled(engine: Engine, *, now: datetime, retention: timedelta) -> list[str]:
    """The retention sweep (`bot.erasure.erase_uninstalled`); one line per workspace erased,
    also logged."""
    lines = [
        f"Erased workspace {team_id}, {retention.days} day(s) after it uninstalled Saydo: "
        + ("; ".join(erased.lines()) or "nothing was kept")
        for team_id, erased in erasure.erase_uninstalled(engine, now=now, retention=retention)
    ]
    for line in lines:
        logger.info(line)
    return lines


def scheduled(sweeper: Sweeper, *, retention: timedelta = DEFAULT_RETENTION) -> tuple[Sweep, ...]:
    """The fixed jobs of a running Saydo, with stable ids.

    "members" re-reads every partnership channel's members from Slack (joins and leaves also
    arrive as events); "claims" forgets the deliveries no retry can match any more
    (`storage.events.forget_old_claims`). Both are the running scheduler's only, not part of
    `run_sweeps`/`tick`.
    """
    directory_for = directories(sweeper.client, sweeper.router)
    return (
        Sweep(
            id="outbox",
            func=lambda: run_sweeps(sweeper, now=clock.now(), retention=retention),
            seconds=OUTBOX_SWEEP_SECONDS,
        ),
        Sweep(
            id="members",
            func=lambda: refresh_all_members(sweeper.engine, directory_for, now=clock.now()),
            seconds=MEMBERS_REFRESH_SECONDS,
        ),
        Sweep(
            id="claims",
            func=lambda: forget_old_claims(sweeper.engine, now=clock.now()),
            seconds=CLAIMS_SWEEP_SECONDS,
        ),
    )
