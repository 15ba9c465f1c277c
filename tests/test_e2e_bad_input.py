"""Bad input over HTTP: refused with the right status and one log line, never a 500."""

from __future__ import annotations

import json
import socket
import sqlite3
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import pytest
import requests
from sqlalchemy import create_engine, text, update
from sqlalchemy.engine import make_url

from bot.blocks import ids
from bot.partnerships.members import find_partnership, list_members
from bot.playground import slack_requests as doors
from bot.server import MAX_BODY_BYTES
from storage.models import Commitment
from tests.saydo_process import signed_headers
from tests.waiting import logged_message

pytestmark = pytest.mark.share_saydo  # one `saydo run` per module

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
    saydo.settle()  # all it will log about these requests is in the log now
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
    saydo.settle()  # all it will log about these requests is in the log now
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
    saydo.settle()  # all it will log about these requests is in the log now
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


# --- signed requests that are well formed but not what Saydo expects ------------------------


def in_ten_days() -> str:
    return (datetime.now(UTC) + timedelta(days=10)).strftime("%d %b %Y")


def count_commitments(engine) -> int:
    with engine.connect() as connection:
        return connection.execute(text("SELECT count(*) FROM commitment")).scalar_one()


def signed_command(saydo, people, command: str, text: str):
    """A signed slash command by Alice in the partnership channel, and a function that sends
    exactly those bytes, once or again (a replay inside the signature window)."""
    body = doors.slash_command_body(
        command=command,
        text=text,
        user_id="U0ALICE",
        channel_id="C0PARTNER",
        team_id="T0001",
        response_url=people.response_url(),
        trigger_id=doors.new_trigger_id(),
    )
    headers = signed_headers(body)
    url = saydo.base_url + "/slack/events"
    return lambda: requests.post(url, data=body, headers=headers, timeout=10)


def test_a_slash_command_replayed_inside_the_signature_window_changes_nothing(
    saydo, people, engine
):
    send = signed_command(saydo, people, "/commit", f"send the budget by {in_ten_days()}")
    assert send().status_code == 200
    logged_message(people)
    with engine.begin() as connection:  # the replay comes 62 s later, as observed
        connection.execute(
            update(Commitment).values(created_at=datetime.now(UTC) - timedelta(seconds=62))
        )
    assert send().status_code == 200  # the replay
    # A different commitment, answered after the replay would have been.
    saydo.command("/commit", f"book the room by {in_ten_days()}")
    assert "Logged *#2*" in logged_message(people, count=2)["text"]
    assert count_commitments(engine) == 2


def test_a_saydo_command_replayed_is_answered_but_changes_nothing(saydo, people, engine):
    """`/saydo` is acknowledged before its delivery is claimed: a replay is acknowledged
    again, and what the first delivery saved is not saved twice."""
    send = signed_command(saydo, people, "/saydo", "lesson agree the agenda a week early")
    assert send().status_code == 200
    assert "Lesson logged" in people.wait_for("response_url")[0].args["text"]
    assert send().status_code == 200  # the replay
    # A different lesson, answered after the replay would have been.
    saydo.command("/saydo", "lesson check who owns each action", user_id="U0ALICE")
    answers = people.wait_for("response_url", count=2)
    assert "Lesson logged" in answers[1].args["text"]
    with engine.connect() as connection:
        lessons = connection.execute(text("SELECT text FROM lesson ORDER BY id")).scalars().all()
    assert lessons == ["agree the agenda a week early", "check who owns each action"]


def test_slacks_escapes_are_decoded_once_and_escaped_once(saydo, people, engine):
    saydo.command("/commit", f"R&amp;D report &lt;draft&gt; by {in_ten_days()}")
    reply = logged_message(people)
    with engine.connect() as connection:
        stored = connection.execute(text("SELECT title FROM commitment")).scalar_one()
    assert stored == "R&D report <draft>"
    assert "R&amp;D report &lt;draft&gt;" in reply["text"]
    assert "&amp;amp;" not in json.dumps(reply)


def test_a_title_of_only_invisible_characters_is_refused(saydo, people, engine):
    saydo.command("/commit", f"\u200b\u200c\u2060 \ufeff by {in_ten_days()}")
    reply = people.wait_for("response_url")[0].args
    assert reply["response_type"] == "ephemeral"
    assert "What are you committing to?" in reply["text"]
    assert count_commitments(engine) == 0


def test_the_first_commit_in_a_channel_reads_its_members(saydo, people, engine):
    saydo.command("/commit", f"send the budget by {in_ten_days()}")
    logged_message(people)
    partnership = find_partnership(engine, team_id="T0001", channel_id="C0PARTNER")
    members = list_members(engine, partnership_id=partnership.id)
    assert {m.person.user_id for m in members} == {"U0ALICE", "U0BOB", "U0CAROL"}


def _submit(saydo, callback_id: str, *, values=None, metadata: str | None = None):
    view = {"type": "modal", "callback_id": callback_id}
    if metadata is not None:
        view["private_metadata"] = metadata
    payload = doors.view_submission(
        view if values is None else {**view, "state": {"values": values}},
        user=doors.user_object("U0ALICE", team_id="T0001"),
        team=doors.team_object("T0001", domain="saydo-test"),
        trigger_id=doors.new_trigger_id(),
    )
    return saydo.interaction(payload)


def test_malformed_form_submissions_get_field_errors_never_a_500(saydo, people):
    too_large = json.dumps({"ref": 2**40})
    cases = [
        (ids.CREATE_MODAL, None, None),  # no state at all
        (ids.CREATE_MODAL, {}, "not json"),
        (ids.MOVE_MODAL, {}, too_large),
        (ids.MOVE_MODAL, {}, json.dumps({"ref": "12"})),
        (ids.DELIVER_MODAL, {}, "[]"),
        (ids.DISPUTE_MODAL, {}, too_large),
        (ids.CANT_DELIVER_MODAL, None, None),
        (ids.CANT_DELIVER_MODAL, {}, too_large),
    ]
    for callback_id, values, metadata in cases:
        response = _submit(saydo, callback_id, values=values, metadata=metadata)
        assert response.status_code == 200, (callback_id, metadata, response.text)
        answer = response.json()
        assert answer["response_action"] == "errors", (callback_id, answer)
        assert all(answer["errors"].values())
    saydo.settle()  # all it will log about these requests is in the log now
    assert "Traceback" not in saydo.log()


# --- the database unreachable -------------------------------------------------------------


@contextmanager
def database_unreachable(database_url: str):
    """Make the app's real database unreachable, then bring it back.

    SQLite: another process holds the write lock past the busy timeout. PostgreSQL: its
    connections are ended and the database renamed, so reconnecting fails."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        blocker = sqlite3.connect(url.database, isolation_level=None)
        blocker.execute("BEGIN EXCLUSIVE")
        try:
            yield
        finally:
            blocker.execute("ROLLBACK")
            blocker.close()
        return
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    hidden = f"{url.database}_away"
    with admin.connect() as connection:
        connection.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = :name AND pid <> pg_backend_pid()"
            ),
            {"name": url.database},
        )
        connection.execute(text(f'ALTER DATABASE "{url.database}" RENAME TO "{hidden}"'))
    try:
        yield
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'ALTER DATABASE "{hidden}" RENAME TO "{url.database}"'))
        admin.dispose()


def test_while_the_database_is_unreachable_people_are_told_and_health_is_503(
    saydo, people, database_url
):
    health = saydo.base_url + "/healthz"
    with database_unreachable(database_url):
        # Acknowledged at once (the acknowledgement never waits for the database); the person
        # is then told privately, through the command's response_url.
        response = saydo.command("/commit", f"send the budget by {in_ten_days()}")
        assert response.status_code == 200
        answer = people.wait_for("response_url", timeout=30)[0].args
        assert answer["response_type"] == "ephemeral"
        assert answer["text"] == (
            "Saydo can't save that right now, nothing was recorded, please try again in a minute."
        )
        assert requests.get(health, timeout=15).status_code == 503
        assert requests.get(health, timeout=15).status_code == 503
    assert requests.get(health, timeout=15).status_code == 200
    saydo.command("/commit", f"send the budget by {in_ten_days()}")
    assert "Logged *#1*" in logged_message(people)["text"]
    saydo.settle()  # all it will log about these requests is in the log now
    log = saydo.log()
    assert log.count("Database unreachable") == 1
    assert "Traceback" not in log


def test_an_error_after_the_acknowledgement_is_logged_once_and_the_person_is_told(
    saydo, people, engine
):
    with engine.begin() as connection:  # a broken schema: the listener fails mid-way
        connection.execute(text("ALTER TABLE ref_counter RENAME TO ref_counter_away"))
    try:
        response = saydo.command("/commit", f"send the budget by {in_ten_days()}")
        assert response.status_code == 200
        told = people.wait_for("response_url")[0].args
    finally:
        with engine.begin() as connection:
            connection.execute(text("ALTER TABLE ref_counter_away RENAME TO ref_counter"))
    assert told["response_type"] == "ephemeral"
    assert "nothing was" in told["text"] and "try again in a minute" in told["text"]
    assert count_commitments(engine) == 0
    saydo.settle()  # all it will log about these requests is in the log now
    log = saydo.log()
    assert "Traceback" not in log
    assert log.count("while handling a /commit") == 1
