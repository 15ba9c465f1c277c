"""The playground as a user starts it: `saydo run` (no credentials) or `saydo playground`, as a
real process, driven through its page's JSON API."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import requests

from tests import processes
from tests.saydo_process import START_TIMEOUT_SECONDS, free_port


class PlaygroundProcess:
    def __init__(self, workdir: Path, *args: str, command: str = "playground") -> None:
        self.workdir = workdir
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.args = [command, "--port", str(self.port), *args]
        self.env = {
            k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DATABASE_"))
        }
        self.process: subprocess.Popen | None = None
        self.announcement = ""

    def start(self) -> PlaygroundProcess:
        self._stderr = (self.workdir / "playground.log").open("w+")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bot", *self.args],
            cwd=self.workdir,
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=self._stderr,
        )
        try:
            self._wait_until_announced()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_until_announced(self) -> None:
        assert self.process is not None
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(
                    f"the playground exited {self.process.returncode}:\n{self.log()}"
                )
            if "Saydo playground" in self.log():
                self.announcement = self.log().strip()
                return
            time.sleep(0.1)
        raise AssertionError(f"the playground did not start in time:\n{self.log()}")

    def log(self) -> str:
        if not self._stderr.closed:
            self._stderr.flush()
        return (self.workdir / "playground.log").read_text()

    def stop(self) -> int:
        """SIGTERM (SIGKILL if it does not stop in time); returns the exit status."""
        assert self.process is not None
        status = processes.stop(self.process)
        self._stderr.close()
        return status

    def __enter__(self) -> PlaygroundProcess:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # the page's API

    def state(self, **query: str) -> dict[str, Any]:
        response = requests.get(f"{self.base_url}/api/state", params=query, timeout=30)
        response.raise_for_status()
        return response.json()

    def post(self, action: str, **body: Any) -> requests.Response:
        return requests.post(f"{self.base_url}/api/{action}", json=body, timeout=120)
