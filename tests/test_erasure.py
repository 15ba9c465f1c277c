"""`saydo forget`: a person's names and words go, every count and ratio stays."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import String, Text, select
from sqlmodel import SQLModel

from bot.commitments.lifecycle import EventKind
from bot.commitments.service import (
    change_commitment,
    ensure_partnership,
    log_commitment,
    save_person,
)
from bot.partnerships.members import upsert_member
from bot.reports.export import export
from storage.db import transaction
from storage.models import Lesson
from tests.test_cli import run_saydo

STARTED = datetime.now(UTC) - timedelta(days=10)  # the records are made relative to today


def partnership_with_history(engine) -> None:
    """Alice keeps one commitment and misses another; Bob keeps his; Alice wrote a lesson."""
    partnership = ensure_partnership(engine, team_id="T0001", channel_id="C0PARTNER")
    alice, bob = (
        save_person(engine, team_id="T0001", user_id=u, name=n, tz="UTC", locale=None, now=STARTED)
        for u, n in (("U0ALICE", "Alice Adams"), ("U0BOB", "Bob Brown"))
    )
    for person in (alice, bob):
        upsert_member(
            engine,
            partnership_id=partnership.id,
            person=person,
            organisation="Council",
            now=STARTED,
        )
    for owner, title in (
        (alice, "Alice sends the budget"),
        (alice, "Alice books the room"),
        (bob, "Bob shares the risks"),
    ):
        log_commitment(
            engine,
            partnership=partnership,
            creator=owner,
            owner=owner,
            recipient=None,
            title=title,
            due_at=STARTED + timedelta(days=3),
            has_time=False,
            now=STARTED,
            notes=f"{title}, noted by {owner.name}",
        )
    for ref, owner in ((1, alice), (3, bob)):
        change_commitment(
            engine,
            team_id="T0001",
            ref=ref,
            actor=owner,
            kind=EventKind.DELIVERED,
            now=STARTED + timedelta(days=1),
            note=f"evidence from {owner.name}",
        )
    with transaction(engine) as session:
        session.add(
            Lesson(partnership_id=partnership.id, person_id=alice.id, text="Alice Adams: ask early")
        )


def exported(engine) -> list[dict]:
    out = io.StringIO()
    export(engine, out, fmt="json", now=STARTED + timedelta(days=10))
    return json.loads(out.getvalue())


def every_text(engine) -> str:
    """Every string stored in Saydo's tables, as one text to search."""
    found = []
    with transaction(engine) as session:
        for table in SQLModel.metadata.sorted_tables:
            columns = [c for c in table.columns if isinstance(c.type, String | Text)]
            if columns:
                found += [str(v) for row in session.execute(select(*columns)) for v in row]
    return "\n".join(found)


def forget(database_url, tmp_path, *args: str):
    return run_saydo("forget", *args, env={"DATABASE_URL": database_url}, cwd=tmp_path)


def test_forgetting_a_person_erases_their_data_and_keeps_every_count(
    engine, database_url, tmp_path
):
    partnership_with_history(engine)
    before = exported(engine)

    result = forget(database_url, tmp_path, "--user", "U0ALICE", "--team", "T0001")

    assert result.returncode == 0, result.stderr
    *changed, cancelled = result.stdout.splitlines()
    assert changed == [
        "1 person's name, Slack id and profile replaced by a tombstone",
        "2 commitment(s) they logged: title, notes and source erased",
        "1 commitment(s) they owned: evidence erased",
        "1 note(s) on changes they made erased",
        "1 lesson(s) they wrote erased",
    ]
    assert cancelled.endswith("queued message(s) to them cancelled")  # Alice's reminders
    after = exported(engine)
    kept = ("reference", "status", "kept", "due_at", "delivered_at", "owner_team_id")
    assert [{k: r[k] for k in kept} for r in after] == [{k: r[k] for k in kept} for r in before]
    assert [r["kept"] for r in after] == [True, False, True]  # Alice's ratio: still 1 of 2
    stored = every_text(engine)
    assert "Alice" not in stored and "U0ALICE" not in stored
    assert "Bob shares the risks" in stored and "evidence from Bob Brown" in stored


def test_forgetting_again_changes_nothing(engine, database_url, tmp_path):
    partnership_with_history(engine)
    forget(database_url, tmp_path, "--user", "U0ALICE")
    before = every_text(engine)

    again = forget(database_url, tmp_path, "--user", "U0ALICE")

    assert again.returncode == 0
    assert again.stdout == "No personal data of U0ALICE is kept: nothing to erase.\n"
    assert every_text(engine) == before


def test_a_malformed_user_id_is_refused_in_one_line(database_url, tmp_path):
    result = forget(database_url, tmp_path, "--user", "alice")
    assert result.returncode == 2
    assert result.stderr == (
        "saydo: --user and --team take Slack ids such as U0123ABCD and T0123ABCD.\n"
    )
