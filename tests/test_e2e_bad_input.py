"""Bad input over HTTP: refused with the right status and one log line, never a 500."""

from __future__ import annotations

import json
import socket
from urllib.parse import urlencode

import requests

from bot.playground import doors
from bot.server import MAX_BODY_BYTES

UNSIGNED_JUNK = (
    ("not json at all {", doors.JSON),
    ('{"type": "event_callback"', doors.JSON),
    ("payload=%7Bnot+json", doors.FORM),
    ("payload=%5B1%2C2%5D", doors.FORM),
    ("payload=42", doors.FORM),
)


def test_unsigned_junk_is_401_before_it_is_parsed(saydo):
    url = saydo.base_url + "/slack/events"
    for body, content_type in UNSIGNED_JUNK:
        response = requests.post(url, data=body, headers={"Content-Type": content_type}, timeout=10)
        assert response.status_code == 401, body
    saydo.stop()
    log = saydo.log()
    assert "Traceback" not in log
    assert log.count("Rejected a request") == len(UNSIGNED_JUNK)


def test_signed_but_malformed_bodies_are_400_with_one_log_line_each(saydo):
    form_command = urlencode({"command": "/saydo", "text": "help", "user_id": "U0ALICE"})
    malformed = [
        *UNSIGNED_JUNK,
        ("[1, 2, 3]", doors.JSON),
        (form_command, doors.JSON),  # a form labelled as JSON
    ]
    for body, content_type in malformed:
        response = saydo.post_signed(body, content_type=content_type)
        assert response.status_code == 400, body
    saydo.stop()
    log = saydo.log()
    assert "Traceback" not in log
    assert log.count("Refused a signed request whose body is not a Slack payload") == len(malformed)


def _raw_exchange(port: int, head: bytes, body_chunks=()) -> bytes:
    """Send a request over a bare socket and return what the server answered."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall(head)
        try:
            for chunk in body_chunks:
                connection.sendall(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered and closed without reading the rest: as it should
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    return answer


def test_a_body_declared_over_the_limit_is_413_without_being_read(saydo):
    head = (
        b"POST /slack/events HTTP/1.1\r\nHost: saydo\r\n"
        b"Content-Type: application/json\r\n"
        + f"Content-Length: {100 * 1024 * 1024}\r\n\r\n".encode()
    )
    answer = _raw_exchange(saydo.port, head)  # the 100 MB never come
    assert answer.startswith(b"HTTP/1.1 413 ")
    assert saydo.command("/saydo", "help").status_code == 200


def test_a_chunked_body_over_the_limit_is_413_once_the_limit_is_passed(saydo):
    head = (
        b"POST /slack/events HTTP/1.1\r\nHost: saydo\r\n"
        b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    piece = b"x" * 65536
    chunk = f"{len(piece):x}\r\n".encode() + piece + b"\r\n"
    # Twice the limit, then the stream stays open: only a capped read can answer.
    chunks = [chunk] * (2 * MAX_BODY_BYTES // len(piece))
    answer = _raw_exchange(saydo.port, head, chunks)
    assert answer.startswith(b"HTTP/1.1 413 ")
    saydo.stop()
    assert "Refused a request body over" in saydo.log()


def test_a_body_at_the_limit_is_still_checked_normally(saydo):
    body = json.dumps({"type": "event_callback", "padding": "x" * (MAX_BODY_BYTES - 100)})
    assert len(body) <= MAX_BODY_BYTES
    unsigned = requests.post(
        saydo.base_url + "/slack/events",
        data=body,
        headers={"Content-Type": doors.JSON},
        timeout=10,
    )
    assert unsigned.status_code == 401
    assert saydo.post_signed(body, content_type=doors.JSON).status_code not in (413, 500)
