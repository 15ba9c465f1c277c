"""The sweeps Saydo runs: one code path for the running scheduler and `saydo tick`."""

from __future__ import annotations

from datetime import datetime

from slack_sdk import WebClient
from sqlalchemy import Engine

from bot import clock, coffee, nudges, reviews, summaries
from bot.costs import alerts as cost_alerts
from bot.nudge_planning import NUDGE
from bot.objectives import sweeps as objective_sweeps
from bot.outbox import Report, Sweeper, worker_name
from handlers.members import REFRESH_SECONDS, refresh_all_members
from scheduler import Sweep

OUTBOX_SWEEP_SECONDS = 15

RENDERERS = {
    NUDGE: nudges.render,
    reviews.REVIEW: reviews.render,
    summaries.SUMMARY: summaries.render,
    **coffee.RENDERERS,
    **objective_sweeps.RENDERERS,
    **cost_alerts.RENDERERS,
}
# Planning sweeps, by stable id: run before the outbox sweep by `run_sweeps` (so by the
# scheduler's "outbox" job and `saydo tick --now`); each enqueues slots as of `now`.
PLANNERS = {
    "reviews": reviews.plan,
    "summaries": summaries.plan,
    "coffee": coffee.plan,
    "objectives": objective_sweeps.plan,
    "objective_charts": objective_sweeps.plan_pack_charts,
}


def build_sweeper(engine: Engine, client: WebClient) -> Sweeper:
    return Sweeper(
        engine=engine,
        client=client,
        renderers=RENDERERS,
        worker=worker_name(),
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
            func=lambda: refresh_all_members(sweeper.engine, sweeper.client),
            seconds=REFRESH_SECONDS,
        ),
    )
