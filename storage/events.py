"""Slack event de-duplication: each event id is processed once, whoever receives it."""

from __future__ import annotations

from sqlalchemy import Engine

from storage.db import upsert_insert
from storage.models import ProcessedEvent, utcnow


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
