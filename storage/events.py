"""Slack event de-duplication: each event id is processed once, whoever receives it."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Engine, delete

from storage.db import upsert_insert
from storage.models import ProcessedEvent, utcnow

# How long a claimed delivery is remembered: Slack retries an event within the hour, and a
# replayed slash command is refused by its signature after five minutes.
KEEP_CLAIMS = timedelta(days=1)


def claim_event(engine: Engine, *, event_id: str) -> bool:
    """Record `event_id`; True if this is its first delivery, False if it was seen before.

    An insert that ignores conflicts on the primary key, so two replicas (or a retry racing
    the original) cannot both win.
    """
    insert = upsert_insert(engine.dialect.name)
    statement = (
        insert(ProcessedEvent)
        .values(event_id=event_id, received_at=utcnow())
        .on_conflict_do_nothing(index_elements=["event_id"])
        .returning(ProcessedEvent.event_id)
    )
    with engine.begin() as connection:
        return connection.execute(statement).first() is not None


def forget_old_claims(engine: Engine, *, now: datetime, keep: timedelta = KEEP_CLAIMS) -> int:
    """Delete the claims received more than `keep` before `now`, which no redelivery can still
    match; how many went. Run by the scheduler, so the table stays a day's worth of rows."""
    with engine.begin() as connection:
        statement = delete(ProcessedEvent).where(ProcessedEvent.received_at < now - keep)
        return connection.execute(statement).rowcount
