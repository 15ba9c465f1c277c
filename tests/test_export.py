"""`saydo export`, run as a real process over commitments made through the domain."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event

from bot.commitments.lifecycle import EventKind
from bot.commitments.service import (
    change_commitment,
    ensure_partnership,
    log_commitment,
    save_person,
)
from bot.reports import export as export_module
from tests.test_cli import run_saydo

JAN = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)  # long past: outcomes are settled
FEB = datetime(2025, 2, 3, 9, 0, tzinfo=UTC)


@pytest.fixture
def world(engine):
    """Seven commitments in two partnerships, each ending a different way."""
    now = datetime.now(UTC).replace(microsecond=0)

    def person(user_id, name, team_id="T0001", tz="Europe/London"):
        return save_person(
            engine, team_id=team_id, user_id=user_id, name=name, tz=tz, locale="en-GB", now=JAN
        )

    alice, bob = person("U0ALICE", "Alice"), person("U0BOB", "Bob")
    carol = person("U0CAROL", 'Carol, "the" partner', team_id="T0PARTNER")
    housing = ensure_partnership(engine, team_id="T0001", channel_id="C0HOUSING", name="housing")
    health = ensure_partnership(engine, team_id="T0001", channel_id="C0HEALTH", name="health")

    def log(title, *, at, due, owner=alice, creator=None, recipient=None, where=housing, **kw):
        return log_commitment(
            engine,
            partnership=where,
            creator=creator or owner,
            owner=owner,
            recipient=recipient,
            title=title,
            due_at=due,
            has_time=False,
            now=at,
            **kw,
        ).commitment

    def change(c, kind, *, at, actor=None, **kw):
        return change_commitment(
            engine, team_id="T0001", ref=c.ref, actor=actor or c.owner, kind=kind, now=at, **kw
        )

    kept = log(
        "send the budget",
        at=JAN,
        due=JAN + timedelta(days=4),
        recipient=bob,
        source_permalink="https://saydo-test.slack.com/archives/C0HOUSING/p1736154000000100",
    )
    change(kept, EventKind.DELIVERED, at=JAN + timedelta(days=2), note="https://example.org/b")
    late = log("book the venue", at=JAN, due=JAN + timedelta(days=4), owner=carol)
    change(late, EventKind.DELIVERED, at=JAN + timedelta(days=6))
    missed = log("draft the leaflet", at=JAN, due=JAN + timedelta(days=4), where=health)
    withdrawn = log("call the landlord", at=JAN, due=JAN + timedelta(days=4))
    change(withdrawn, EventKind.WITHDRAWN, at=JAN + timedelta(days=1), note="not needed")
    proposed = log("print flyers", at=FEB, due=FEB + timedelta(days=4), owner=bob, creator=alice)
    moved = log("share the minutes", at=FEB, due=FEB + timedelta(days=2), where=health)
    change(moved, EventKind.MOVED, at=FEB + timedelta(days=1), due_at=FEB + timedelta(days=9),
           note="waiting for the chair")  # fmt: skip
    change(moved, EventKind.DELIVERED, at=FEB + timedelta(days=5))
    pending = log("plan the review", at=now, due=now + timedelta(days=30), recipient=carol)
    return {
        "engine": engine,
        "refs": {
            "kept": kept.ref,
            "late": late.ref,
            "missed": missed.ref,
            "withdrawn": withdrawn.ref,
            "proposed": proposed.ref,
            "moved": moved.ref,
            "pending": pending.ref,
        },
        "now": now,
    }


def export(database_url, tmp_path, *args):
    return run_saydo("export", *args, env={"DATABASE_URL": database_url}, cwd=tmp_path)


def by_title(records):
    return {r["title"]: r for r in records}


def test_csv_is_the_default_and_has_one_row_per_commitment(world, database_url, tmp_path):
    result = export(database_url, tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    records = list(csv.DictReader(io.StringIO(result.stdout)))
    assert tuple(records[0].keys()) == export_module.COLUMNS
    assert [int(r["reference"]) for r in records] == sorted(world["refs"].values())
    rows = by_title(records)

    kept = rows["send the budget"]
    assert kept == {
        "workspace_id": "T0001",
        "reference": str(world["refs"]["kept"]),
        "channel_id": "C0HOUSING",
        "partnership": "housing",
        "owner_id": "U0ALICE",
        "owner_name": "Alice",
        "owner_team_id": "T0001",
        "title": "send the budget",
        "created_at": "2025-01-06T09:00:00Z",
        "original_due_at": "2025-01-10T09:00:00Z",
        "due_at": "2025-01-10T09:00:00Z",
        "status": "delivered",
        "delivered_at": "2025-01-08T09:00:00Z",
        "kept": "true",
        "date_changes": "0",
        "recipient_id": "U0BOB",
        "recipient_name": "Bob",
        "evidence": "https://example.org/b",
        "source_permalink": "https://saydo-test.slack.com/archives/C0HOUSING/p1736154000000100",
    }

    late = rows["book the venue"]
    assert (late["kept"], late["status"], late["delivered_at"]) == (
        "false",
        "delivered",
        "2025-01-12T09:00:00Z",
    )
    assert (late["owner_id"], late["owner_team_id"]) == ("U0CAROL", "T0PARTNER")
    assert late["owner_name"] == 'Carol, "the" partner'  # quoted properly, read back whole
    assert late["recipient_id"] == late["evidence"] == late["source_permalink"] == ""

    missed = rows["draft the leaflet"]
    assert (missed["kept"], missed["status"], missed["channel_id"]) == ("false", "open", "C0HEALTH")
    assert missed["delivered_at"] == ""

    withdrawn = rows["call the landlord"]
    assert (withdrawn["kept"], withdrawn["status"]) == ("", "withdrawn")

    proposed = rows["print flyers"]
    assert (proposed["kept"], proposed["status"], proposed["owner_id"]) == (
        "",
        "proposed",
        "U0BOB",
    )

    moved = rows["share the minutes"]
    assert moved["date_changes"] == "1"
    assert moved["original_due_at"] == "2025-02-05T09:00:00Z"
    assert moved["due_at"] == "2025-02-12T09:00:00Z"
    assert moved["kept"] == "true"  # moved before the deadline, delivered by the new date

    pending = rows["plan the review"]
    assert (pending["kept"], pending["status"]) == ("", "open")
    assert pending["recipient_name"] == 'Carol, "the" partner'


def test_json_has_the_same_rows_with_typed_values(world, database_url, tmp_path):
    as_csv = list(csv.DictReader(io.StringIO(export(database_url, tmp_path).stdout)))
    result = export(database_url, tmp_path, "--format", "json")
    assert result.returncode == 0, result.stderr
    records = json.loads(result.stdout)
    assert [r["title"] for r in records] == [r["title"] for r in as_csv]
    rows = by_title(records)
    assert rows["send the budget"]["kept"] is True
    assert rows["book the venue"]["kept"] is False
    assert rows["draft the leaflet"]["kept"] is False
    assert rows["call the landlord"]["kept"] is None
    assert rows["print flyers"]["kept"] is None
    assert rows["plan the review"]["kept"] is None
    assert rows["share the minutes"]["date_changes"] == 1
    assert rows["send the budget"]["reference"] == world["refs"]["kept"]
    assert rows["book the venue"]["recipient_id"] is None
    assert rows["send the budget"]["created_at"] == "2025-01-06T09:00:00Z"
    for record in records:
        assert list(record) == list(export_module.COLUMNS)


def test_channel_and_since_filter_the_rows(world, database_url, tmp_path):
    health = export(database_url, tmp_path, "--channel", "C0HEALTH", "--format", "json")
    assert {r["title"] for r in json.loads(health.stdout)} == {
        "draft the leaflet",
        "share the minutes",
    }
    both = export(database_url, tmp_path, "--channel", "C0HEALTH", "--channel", "C0HOUSING")
    assert len(list(csv.DictReader(io.StringIO(both.stdout)))) == 7

    since = export(database_url, tmp_path, "--since", "2025-02-01", "--format", "json")
    assert {r["title"] for r in json.loads(since.stdout)} == {
        "print flyers",
        "share the minutes",
        "plan the review",
    }
    combined = export(
        database_url,
        tmp_path,
        "--since",
        "2025-02-03",
        "--channel",
        "C0HOUSING",
        "--format",
        "json",
    )
    assert [r["title"] for r in json.loads(combined.stdout)] == ["print flyers", "plan the review"]


def test_nothing_to_export_is_a_header_or_an_empty_array(engine, database_url, tmp_path):
    as_csv = export(database_url, tmp_path)
    assert as_csv.returncode == 0, as_csv.stderr
    assert as_csv.stdout.splitlines() == [",".join(export_module.COLUMNS)]
    as_json = export(database_url, tmp_path, "--format", "json")
    assert json.loads(as_json.stdout) == []


@pytest.mark.parametrize("since", ["yesterday", "2025-13-01", "31/01/2025", ""])
def test_a_bad_since_is_one_line_and_exit_2(database_url, tmp_path, since):
    result = export(database_url, tmp_path, "--since", since)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.startswith("saydo: --since must be an ISO date like 2026-01-31")
    assert len(result.stderr.strip().splitlines()) == 1


def test_an_unknown_format_is_refused(database_url, tmp_path):
    result = export(database_url, tmp_path, "--format", "xlsx")
    assert result.returncode == 2
    assert "invalid choice: 'xlsx'" in result.stderr


def test_the_export_takes_one_query_however_many_rows(world, engine):
    statements = []
    event.listen(engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    out = io.StringIO()
    count = export_module.export(engine, out, fmt="csv")
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert count == 7
    assert len(selects) == 1
