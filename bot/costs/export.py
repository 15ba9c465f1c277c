"""`saydo export --what costs`: one row per spend entry, with its project, budget and the
partnership's currency. Money is exact, written as text."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, select

from bot.objectives.export import filtered, iso
from bot.policy.charter_settings import settings_in
from storage.db import transaction
from storage.models import CostArea, CostEntry, CostProject, Partnership, Person

COST_COLUMNS = (
    "workspace_id",
    "channel_id",
    "partnership",
    "service_area",
    "project",
    "supplier_organisation",
    "budget",
    "period_start",
    "period_end",
    "amount",
    "currency",
    "period",
    "spent_on",
    "recorded_at",
    "recorded_by_id",
    "recorded_by_name",
    "evidence",
)


def cost_rows(
    engine: Engine, *, channels: Sequence[str] = (), since: datetime | None = None
) -> Iterator[dict[str, Any]]:
    """Every spend entry, oldest first (`--since`: recorded_at)."""
    statement = filtered(
        select(CostEntry, CostProject, CostArea, Partnership, Person)
        .join(CostProject, CostProject.id == CostEntry.project_id)
        .join(CostArea, CostArea.id == CostProject.area_id)
        .join(Partnership, Partnership.id == CostProject.partnership_id)
        .join(Person, Person.id == CostEntry.recorded_by_id)
        .order_by(CostEntry.recorded_at, CostEntry.id),
        channels,
        CostEntry.recorded_at,
        since,
    )
    with transaction(engine) as session:
        currencies: dict[int, str] = {}
        for entry, project, area, p, person in session.execute(statement):
            if p.id not in currencies:
                currencies[p.id] = settings_in(session, p.id).currency
            yield {
                "workspace_id": p.team_id,
                "channel_id": p.channel_id,
                "partnership": p.name,
                "service_area": area.name,
                "project": project.name,
                "supplier_organisation": project.supplier_organisation,
                "budget": str(project.budget),
                "period_start": project.period_start.isoformat(),
                "period_end": project.period_end.isoformat(),
                "amount": str(entry.amount),
                "currency": currencies[p.id],
                "period": entry.period,
                "spent_on": entry.spent_on.isoformat(),
                "recorded_at": iso(entry.recorded_at),
                "recorded_by_id": person.user_id,
                "recorded_by_name": person.name,
                "evidence": entry.evidence,
            }


EXPORTS = {"costs": (COST_COLUMNS, cost_rows)}
