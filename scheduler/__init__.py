"""APScheduler wiring: a `BackgroundScheduler` running Saydo's fixed sweeper jobs.

Jobs are thin sweeps over database state (what is due and not yet done?), so nothing is lost
when the process stops; the scheduler itself keeps no state worth saving.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_MISSED, JobExecutionEvent
from apscheduler.schedulers.background import BackgroundScheduler

logger = logging.getLogger(__name__)

JOB_DEFAULTS = {"coalesce": True, "max_instances": 1, "misfire_grace_time": 300}


@dataclass(frozen=True)
class Sweep:
    """A job with a stable id, run every `seconds`."""

    id: str
    func: Callable[[], object]
    seconds: int


def build_scheduler(sweeps: tuple[Sweep, ...] = ()) -> BackgroundScheduler:
    scheduler = BackgroundScheduler(job_defaults=JOB_DEFAULTS, timezone="UTC")
    scheduler.add_listener(_log_job_event, EVENT_JOB_ERROR | EVENT_JOB_MISSED)
    for sweep in sweeps:
        scheduler.add_job(
            sweep.func,
            "interval",
            seconds=sweep.seconds,
            id=sweep.id,
            replace_existing=True,
            next_run_time=datetime.now(UTC),  # first sweep at start: catch up after downtime
        )
    return scheduler


def _log_job_event(event: JobExecutionEvent) -> None:
    if event.code == EVENT_JOB_MISSED:
        logger.warning("Job %s missed its run at %s", event.job_id, event.scheduled_run_time)
    else:
        logger.error(
            "Job %s failed",
            event.job_id,
            exc_info=(type(event.exception), event.exception, event.exception.__traceback__),
        )
