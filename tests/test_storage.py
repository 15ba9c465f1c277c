"""Storage: migrations on both databases, SQLite settings, and once-only event ids."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlmodel import SQLModel

import storage.models  # noqa: F401  (tables on the metadata)
from storage import clock, migrate
from storage.events import KEEP_CLAIMS, claim_event, forget_old_claims
from tests.databases import POSTGRES_ADMIN_URL


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


def test_claims_older_than_a_day_are_forgotten_and_newer_ones_kept(engine):
    try:
        clock.set_offset(-(KEEP_CLAIMS + timedelta(minutes=1)))
        assert claim_event(engine, event_id="EvOLD") is True
        clock.set_offset(-(KEEP_CLAIMS - timedelta(minutes=1)))
        assert claim_event(engine, event_id="EvRECENT") is True
    finally:
        clock.set_offset(timedelta(0))
    assert forget_old_claims(engine, now=clock.now()) == 1
    assert claim_event(engine, event_id="EvRECENT") is False  # still remembered
    assert claim_event(engine, event_id="EvOLD") is True  # forgotten, so new again


def test_concurrent_deliveries_of_one_event_have_one_winner(engine):
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda _: claim_event(engine, event_id="EvRACE"), range(16)))
    assert results.count(True) == 1


@pytest.mark.backends("sqlite")
def test_sqlite_runs_in_wal_mode_with_foreign_keys_and_a_busy_timeout(engine):
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert connection.execute(text("PRAGMA busy_timeout")).scalar() >= 1000


@pytest.mark.backends("postgresql")  # a SQLite file has a single writer; this is about replicas
def test_replicas_starting_together_migrate_once(backend, tmp_path):
    """Several processes upgrading one new PostgreSQL database at once all succeed."""
    admin = create_engine(make_url(POSTGRES_ADMIN_URL), isolation_level="AUTOCOMMIT")
    name = f"saydo_race_{uuid.uuid4().hex[:8]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    engines = [create_engine(make_url(POSTGRES_ADMIN_URL).set(database=name)) for _ in range(4)]
    try:
        with ThreadPoolExecutor(max_workers=4) as pool:
            list(pool.map(migrate.upgrade, engines))
        assert migrate.current_revision(engines[0]) == migrate.head_revision(engines[0])
    finally:
        for each in engines:
            each.dispose()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()
