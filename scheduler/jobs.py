"""The sweeps Saydo runs: one code path for the running scheduler and `saydo tick`."""

from __future__ import annotations

from datetime import datetime

from slack_sdk import WebClient
from sqlalchemy import Engine

from bot import channel_messages, clock, coffee, nudges, reviews, summaries
from bot.commitments import CHANNEL_MESSAGE
from bot.config import DEFAULT_OUTBOX_CONCURRENCY
from bot.nudge_planning import NUDGE
from bot.outbox import Report, Router, Sweeper, worker_name
from handlers.members import REFRESH_SECONDS, refresh_all_members
from scheduler import Sweep

OUTBOX_SWEEP_SECONDS = 15

RENDERERS = {
    NUDGE: nudges.render,
    CHANNEL_MESSAGE: channel_messages.render,
    reviews.REVIEW: reviews.render,
    summaries.SUMMARY: summaries.render,
    **coffee.RENDERERS,
}
# Planning sweeps, by stable id: run before the outbox sweep by `run_sweeps` (so by the
# scheduler's "outbox" job and `saydo tick --now`); each enqueues slots as of `now`.
PLANNERS = {"reviews": reviews.plan, "summaries": summaries.plan, "coffee": coffee.plan}


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
        renderers=RENDERERS,
        worker=worker_name(),
        concurrency=concurrency,
    )


def run_sweeps(sweeper: Sweeper, *, now: datetime, dry_run: bool = False) -> list[Report]:
    """Every sweep once, as of `now`."""
    if not dry_run:  # planning sweeps only enqueue (idempotent slot keys); the outbox sends
        for plan in PLANNERS.values():
            plan(sweeper.engine, now=now)
    return sweeper.sweep(now=now, dry_run=dry_run)


def scheduled(sweeper: Sweeper) -> tuple[Sweep, ...]:
    """The fixed jobs of a running Saydo, with stable ids.

    "members" re-reads every partnership channel's members from Slack (joins and leaves also
    arrive as events); it is the running scheduler's only, not part of `run_sweeps`/`tick`.
    """
    return (
        Sweep(
            id="outbox",
            func=lambda: run_sweeps(sweeper, now=clock.now()),
            seconds=OUTBOX_SWEEP_SECONDS,
        ),
        Sweep(
            id="members",
            func=lambda: refresh_all_members(sweeper.engine, sweeper.client, router=sweeper.router),
            seconds=REFRESH_SECONDS,
        ),
    )
