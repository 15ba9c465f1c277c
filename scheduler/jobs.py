"""The sweeps Saydo runs: one code path for the running scheduler and `saydo tick`."""

from __future__ import annotations

from datetime import UTC, datetime

from slack_sdk import WebClient
from sqlalchemy import Engine

from bot import nudges
from bot.nudge_planning import NUDGE
from bot.outbox import Report, Sweeper, worker_name
from scheduler import Sweep

OUTBOX_SWEEP_SECONDS = 15

RENDERERS = {NUDGE: nudges.render}


def build_sweeper(engine: Engine, client: WebClient) -> Sweeper:
    return Sweeper(
        engine=engine,
        client=client,
        renderers=RENDERERS,
        worker=worker_name(),
    )


def run_sweeps(sweeper: Sweeper, *, now: datetime, dry_run: bool = False) -> list[Report]:
    """Every sweep once, as of `now`."""
    return sweeper.sweep(now=now, dry_run=dry_run)


def scheduled(sweeper: Sweeper) -> tuple[Sweep, ...]:
    """The fixed jobs of a running Saydo, with stable ids."""
    return (
        Sweep(
            id="outbox",
            func=lambda: run_sweeps(sweeper, now=datetime.now(UTC)),
            seconds=OUTBOX_SWEEP_SECONDS,
        ),
    )
