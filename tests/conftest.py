"""Shared fixtures: databases on both backends, the Slack stand-in, and a running `saydo`."""

from __future__ import annotations

import os
import signal
import sys
import time
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, settings
from sqlalchemy import Engine

from bot.playground.standin import SlackStandIn
from storage.db import create_db_engine
from tests import processes
from tests.databases import PostgresDatabases, SQLiteDatabases, selected_backends
from tests.saydo_process import SaydoProcess
from tests.slack_contract import call_problems

LEFTOVER_GRACE_SECONDS = 15

# Hypothesis' timing checks fail on a loaded machine, not on a wrong answer.
settings.register_profile("saydo", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("saydo")


def pytest_configure(config: pytest.Config) -> None:
    processes.mark_session()


@pytest.hookimpl(wrapper=True)
def pytest_sessionfinish(session: pytest.Session) -> Iterator[None]:
    """Fail the run if any process a test started outlives it (checked once xdist's workers,
    which carry the same mark, have gone); such processes are killed and listed."""
    result = yield
    if hasattr(session.config, "workerinput"):
        return result  # a worker: the controlling pytest process checks, after the workers end
    deadline = time.monotonic() + LEFTOVER_GRACE_SECONDS
    while (left := processes.leftover()) and time.monotonic() < deadline:
        time.sleep(0.2)
    if left:
        for pid in left:
            os.kill(pid, signal.SIGKILL)
        listed = "".join(f"\n  {pid}: {command}" for pid, command in left.items())
        sys.stderr.write(f"\nFAILED: processes started by the tests were still running:{listed}\n")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
    return result


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Run every test that uses a database once per backend, or only on those it names with
    ``@pytest.mark.backends(...)``; one whose backends are all deselected is skipped, saying so."""
    if "backend" not in metafunc.fixturenames:
        return
    selected = selected_backends()
    marker = metafunc.definition.get_closest_marker("backends")
    applicable = [name for name in selected if marker is None or name in marker.args]
    if applicable:
        metafunc.parametrize("backend", applicable, scope="session")
        return
    reason = f"only for {', '.join(marker.args)}, not in SAYDO_TEST_DATABASES={','.join(selected)}"
    metafunc.parametrize(
        "backend", [pytest.param(None, marks=pytest.mark.skip(reason=reason))], scope="session"
    )


@pytest.fixture(scope="session")
def _backend_databases(backend: str, tmp_path_factory: pytest.TempPathFactory):
    if backend == "sqlite":
        databases = SQLiteDatabases(tmp_path_factory.mktemp("sqlite-template"))
    else:
        databases = PostgresDatabases(os.environ.get("PYTEST_XDIST_WORKER", "main"))
    yield databases
    databases.close()


@pytest.fixture
def database_url(_backend_databases, tmp_path) -> Iterator[str]:
    """The URL of an empty, migrated database of the test's backend."""
    yield _backend_databases.fresh_url(tmp_path)
    _backend_databases.reset()


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = create_db_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def slack() -> Iterator[SlackStandIn]:
    """The local Slack Web API; every call it received must match Slack's spec."""
    with SlackStandIn(contract=call_problems) as standin:
        yield standin
        standin.assert_clean()


@pytest.fixture
def people(slack: SlackStandIn) -> SlackStandIn:
    """A partnership channel with members from two organisations in three time zones."""
    slack.add_team("T0PARTNER", "Northshire NHS Trust")
    slack.add_user(
        "U0ALICE", name="alice", real_name="Alice Adams", tz="Europe/London", locale="en-GB"
    )
    slack.add_user(
        "U0BOB", name="bob", real_name="Bob Brown", tz="America/New_York", locale="en-US"
    )
    slack.add_user(
        "U0CAROL",
        name="carol",
        real_name="Carol Chen",
        tz="Asia/Kolkata",
        locale="en-IN",
        team_id="T0PARTNER",
    )
    slack.add_channel(
        "C0PARTNER",
        name="housing-partnership",
        members=["U0ALICE", "U0BOB", "U0CAROL", "UBOT"],
        is_ext_shared=True,
    )
    return slack


def _saydo(slack: SlackStandIn, database_url: str, tmp_path, *args: str):
    process = SaydoProcess(
        slack_api_url=slack.url,
        database_url=database_url,
        workdir=tmp_path,
        response_url_factory=slack.response_url,
    )
    process.start(*args)
    yield process
    process.stop()


@pytest.fixture
def saydo(slack: SlackStandIn, database_url: str, tmp_path) -> Iterator[SaydoProcess]:
    """`saydo run --no-scheduler` in HTTP mode as a subprocess, talking to the stand-in.

    Without the scheduler, nothing is sent on the real clock; tests that need the sweeps run
    `saydo tick --now` at the instants they choose."""
    yield from _saydo(slack, database_url, tmp_path, "--no-scheduler")


@pytest.fixture
def saydo_with_scheduler(slack: SlackStandIn, database_url: str, tmp_path):
    """`saydo run` exactly as deployed, scheduler included."""
    yield from _saydo(slack, database_url, tmp_path)
