"""What the operator commands print: `saydo tick` lines and the `saydo schedule` table."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, select

from bot.outbox.sending import pending
from storage.db import transaction
from storage.models import Commitment, Partnership, Person


@dataclass(frozen=True)
class Upcoming:
    at: datetime
    local: str  # the instant in the recipient's time zone, with the zone's name
    to: str
    kind: str
    about: str


def upcoming(
    engine: Engine, *, now: datetime, days: int, channels: list[str] | None = None
) -> list[Upcoming]:
    """Unsent messages due in the next `days`, soonest first, in three queries in all."""
    items = pending(engine, until=now + timedelta(days=days), channel_ids=channels or ())
    targets = {i.channel for i in items}
    commitment_ids = {i.commitment_id for i in items if i.commitment_id}
    with transaction(engine) as session:
        zones = {
            p.user_id: p.tz
            for p in session.execute(select(Person).where(Person.user_id.in_(targets))).scalars()
        }
        zones |= {
            p.channel_id: p.tz
            for p in session.execute(
                select(Partnership).where(Partnership.channel_id.in_(targets))
            ).scalars()
        }
        titles = {
            c.id: f"#{c.ref} {c.title}"
            for c in session.execute(
                select(Commitment).where(Commitment.id.in_(commitment_ids))
            ).scalars()
        }
    rows = []
    for item in items:
        tz = zones.get(item.channel, "UTC")
        local = item.due_at.astimezone(ZoneInfo(tz))
        slot = item.slot_key.rsplit(":", 1)[-1]
        rows.append(
            Upcoming(
                at=item.due_at,
                local=f"{local:%a %d %b %H:%M} {tz}",
                to=item.channel,
                kind=f"{item.kind} {slot}" if slot != item.kind else item.kind,
                about=titles.get(item.commitment_id, ""),
            )
        )
    return rows


def schedule_table(rows: list[Upcoming]) -> str:
    """A plain-text table, one message a line."""
    if not rows:
        return "Nothing is scheduled in that period."
    header = ("when (UTC)", "when (recipient's time)", "to", "what", "about")
    lines = [header] + [
        (f"{r.at:%Y-%m-%d %H:%M}", r.local, r.to, r.kind, r.about[:60]) for r in rows
    ]
    widths = [max(len(line[i]) for line in lines) for i in range(len(header) - 1)]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(line[:-1], widths, strict=True))
        + "  "
        + line[-1]
        for line in lines
    )
