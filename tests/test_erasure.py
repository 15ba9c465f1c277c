"""`saydo forget`: a person's names and words go, every count and ratio stays."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta

import pytest
from slack_sdk.oauth.installation_store import Installation
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from sqlalchemy import String, Text, select
from sqlmodel import SQLModel

from bot.commitments.lifecycle import EventKind
from bot.commitments.service import (
    change_commitment,
    ensure_partnership,
    log_commitment,
    save_person,
)
from bot.erasure import erase_uninstalled, note_uninstalled, pending_erasures
from bot.partnerships.members import upsert_member
from bot.reports.export import export
from storage.db import transaction
from storage.models import Lesson, Person, WorkspaceUninstall
from tests.test_cli import run_saydo

STARTED = datetime.now(UTC) - timedelta(days=10)  # the records are made relative to today


def partnership_with_history(engine) -> None:
    """Alice keeps one commitment and misses another; Bob keeps his; Alice wrote a lesson.
    Carol, from the partner's workspace, is a member too."""
    partnership = ensure_partnership(engine, team_id="T0001", channel_id="C0PARTNER")
    alice, bob, carol = (
        save_person(engine, team_id=t, user_id=u, name=n, tz="UTC", locale=None, now=STARTED)
        for t, u, n in (
            ("T0001", "U0ALICE", "Alice Adams"),
            ("T0001", "U0BOB", "Bob Brown"),
            ("T0PARTNER", "U0CAROL", "Carol Chen"),
        )
    )
    for person in (alice, bob, carol):
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
        "1 person(s): name, Slack id and profile replaced by a tombstone",
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


def test_forgetting_a_workspace_erases_everyone_of_it_and_keeps_every_count(
    engine, database_url, tmp_path
):
    partnership_with_history(engine)
    before = exported(engine)

    result = forget(database_url, tmp_path, "--team", "T0001")

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[:3] == [
        "2 person(s): name, Slack id and profile replaced by a tombstone",
        "3 commitment(s) they logged: title, notes and source erased",
        "2 commitment(s) they owned: evidence erased",
    ]
    after = exported(engine)
    kept = ("reference", "status", "kept", "due_at", "delivered_at", "owner_team_id")
    assert [{k: r[k] for k in kept} for r in after] == [{k: r[k] for k in kept} for r in before]
    stored = every_text(engine)
    for gone in ("Alice", "U0ALICE", "Bob", "U0BOB", "sends the budget", "ask early"):
        assert gone not in stored
    assert names(engine) == [  # the other workspace's person stays
        ("T0001", "Former member"),
        ("T0001", "Former member"),
        ("T0PARTNER", "Carol Chen"),
    ]

    again = forget(database_url, tmp_path, "--team", "T0001")

    assert again.returncode == 0
    assert again.stdout == "No personal data of workspace T0001 is kept: nothing to erase.\n"
    assert every_text(engine) == stored


def test_forgetting_a_workspace_deletes_its_installations_and_tokens(
    engine, database_url, tmp_path
):
    store = SQLAlchemyInstallationStore(client_id="1111.2222", engine=engine)
    store.save(
        Installation(
            app_id="A0001",
            team_id="T0PARTNER",
            user_id="U0CAROL",
            bot_token="xoxb-partner-secret",
            bot_id="BBOT",
            bot_user_id="UBOT",
        )
    )

    result = forget(database_url, tmp_path, "--team", "T0PARTNER")

    assert result.returncode == 0, result.stderr
    assert result.stdout == "2 record(s) of Saydo's installation (tokens included) deleted\n"
    assert store.find_bot(enterprise_id=None, team_id="T0PARTNER") is None
    assert "xoxb-partner-secret" not in every_text(engine)


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        ((), "say whom to erase: --user USER_ID (a person), --team TEAM_ID (a workspace)"),
        (("--team", "partner"), "--user and --team take Slack ids such as U0123ABCD"),
        (("--user", "U0ALICE", "--team", "t1"), "--user and --team take Slack ids such as"),
    ],
)
def test_bad_input_to_forget_is_refused_in_one_line(database_url, tmp_path, args, problem):
    result = forget(database_url, tmp_path, *args)
    assert result.returncode == 2
    assert result.stderr.startswith(f"saydo: {problem}")
    assert result.stderr.count("\n") == 1
    assert result.stdout == ""


# The retention sweep, as of instants chosen here (the scheduler passes `clock.now()`).
UNINSTALLED_AT = datetime(2026, 3, 2, 15, 30, tzinfo=UTC)
RETENTION = timedelta(days=30)


def names(engine) -> list[tuple[str, str]]:
    with transaction(engine) as session:
        return sorted(tuple(row) for row in session.execute(select(Person.team_id, Person.name)))


def test_the_retention_sweep_erases_an_uninstalled_workspace_once_its_period_has_passed(engine):
    partnership_with_history(engine)
    note_uninstalled(engine, team_id="T0PARTNER", now=UNINSTALLED_AT)
    [waiting] = pending_erasures(engine, retention=RETENTION)
    assert waiting.erase_at == UNINSTALLED_AT + RETENTION

    almost = erase_uninstalled(
        engine, now=UNINSTALLED_AT + RETENTION - timedelta(seconds=1), retention=RETENTION
    )
    assert almost == [] and ("T0PARTNER", "Carol Chen") in names(engine)

    [(team, erased)] = erase_uninstalled(
        engine, now=UNINSTALLED_AT + RETENTION, retention=RETENTION
    )
    assert (team, erased.people) == ("T0PARTNER", 1)
    assert names(engine) == [
        ("T0001", "Alice Adams"),
        ("T0001", "Bob Brown"),
        ("T0PARTNER", "Former member"),
    ]
    assert pending_erasures(engine, retention=RETENTION) == []
    assert erase_uninstalled(engine, now=UNINSTALLED_AT + 2 * RETENTION, retention=RETENTION) == []


def test_uninstalling_again_starts_the_period_afresh(engine):
    partnership_with_history(engine)
    note_uninstalled(engine, team_id="T0PARTNER", now=UNINSTALLED_AT)
    later = UNINSTALLED_AT + timedelta(days=20)
    note_uninstalled(engine, team_id="T0PARTNER", now=later)

    assert erase_uninstalled(engine, now=UNINSTALLED_AT + RETENTION, retention=RETENTION) == []
    [(team, _)] = erase_uninstalled(engine, now=later + RETENTION, retention=RETENTION)
    assert team == "T0PARTNER"


def test_a_workspace_that_installs_again_is_not_erased(engine):
    partnership_with_history(engine)
    note_uninstalled(engine, team_id="T0PARTNER", now=UNINSTALLED_AT)
    SQLAlchemyInstallationStore(client_id="1111.2222", engine=engine).save(
        Installation(app_id="A0001", team_id="T0PARTNER", user_id="U0CAROL", bot_token="xoxb-2")
    )

    assert erase_uninstalled(engine, now=UNINSTALLED_AT + RETENTION, retention=RETENTION) == []
    assert ("T0PARTNER", "Carol Chen") in names(engine)
    with transaction(engine) as session:
        assert session.execute(select(WorkspaceUninstall)).scalars().all() == []


def test_tick_dry_run_says_which_workspaces_it_would_erase_and_erases_none(
    engine, database_url, tmp_path
):
    partnership_with_history(engine)
    note_uninstalled(engine, team_id="T0PARTNER", now=UNINSTALLED_AT)
    at = (UNINSTALLED_AT + RETENTION).isoformat()

    result = run_saydo(
        "tick", "--dry-run", "--now", at, env={"DATABASE_URL": database_url}, cwd=tmp_path
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == (
        "Would erase workspace T0PARTNER (uninstalled Saydo on 2026-03-02)."
    )
    assert ("T0PARTNER", "Carol Chen") in names(engine)
