"""The load generator: signed requests from N concurrent keep-alive clients: `/saydo help`, or
one of the requests of the slow-Slack benchmark (`Scenario`).

`run_load` is meant to run in its own process (see `bench.ack_latency`), so the generator's
threads never compete for the GIL with whatever else the benchmark driver does. Each client
thread owns one persistent `http.client.HTTPConnection`, sends one untimed request to open
and warm its connection, waits for every other client, then takes requests from a shared
counter until the run's total is reached. Building and signing a request happens before the
clock starts; a latency is `perf_counter()` from sending the request to reading the whole
response. Each request's wall-clock send time is kept with the key its reply can be found by
(its `response_url` path, `trigger_id` or message `ts`), for the time until the reply.
"""

from __future__ import annotations

import http.client
import itertools
import threading
import time
import uuid
from dataclasses import dataclass, field

from slack_sdk.signature import SignatureVerifier

from bot.playground import slack_requests as doors

EVENTS_PATH = "/slack/events"
REQUEST_TIMEOUT_SECONDS = 30


@dataclass
class LoadResult:
    """One run against one target: per-request latencies in seconds, wall time and errors."""

    latencies: list[float] = field(default_factory=list)
    wall_seconds: float = 0.0
    errors: list[str] = field(default_factory=list)
    sent: dict[str, float] = field(default_factory=dict)  # reply key -> time.time() at sending


@dataclass(frozen=True)
class Scenario:
    """What each request is. `help`: `/saydo help` (answered in the acknowledgement); `commit`:
    `/commit <text> by <due>`; `form`: `/commit` with no text (opens the form); `done`:
    `/done <ref>`, request `n` closing `refs[n]` as its owner (`(client, ref)`: the commitment
    of `U0BENCH<client>`); `mention`: an `app_mention` logging a commitment. Otherwise client
    `i` speaks as `U0BENCH<i>`; replies go to
    `<reply_base>/response/<token>`; `due` is a date Saydo's grammar reads."""

    name: str = "help"
    reply_base: str = "http://127.0.0.1:9"
    due: str = ""
    refs: tuple[tuple[int, int], ...] = ()

    def request(self, client: int, number: int) -> tuple[str, str, str]:
        """Request `number` of the run, sent by client `client`: (body, content type, reply
        key)."""
        user = f"U0BENCH{client:02d}"
        token = uuid.uuid4().hex
        if self.name == "mention":
            ts = f"{time.time():.6f}"
            event = doors.app_mention_event(
                user_id=user,
                text=f"<@UBOT> I'll send report {token[:8]} by {self.due}",
                channel_id=CHANNEL,
                ts=ts,
                team_id="T0001",
            )
            body = doors.event_body(
                event, team_id="T0001", bot_user_id="UBOT", event_id=f"Ev{token[:12].upper()}"
            )
            return body, doors.JSON, ts
        command, text = "/commit", ""  # form
        if self.name == "help":
            command, text = "/saydo", "help"
        elif self.name == "commit":
            text = f"send report {token[:8]} by {self.due}"
        elif self.name == "done":
            owner, ref = self.refs[number]
            command, text, user = "/done", str(ref), f"U0BENCH{owner:02d}"
        trigger_id = doors.new_trigger_id()
        path = f"/response/{token}"
        body = doors.slash_command_body(
            command=command,
            text=text,
            user_id=user,
            channel_id=CHANNEL,
            channel_name="bench",
            team_id="T0001",
            team_domain="bench",
            response_url=self.reply_base + path,
            trigger_id=trigger_id,
        )
        return body, doors.FORM, trigger_id if self.name == "form" else path


CHANNEL = "C0BENCH"


def signed_request(
    verifier: SignatureVerifier, scenario: Scenario = Scenario(), client: int = 0, number: int = 0
) -> tuple[bytes, dict[str, str], str]:
    """A fresh body, its Slack signature headers (timestamp: now) and its reply key."""
    body, content_type, key = scenario.request(client, number)
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": verifier.generate_signature(timestamp=timestamp, body=body),
    }
    return body.encode(), headers, key


def send(
    connection: http.client.HTTPConnection, body: bytes, headers: dict[str, str]
) -> tuple[int, bytes]:
    connection.request("POST", EVENTS_PATH, body=body, headers=headers)
    response = connection.getresponse()
    return response.status, response.read()


def run_load(
    host: str,
    port: int,
    secret: str,
    requests: int,
    concurrency: int,
    scenario: Scenario = Scenario(),
) -> LoadResult:
    """Send `requests` signed requests over `concurrency` connections; never raises for a
    failed request (it is counted in `errors`)."""
    verifier = SignatureVerifier(secret)
    counter = itertools.count()  # next() is atomic under the GIL
    start_at: list[float] = []
    barrier = threading.Barrier(concurrency, action=lambda: start_at.append(time.perf_counter()))
    per_client: list[LoadResult] = [LoadResult() for _ in range(concurrency)]

    def client(number: int, result: LoadResult) -> None:
        connection = http.client.HTTPConnection(host, port, timeout=REQUEST_TIMEOUT_SECONDS)
        try:
            try:
                send(connection, *signed_request(verifier)[:2])  # opens it, untimed
            except (OSError, http.client.HTTPException) as error:
                result.errors.append(f"warm-up: {type(error).__name__}: {error}")
                connection.close()
            barrier.wait()
            while (request_number := next(counter)) < requests:
                body, headers, key = signed_request(verifier, scenario, number, request_number)
                result.sent[key] = time.time()
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
        threading.Thread(target=client, args=(i, result), name=f"client-{i}")
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
        total.sent.update(result.sent)
    return total
