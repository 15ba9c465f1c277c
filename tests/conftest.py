"""Shared fixtures: databases on both backends, the Slack stand-in, and a running `saydo`."""

from __future__ import annotations

import os
import signal
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from sqlalchemy import Engine

from bot.playground.standin import SlackStandIn
from storage.db import create_db_engine
from tests import processes
from tests.databases import PostgresDatabases, SQLiteDatabases, selected_backends
from tests.saydo_process import SaydoProcess, port_of
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
def database_url(request: pytest.FixtureRequest, _backend_databases, tmp_path) -> Iterator[str]:
    """The URL of an empty, migrated database of the test's backend."""
    if shares_saydo(request):
        shared: SharedSaydo = request.getfixturevalue("_shared_saydo")
        yield shared.database_url
        _backend_databases.empty(shared.database_url)
        return
    yield _backend_databases.fresh_url(tmp_path)
    _backend_databases.reset()


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = create_db_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def slack(request: pytest.FixtureRequest) -> Iterator[SlackStandIn]:
    """The local Slack Web API; every call it received must match Slack's spec."""
    shared: SharedSaydo | None = (
        request.getfixturevalue("_shared_saydo") if shares_saydo(request) else None
    )
    standin = SlackStandIn(contract=call_problems)
    try:
        standin.start(shared.slack_port if shared else 0)
    except OSError:  # the shared port was taken meanwhile: `saydo` restarts for another one
        standin.start()
    try:
        if shared:
            shared.slack_port = port_of(standin)
        yield standin
        standin.assert_clean()
    finally:
        standin.stop()


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
def saydo(
    request: pytest.FixtureRequest, slack: SlackStandIn, database_url: str, tmp_path
) -> Iterator[SaydoProcess]:
    """`saydo run --no-scheduler` in HTTP mode as a subprocess, talking to the stand-in.

    Without the scheduler, nothing is sent on the real clock; tests that need the sweeps run
    `saydo tick --now` at the instants they choose. In a module marked `share_saydo` the
    module's tests share one process (`SharedSaydo`)."""
    if shares_saydo(request):
        shared: SharedSaydo = request.getfixturevalue("_shared_saydo")
        yield from shared.serve(slack)
        return
    yield from _saydo(slack, database_url, tmp_path, "--no-scheduler")


# --- one `saydo run` for a module's tests ----------------------------------------------------


def shares_saydo(request: pytest.FixtureRequest) -> bool:
    """Whether this test uses its module's shared `saydo` (the module is marked
    `share_saydo`)."""
    return (
        "saydo" in request.fixturenames
        and request.node.get_closest_marker("share_saydo") is not None
    )


class SharedSaydo:
    """One `saydo run --no-scheduler` serving the tests of a module in turn, each as if the
    process were its own: each test has a fresh stand-in on the same port (so the process can
    keep its `SLACK_API_URL`) and the module's database, emptied after every test. Between two
    tests the process finishes what the first left behind (`SaydoProcess.wait_until_idle`);
    one that does not settle, or that a test stopped, is replaced by a new one."""

    def __init__(self, databases, workdir: Path):
        self.workdir = workdir
        self.database_url = databases.fresh_url(workdir)
        self.slack_port = 0  # where the current test's stand-in listens
        self.process: SaydoProcess | None = None
        self._process_slack_port = 0

    def serve(self, slack: SlackStandIn) -> Iterator[SaydoProcess]:
        port = port_of(slack)
        if self.process is not None and (
            not self.process.running or port != self._process_slack_port
        ):
            self.stop()
        if self.process is None:
            process = SaydoProcess(
                slack_api_url=slack.url, database_url=self.database_url, workdir=self.workdir
            )
            process.start("--no-scheduler")
            self.process, self._process_slack_port = process, port
        self.process.begin_test(slack.response_url)
        yield self.process
        if self.process.running and not self.process.wait_until_idle(port):
            self.stop()  # still busy with this test's work: the next test gets a new one

    def stop(self) -> None:
        """Stop the process (it must exit cleanly if it is still running)."""
        process, self.process = self.process, None
        if process is not None:
            process.stop()


@pytest.fixture(scope="module")
def _shared_saydo(_backend_databases, tmp_path_factory: pytest.TempPathFactory):
    shared = SharedSaydo(_backend_databases, tmp_path_factory.mktemp("shared-saydo"))
    yield shared
    shared.stop()


@pytest.fixture
def saydo_with_scheduler(slack: SlackStandIn, database_url: str, tmp_path):
    """`saydo run` exactly as deployed, scheduler included."""
    yield from _saydo(slack, database_url, tmp_path)
