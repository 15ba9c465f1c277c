"""Storage: migrations on both databases, SQLite settings, and once-only event ids."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text
from sqlmodel import SQLModel

import storage.models  # noqa: F401  (tables on the metadata)
from storage import migrate
from storage.events import claim_event


def test_migrations_bring_the_database_to_the_newest_revision(engine):
    assert migrate.current_revision(engine) == migrate.head_revision(engine)


def test_models_and_migrations_agree(engine):
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    assert differences == []


def test_upgrade_is_safe_to_repeat(engine):
    migrate.upgrade(engine)
    assert migrate.current_revision(engine) == migrate.head_revision(engine)


def test_an_event_id_is_claimed_once(engine):
    assert claim_event(engine, event_id="Ev0001") is True
    assert claim_event(engine, event_id="Ev0001") is False
    assert claim_event(engine, event_id="Ev0002") is True


def test_concurrent_deliveries_of_one_event_have_one_winner(engine):
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda _: claim_event(engine, event_id="EvRACE"), range(16)))
    assert results.count(True) == 1


def test_sqlite_runs_in_wal_mode_with_foreign_keys_and_a_busy_timeout(engine, backend):
    if backend != "sqlite":
        return
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert connection.execute(text("PRAGMA busy_timeout")).scalar() >= 1000
