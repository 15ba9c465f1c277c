"""`saydo export --what objectives|measurements`: rows for `bot.reports.export`'s writers. Values
are
exact decimals written as text; status is worked out as of `storage.clock.now()`."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, select

from bot.objectives.service import views_in
from storage import clock
from storage.db import transaction
from storage.models import Objective, ObjectiveMeasurement, Partnership, Person

OBJECTIVE_COLUMNS = (
    "workspace_id",
    "channel_id",
    "partnership",
    "reference",
    "title",
    "good_looks_like",
    "measure",
    "better",
    "baseline_value",
    "baseline_date",
    "target_value",
    "target_date",
    "owner_organisation",
    "cadence",
    "latest_value",
    "latest_on",
    "status",
    "created_at",
)
MEASUREMENT_COLUMNS = (
    "workspace_id",
    "channel_id",
    "partnership",
    "reference",
    "title",
    "value",
    "measured_on",
    "recorded_at",
    "recorded_by_id",
    "recorded_by_name",
    "evidence",
)


def iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


def filtered(statement, channels: Sequence[str], since_column, since: datetime | None):
    if channels:
        statement = statement.where(Partnership.channel_id.in_(list(channels)))
    if since is not None:
        statement = statement.where(since_column >= since)
    return statement


def objective_rows(
    engine: Engine, *, channels: Sequence[str] = (), since: datetime | None = None
) -> Iterator[dict[str, Any]]:
    """One row per objective, with its latest value and status (`--since`: created_at)."""
    statement = filtered(
        select(Objective)
        .join(Partnership, Partnership.id == Objective.partnership_id)
        .order_by(Objective.partnership_id, Objective.number),
        channels,
        Objective.created_at,
        since,
    )
    with transaction(engine) as session:
        rows = list(session.execute(statement).scalars())
        created = {row.id: row.created_at for row in rows}
        for o in views_in(session, rows, now=clock.now()):
            latest = o.latest
            yield {
                "workspace_id": o.partnership.team_id,
                "channel_id": o.partnership.channel_id,
                "partnership": o.partnership.name,
                "reference": o.ref,
                "title": o.title,
                "good_looks_like": o.good_looks_like,
                "measure": o.measure,
                "better": "higher" if o.higher_is_better else "lower",
                "baseline_value": str(o.baseline_value),
                "baseline_date": o.baseline_date.isoformat(),
                "target_value": str(o.target_value),
                "target_date": o.target_date.isoformat(),
                "owner_organisation": o.owner_organisation,
                "cadence": o.cadence,
                "latest_value": str(latest.value) if latest else None,
                "latest_on": latest.measured_on.isoformat() if latest else None,
                "status": o.status.value,
                "created_at": iso(created[o.id]),
            }


def measurement_rows(
    engine: Engine, *, channels: Sequence[str] = (), since: datetime | None = None
) -> Iterator[dict[str, Any]]:
    """Every recorded value, oldest first (`--since`: recorded_at)."""
    statement = filtered(
        select(ObjectiveMeasurement, Objective, Partnership, Person)
        .join(Objective, Objective.id == ObjectiveMeasurement.objective_id)
        .join(Partnership, Partnership.id == Objective.partnership_id)
        .join(Person, Person.id == ObjectiveMeasurement.recorded_by_id)
        .order_by(ObjectiveMeasurement.recorded_at, ObjectiveMeasurement.id),
        channels,
        ObjectiveMeasurement.recorded_at,
        since,
    )
    with transaction(engine) as session:
        for m, o, p, person in session.execute(statement):
            yield {
                "workspace_id": p.team_id,
                "channel_id": p.channel_id,
                "partnership": p.name,
                "reference": f"O{o.number}",
                "title": o.title,
                "value": str(m.value),
                "measured_on": m.measured_on.isoformat(),
                "recorded_at": iso(m.recorded_at),
                "recorded_by_id": person.user_id,
                "recorded_by_name": person.name,
                "evidence": m.evidence,
            }


EXPORTS = {
    "objectives": (OBJECTIVE_COLUMNS, objective_rows),
    "measurements": (MEASUREMENT_COLUMNS, measurement_rows),
}
