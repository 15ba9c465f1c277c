"""`saydo run` as a real subprocess, driven with signed HTTP requests as Slack sends them."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import requests

from bot.playground import slack_requests as doors
from bot.playground.standin import SlackStandIn
from tests import processes

SIGNING_SECRET = "8f742231b10e8888abcd9912ab85a5f0"
BOT_TOKEN = "xoxb-0000000000-saydo-test-token"
TEAM_ID = "T0001"
PORT_ATTEMPTS = 3
PORT_TAKEN = "is already in use"  # `saydo run`'s one line for a busy port (bot.server.listen)
START_TIMEOUT_SECONDS = 90  # generous: a loaded 2-core machine starts Python slowly
# Idle: this many samples in a row, this far apart, with nothing running and nothing sent.
QUIET_SAMPLES = 5
QUIET_SAMPLE_SECONDS = 0.04
IDLE_TIMEOUT_SECONDS = 20
TCP_ESTABLISHED = "01"


def port_of(standin: SlackStandIn) -> int:
    """The port the stand-in listens on."""
    return urlsplit(standin.base).port or 0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def signed_headers(
    body: str,
    *,
    secret: str = SIGNING_SECRET,
    timestamp: int | None = None,
    content_type: str = doors.FORM,
) -> dict[str, str]:
    return doors.signed_headers(body, secret=secret, timestamp=timestamp, content_type=content_type)


class SaydoProcess:
    """Starts `python -m bot run` with a temporary database and the Slack stand-in."""

    def __init__(
        self,
        *,
        slack_api_url: str,
        database_url: str,
        workdir: Path,
        extra_env: dict[str, str] | None = None,
        response_url_factory: Callable[[], str] | None = None,
    ):
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log_path = workdir / "saydo.log"
        self.workdir = workdir
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("SLACK_")},
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": slack_api_url,
            "DATABASE_URL": database_url,
            "HOST": "127.0.0.1",
            "PORT": str(self.port),
            "LOG_LEVEL": "INFO",
            **(extra_env or {}),
        }
        self.response_url_factory = response_url_factory
        self.process: subprocess.Popen | None = None
        self.returncode: int | None = None
        self._log_from = 0  # where `log()` begins: a shared process's log, from this test on

    def start(self, *args: str) -> None:
        """Start it and wait until it answers /healthz; stopped again if it never does. The free
        port it was given may be taken meanwhile by a parallel test: then on another one."""
        for attempt in range(1, PORT_ATTEMPTS + 1):
            self._log = self.log_path.open("wb")
            self.process = subprocess.Popen(
                [sys.executable, "-m", "bot", "run", *args],
                cwd=self.workdir,
                env=self.env,
                stdout=self._log,
                stderr=subprocess.STDOUT,
            )
            try:
                self._wait_until_healthy()
                return
            except AssertionError:
                self.kill()
                if PORT_TAKEN not in self.log() or attempt == PORT_ATTEMPTS:
                    raise
            except BaseException:
                self.kill()
                raise
            self.port = free_port()
            self.base_url = f"http://127.0.0.1:{self.port}"
            self.env["PORT"] = str(self.port)

    def _wait_until_healthy(self) -> None:
        assert self.process is not None
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"saydo exited with {self.process.returncode}:\n{self.log()}")
            try:
                if requests.get(self.base_url + "/healthz", timeout=5).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.1)
        raise AssertionError(f"saydo did not become healthy in time:\n{self.log()}")

    def log(self) -> str:
        """What it logged (a shared process: since the current test began)."""
        if not self.log_path.exists():
            return ""
        with self.log_path.open("rb") as log:
            log.seek(self._log_from)
            return log.read().decode(errors="replace")

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def begin_test(self, response_url_factory: Callable[[], str]) -> None:
        """A shared process serves the next test: its replies go to that test's stand-in, and
        `log()` starts here."""
        self.response_url_factory = response_url_factory
        self._log_from = self.log_path.stat().st_size if self.log_path.exists() else 0

    def settle(self) -> None:
        """Return once the process has finished all the work the test's requests caused: what
        it has not sent or logged by now, it never will. AssertionError if it stays busy."""
        slack_port = urlsplit(self.env["SLACK_API_URL"]).port or 0
        assert self.wait_until_idle(slack_port), f"saydo stayed busy:\n{self.log()}"

    def wait_until_idle(self, slack_port: int, timeout: float = IDLE_TIMEOUT_SECONDS) -> bool:
        """True once the process has finished the work its requests left behind: for
        `QUIET_SAMPLES` samples in a row no thread ran or was runnable, it used no CPU time, and
        no call of it to the Slack stand-in (on `slack_port`) was open. False if it never
        settled within `timeout` seconds (or has exited)."""
        assert self.process is not None
        deadline = time.monotonic() + timeout
        quiet, last = 0, None
        while quiet < QUIET_SAMPLES:
            if time.monotonic() >= deadline or not self.running:
                return False
            sample = _activity(self.process.pid, slack_port)
            quiet = quiet + 1 if sample is not None and sample == last else 0
            last = sample
            time.sleep(QUIET_SAMPLE_SECONDS)
        return True

    def terminate(self) -> int:
        """SIGTERM (SIGKILL if it does not stop in time); returns the exit status."""
        assert self.process is not None
        self.returncode = processes.stop(self.process)
        self._log.close()
        return self.returncode

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self._log.close()

    def stop(self) -> None:
        """Stop it, whatever state it is in; it must have exited cleanly if still running."""
        if self.process is not None and self.process.poll() is None:
            status = self.terminate()
            assert status == 0, f"saydo exited with {status} on SIGTERM:\n{self.log()}"

    # --- requests as Slack sends them ---------------------------------------------------

    def post_signed(
        self,
        body: str,
        *,
        content_type: str = "application/x-www-form-urlencoded",
        headers: dict[str, str] | None = None,
    ) -> requests.Response:
        return requests.post(
            self.base_url + "/slack/events",
            data=body.encode(),
            headers={**signed_headers(body, content_type=content_type), **(headers or {})},
            timeout=10,
        )

    def command(
        self,
        command: str,
        text: str = "",
        *,
        user_id: str = "U0ALICE",
        channel_id: str = "C0PARTNER",
        team_id: str = TEAM_ID,
        response_url: str | None = None,
        trigger_id: str | None = None,
    ) -> requests.Response:
        body = doors.slash_command_body(
            command=command,
            text=text,
            user_id=user_id,
            channel_id=channel_id,
            channel_name="partnership",
            team_id=team_id,
            team_domain="saydo-test",
            response_url=response_url or self._response_url(),
            trigger_id=trigger_id or doors.new_trigger_id(),
        )
        return self.post_signed(body)

    def event(
        self,
        event: dict,
        *,
        event_id: str | None = None,
        team_id: str = TEAM_ID,
        retry_num: int | None = None,
        authorized_teams: list[str] | None = None,
    ) -> requests.Response:
        body = doors.event_body(
            event,
            team_id=team_id,
            bot_user_id="UBOT",
            event_id=event_id or f"Ev{uuid.uuid4().hex[:10].upper()}",
            authorized_teams=authorized_teams,
        )
        headers = {}
        if retry_num is not None:
            headers = {"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": "http_timeout"}
        return self.post_signed(body, content_type=doors.JSON, headers=headers)

    def _response_url(self) -> str:
        return self.response_url_factory() if self.response_url_factory else "http://127.0.0.1:9/"

    def submit_view(self, view: dict, user: dict, values: dict) -> requests.Response:
        """Submit a modal as Slack does: the view as opened, with the state of its inputs."""
        return self.interaction(
            doors.view_submission(
                {
                    **view,
                    "id": "V0000000001",
                    "team_id": TEAM_ID,
                    "state": {"values": values},
                    "hash": "1764000000.abcdef12",
                    "app_id": doors.APP_ID,
                    "bot_id": "BBOT",
                },
                user=user,
                team=doors.team_object(TEAM_ID, domain="saydo-test"),
                trigger_id=doors.new_trigger_id(),
            )
        )

    def interaction(self, payload: dict) -> requests.Response:
        return self.post_signed(doors.interaction_body(payload))


def _activity(pid: int, slack_port: int) -> int | None:
    """The process's CPU time in clock ticks when it is quiet now (no thread running, runnable
    or in uninterruptible I/O, no open connection to the stand-in); None when it is busy."""
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            if _stat_fields(task / "stat")[0] in ("R", "D"):
                return None
        fields = _stat_fields(Path(f"/proc/{pid}/stat"))
    except (OSError, ValueError):  # a thread ended meanwhile: ask again
        return None
    if _connected_to(slack_port):
        return None
    return int(fields[11]) + int(fields[12])  # utime + stime


def _stat_fields(path: Path) -> list[str]:
    """`/proc/.../stat` from the state field on (the command name may hold spaces)."""
    text = path.read_text()
    return text[text.rindex(")") + 2 :].split()


def _connected_to(port: int) -> bool:
    """Whether any TCP connection to or from 127.0.0.1:`port` is open."""
    wanted = f"0100007F:{port:04X}"  # as /proc/net/tcp writes it
    with open("/proc/net/tcp") as table:
        next(table)
        for line in table:
            local, remote, state = line.split()[1:4]
            if state == TCP_ESTABLISHED and wanted in (local, remote):
                return True
    return False
