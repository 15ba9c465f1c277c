"""The load generator: signed `/saydo help` slash commands from N concurrent keep-alive clients.

`run_load` is meant to run in its own process (see `bench.ack_latency`), so the generator's
threads never compete for the GIL with whatever else the benchmark driver does. Each client
thread owns one persistent `http.client.HTTPConnection`, sends one untimed request to open
and warm its connection, waits for every other client, then takes requests from a shared
counter until the run's total is reached. Building and signing a request happens before the
clock starts; a latency is `perf_counter()` from sending the request to reading the whole
response.
"""

from __future__ import annotations

import http.client
import itertools
import threading
import time
import uuid
from dataclasses import dataclass, field
from urllib.parse import urlencode

from slack_sdk.signature import SignatureVerifier

EVENTS_PATH = "/slack/events"
REQUEST_TIMEOUT_SECONDS = 30


@dataclass
class LoadResult:
    """One run against one target: per-request latencies in seconds, wall time and errors."""

    latencies: list[float] = field(default_factory=list)
    wall_seconds: float = 0.0
    errors: list[str] = field(default_factory=list)


def command_body(text: str = "help") -> str:
    """A `/saydo` slash-command payload, form-encoded as Slack sends it."""
    return urlencode(
        {
            "token": "legacy-verification-token",
            "team_id": "T0001",
            "team_domain": "bench",
            "channel_id": "C0BENCH",
            "channel_name": "bench",
            "user_id": "U0BENCH",
            "user_name": "bench",
            "command": "/saydo",
            "text": text,
            "api_app_id": "A0SAYDO",
            "response_url": "http://127.0.0.1:9/unused",
            "trigger_id": f"{uuid.uuid4().int % 10**10}.{uuid.uuid4().hex[:12]}",
        }
    )


def signed_request(verifier: SignatureVerifier) -> tuple[bytes, dict[str, str]]:
    """A fresh body and its Slack signature headers (timestamp: now)."""
    body = command_body()
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": verifier.generate_signature(timestamp=timestamp, body=body),
    }
    return body.encode(), headers


def send(
    connection: http.client.HTTPConnection, body: bytes, headers: dict[str, str]
) -> tuple[int, bytes]:
    connection.request("POST", EVENTS_PATH, body=body, headers=headers)
    response = connection.getresponse()
    return response.status, response.read()


def run_load(host: str, port: int, secret: str, requests: int, concurrency: int) -> LoadResult:
    """Send `requests` signed slash commands over `concurrency` connections; never raises for
    a failed request (it is counted in `errors`)."""
    verifier = SignatureVerifier(secret)
    counter = itertools.count()  # next() is atomic under the GIL
    start_at: list[float] = []
    barrier = threading.Barrier(concurrency, action=lambda: start_at.append(time.perf_counter()))
    per_client: list[LoadResult] = [LoadResult() for _ in range(concurrency)]

    def client(result: LoadResult) -> None:
        connection = http.client.HTTPConnection(host, port, timeout=REQUEST_TIMEOUT_SECONDS)
        try:
            try:
                send(connection, *signed_request(verifier))  # opens the connection, untimed
            except (OSError, http.client.HTTPException) as error:
                result.errors.append(f"warm-up: {type(error).__name__}: {error}")
                connection.close()
            barrier.wait()
            while next(counter) < requests:
                body, headers = signed_request(verifier)
                started = time.perf_counter()
                try:
                    status, _ = send(connection, body, headers)
                except (OSError, http.client.HTTPException) as error:
                    result.errors.append(f"{type(error).__name__}: {error}")
                    connection.close()  # http.client reconnects on the next request
                    continue
                result.latencies.append(time.perf_counter() - started)
                if status != 200:
                    result.errors.append(f"HTTP {status}")
        finally:
            connection.close()

    threads = [
        threading.Thread(target=client, args=(result,), name=f"client-{i}")
        for i, result in enumerate(per_client)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    finished = time.perf_counter()
    total = LoadResult(wall_seconds=finished - start_at[0])
    for result in per_client:
        total.latencies.extend(result.latencies)
        total.errors.extend(result.errors)
    return total
