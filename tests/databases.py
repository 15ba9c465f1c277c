"""Test databases: every database test runs on SQLite and on PostgreSQL.

SQLite: each test gets a copy of a database file migrated once per session.
PostgreSQL: each pytest process (or xdist worker) creates its own database, migrates it once,
and empties every table after each test. Which backends run is `SAYDO_TEST_DATABASES`
(default `sqlite,postgresql`); leaving PostgreSQL out is refused when `CI=true`.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import uuid
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from storage import migrate
from storage.db import create_db_engine

POSTGRES_ADMIN_URL = os.environ.get(
    "SAYDO_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
START_POSTGRES_HINT = (
    "start it with: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start, "
    "or run only SQLite with SAYDO_TEST_DATABASES=sqlite"
)


def selected_backends() -> list[str]:
    names = [
        name.strip()
        for name in os.environ.get("SAYDO_TEST_DATABASES", "sqlite,postgresql").split(",")
        if name.strip()
    ]
    unknown = set(names) - {"sqlite", "postgresql"}
    if unknown or not names:
        raise pytest.UsageError(f"SAYDO_TEST_DATABASES: unknown backends {sorted(unknown)}")
    if os.environ.get("CI") == "true" and "postgresql" not in names:
        raise pytest.UsageError("CI=true: the tests must run on PostgreSQL as well as SQLite")
    return names


class SQLiteDatabases:
    def __init__(self, directory: Path):
        self.template = directory / "template.db"
        engine = create_db_engine(f"sqlite:///{self.template}")
        migrate.upgrade(engine)
        engine.dispose()

    def fresh_url(self, directory: Path) -> str:
        path = directory / "saydo.db"
        shutil.copyfile(self.template, path)
        return f"sqlite:///{path}"

    def reset(self) -> None:
        """Nothing to do: each test has its own file."""

    def empty(self, url: str) -> None:
        """Delete every row of the database at `url`, as if fresh from the template (a shared
        `saydo run` keeps the file open, so it cannot be replaced)."""
        connection = sqlite3.connect(make_url(url).database, isolation_level=None, timeout=60)
        try:
            connection.execute("PRAGMA foreign_keys = OFF")
            tables = [
                name
                for (name,) in connection.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'table' "
                    "AND name <> 'alembic_version' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'"
                )
            ]
            connection.execute("BEGIN IMMEDIATE")
            for table in tables:
                connection.execute(f'DELETE FROM "{table}"')
            if connection.execute(
                "SELECT 1 FROM sqlite_master WHERE name = 'sqlite_sequence'"
            ).fetchone():
                connection.execute("DELETE FROM sqlite_sequence")  # AUTOINCREMENT counts again
            connection.execute("COMMIT")
        finally:
            connection.close()

    def close(self) -> None:
        """Nothing to do: pytest removes the temporary directory."""


class PostgresDatabases:
    def __init__(self, worker: str):
        admin_url = make_url(POSTGRES_ADMIN_URL)
        self.name = f"saydo_test_{worker}_{uuid.uuid4().hex[:8]}"
        self.admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        try:
            with self.admin.connect() as connection:
                connection.execute(text(f'CREATE DATABASE "{self.name}"'))
        except OperationalError as error:
            self.admin.dispose()
            raise pytest.UsageError(
                f"PostgreSQL at {admin_url.render_as_string()} is not reachable ({error}); "
                + START_POSTGRES_HINT
            ) from None
        self.url = admin_url.set(database=self.name).render_as_string(hide_password=False)
        self.engine: Engine = create_db_engine(self.url)
        migrate.upgrade(self.engine)
        with self.engine.connect() as connection:
            self.tables = [
                row[0]
                for row in connection.execute(
                    text(
                        "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                        "AND tablename <> 'alembic_version'"
                    )
                )
            ]

    def fresh_url(self, _directory: Path) -> str:
        return self.url

    def empty(self, _url: str) -> None:
        self.reset()

    def reset(self) -> None:
        if self.tables:
            with self.engine.begin() as connection:
                names = ", ".join(f'"{table}"' for table in self.tables)
                connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))

    def close(self) -> None:
        self.engine.dispose()
        with self.admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
        self.admin.dispose()
