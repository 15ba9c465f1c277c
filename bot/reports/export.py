"""`saydo export`: every commitment as CSV or JSON, one row each, streamed.

One query joins commitments to their partnership, owner and recipient, and rows are written as the
database yields them, so the export's memory and query count stay flat however many there are. Times
are ISO-8601 in UTC (`2026-12-01T10:00:00Z`). `kept` follows `bot.commitments.lifecycle.outcome` at
export time: true when kept, false when late or missed, empty (JSON null) when still pending or not
counted (proposed, declined, withdrawn by the due date)."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, date, datetime
from itertools import chain
from typing import Any, TextIO

from sqlalchemy import Engine, select
from sqlalchemy.orm import aliased

from bot.commitments.lifecycle import STATE_COLUMNS, CommitmentState, Outcome, outcome
from bot.costs.export import EXPORTS as COST_EXPORTS
from bot.objectives.export import EXPORTS as OBJECTIVE_EXPORTS
from bot.reports.reviews import EXPORTS
from storage import clock
from storage.db import transaction
from storage.models import Commitment, Partnership, Person

FORMATS = ("csv", "json")
WHAT = ("commitments", "reviews", "lessons", "coffee", "objectives", "measurements", "costs")
SECTIONS = {**OBJECTIVE_EXPORTS, **COST_EXPORTS}  # more --what choices, from their packages
COLUMNS = (
    "workspace_id",
    "reference",
    "channel_id",
    "partnership",
    "owner_id",
    "owner_name",
    "owner_team_id",
    "title",
    "created_at",
    "original_due_at",
    "due_at",
    "status",
    "delivered_at",
    "kept",
    "date_changes",
    "recipient_id",
    "recipient_name",
    "evidence",
    "source_permalink",
)
_BATCH = 500
_KEPT = {Outcome.KEPT: True, Outcome.LATE: False, Outcome.MISSED: False}


class ExportError(ValueError):
    """Bad export options; the message is one line for the operator."""


def parse_since(text: str) -> datetime:
    """`2026-01-31` (midnight UTC) or an ISO date-time (naive means UTC) as an aware instant."""
    try:
        if len(text.strip()) == 10:
            return datetime.combine(date.fromisoformat(text.strip()), datetime.min.time(), UTC)
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ExportError(f"--since must be an ISO date like 2026-01-31 (got {text!r}).") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def rows(
    engine: Engine,
    *,
    now: datetime,
    channels: Sequence[str] = (),
    since: datetime | None = None,
) -> Iterator[dict[str, Any]]:
    """Every matching commitment as a dict keyed by COLUMNS, oldest reference first."""
    owner, recipient = aliased(Person), aliased(Person)
    statement = (
        select(
            Commitment.team_id,
            Commitment.ref,
            Partnership.channel_id,
            Partnership.name,
            owner.user_id,
            owner.name,
            owner.team_id,
            Commitment.title,
            Commitment.created_at,
            recipient.user_id,
            recipient.name,
            Commitment.source_permalink,
            *(getattr(Commitment, column) for column in STATE_COLUMNS),
        )
        .join(Partnership, Partnership.id == Commitment.partnership_id)
        .join(owner, owner.id == Commitment.owner_id)
        .outerjoin(recipient, recipient.id == Commitment.recipient_id)
        .order_by(Commitment.team_id, Commitment.ref)
        .execution_options(yield_per=_BATCH)
    )
    if channels:
        statement = statement.where(Partnership.channel_id.in_(list(channels)))
    if since is not None:
        statement = statement.where(Commitment.created_at >= since)
    with transaction(engine) as session:
        for r in session.execute(statement):
            (
                team_id, ref, channel_id, partnership, owner_id, owner_name, owner_team_id,
                title, created_at, recipient_id, recipient_name, source_permalink,
            ) = r[:12]  # fmt: skip
            state = CommitmentState.from_columns(r)
            yield {
                "workspace_id": team_id,
                "reference": ref,
                "channel_id": channel_id,
                "partnership": partnership,
                "owner_id": owner_id,
                "owner_name": owner_name,
                "owner_team_id": owner_team_id,
                "title": title,
                "created_at": iso(created_at),
                "original_due_at": iso(state.original_due_at),
                "due_at": iso(state.due_at),
                "status": state.status.value,
                "delivered_at": iso(state.delivered_at),
                "kept": _KEPT.get(outcome(state, now=now)),
                "date_changes": state.date_changes,
                "recipient_id": recipient_id,
                "recipient_name": recipient_name,
                "evidence": state.evidence,
                "source_permalink": source_permalink,
            }


def iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def write_csv(
    records: Iterable[dict[str, Any]], out: TextIO, columns: Sequence[str] = COLUMNS
) -> int:
    """A header, then one line per record (true/false for kept, empty for none)."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    count = 0
    for record in records:
        writer.writerow([_csv_value(record[column]) for column in columns])
        count += 1
    return count


def _csv_value(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def write_json(records: Iterable[dict[str, Any]], out: TextIO) -> int:
    """A JSON array of objects, written one object at a time."""
    count = 0
    out.write("[")
    for record in records:
        out.write(",\n" if count else "\n")
        out.write(json.dumps(record, ensure_ascii=False))
        count += 1
    out.write("\n]\n" if count else "]\n")
    return count


def export(
    engine: Engine,
    out: TextIO,
    *,
    fmt: str = "csv",
    channels: Sequence[str] = (),
    since: datetime | None = None,
    now: datetime | None = None,
    what: str = "commitments",
) -> int:
    """Write the export to `out`; returns the number of records written.

    `what` is commitments (the default) or one of `bot.reports.reviews.EXPORTS`: reviews, lessons,
    coffee (the same formats, filters, streaming and constant query count)."""
    if fmt not in FORMATS:
        raise ExportError(f"--format must be one of {', '.join(FORMATS)} (got {fmt!r}).")
    columns: Sequence[str] = COLUMNS
    if what == "commitments":
        records = rows(engine, now=now or clock.now(), channels=channels, since=since)
    elif what in EXPORTS or what in SECTIONS:
        columns, source = {**EXPORTS, **SECTIONS}[what]
        records = source(engine, channels=channels, since=since)
    else:
        choices = ", ".join(WHAT)
        raise ExportError(f"--what must be one of {choices} (got {what!r}).")
    # Run the query before writing anything, so a database problem leaves no partial output.
    first = next(records, None)
    records = chain([first] if first is not None else [], records)
    if fmt == "csv":
        return write_csv(records, out, columns)
    return write_json(records, out)
