"""Database engine and sessions for SQLite (embedded default) and PostgreSQL (scale-out)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, event, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, create_engine

SQLITE_BUSY_TIMEOUT_MS = 5000


def create_db_engine(database_url: str) -> Engine:
    """An engine configured for Saydo: WAL, busy timeout and foreign keys on SQLite."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
        )
        event.listen(engine, "connect", _configure_sqlite_connection)
        event.listen(engine, "begin", _begin_immediate)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10)


def _configure_sqlite_connection(dbapi_connection, _record) -> None:
    # SQLAlchemy, not the sqlite3 module, decides when transactions begin (see _begin_immediate).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _begin_immediate(connection) -> None:
    """Take SQLite's write lock when a transaction starts, waiting up to the busy timeout.

    A deferred transaction that reads and then writes fails at once if another writer
    committed in between (SQLITE_BUSY_SNAPSHOT); starting immediate makes writers queue.
    """
    connection.exec_driver_sql("BEGIN IMMEDIATE")


@contextmanager
def transaction(engine: Engine) -> Iterator[Session]:
    """One unit of work: committed on success, rolled back on any exception."""
    with Session(engine, expire_on_commit=False) as session, session.begin():
        yield session


def ping(engine: Engine) -> None:
    """Raise if the database cannot be reached."""
    with engine.connect() as connection:
        connection.execute(text("SELECT 1"))


def database_problem(error: SQLAlchemyError) -> str:
    """The driver's own first line (e.g. "unable to open database file", "connection refused"),
    without SQLAlchemy's wrapping, the statement or the parameters."""
    cause = getattr(error, "orig", None) or error
    for line in str(cause).splitlines():
        if line.strip():
            return line.strip().removeprefix(f"({type(cause).__module__}.{type(cause).__name__}) ")
    return type(cause).__name__


def upsert_insert(dialect_name: str):
    """`insert()` with ON CONFLICT (`on_conflict_do_nothing`/`_do_update`) for this database:
    PostgreSQL's and SQLite's constructs share that API, so callers write one statement."""
    return pg_insert if dialect_name == "postgresql" else sqlite_insert
