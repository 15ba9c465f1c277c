"""Say/do reports: hand-computed figures on both databases, the summary's wording rules, the
sparkline, the quiet-week line, `/saydo stats` periods, the Home tab, and a constant number of
queries whatever the number of commitments."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, insert, select

from bot.blocks import reports as report_blocks
from bot.commitments.lifecycle import CommitmentState, EventKind, Outcome, counts_in_period, outcome
from bot.commitments.service import (
    change_commitment,
    ensure_partnership,
    log_commitment,
    save_person,
)
from bot.policy.charter_settings import CharterSettings
from bot.reports import figures as reports
from bot.reports import summaries
from handlers.stats import parse_period
from scheduler import renderers
from storage.db import transaction
from storage.models import CharterVersion, Commitment, Member, Partnership
from tests.slack_contract import assert_valid_blocks, assert_valid_view

T0 = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)  # everything is logged on Mon 16 Nov
SUMMARY_AT = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)  # Mon 30 Nov, 09:00 London (GMT)
WEEK_START = datetime(2026, 11, 23, tzinfo=UTC)
WEEK_END = datetime(2026, 11, 30, tzinfo=UTC)


def at(day: int, hour: int = 17, minute: int = 0, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


class Cast:
    def __init__(self, engine):
        self.engine = engine
        self.partnership = ensure_partnership(
            engine, team_id="T0001", channel_id="C0PARTNER", name="housing-partnership"
        )
        with transaction(engine) as session:  # the partnership began on Mon 16 Nov
            session.get(Partnership, self.partnership.id).created_at = T0
        self.alice = self._person("U0ALICE", "Alice", "T0001")
        self.bob = self._person("U0BOB", "Bob", "T0001")
        self.carol = self._person("U0CAROL", "Carol", "T0PARTNER")  # no member row
        with transaction(engine) as session:
            session.add(
                Member(
                    partnership_id=self.partnership.id,
                    person_id=self.alice.id,
                    organisation="Council",
                )
            )
            session.add(
                Member(
                    partnership_id=self.partnership.id,
                    person_id=self.bob.id,
                    organisation="Supplier Ltd",
                )
            )

    def _person(self, user_id, name, team):
        return save_person(
            self.engine,
            team_id=team,
            user_id=user_id,
            name=name,
            tz="Europe/London",
            locale="en-GB",
            now=T0,
        )

    def commit(self, owner, title, due, *, creator=None, recipient=None):
        return log_commitment(
            self.engine,
            partnership=self.partnership,
            creator=creator or owner,
            owner=owner,
            recipient=recipient,
            title=title,
            due_at=due,
            has_time=True,
            now=T0,
        ).commitment

    def change(self, commitment, actor, kind, when, due_at=None):
        return change_commitment(
            self.engine,
            team_id="T0001",
            ref=commitment.ref,
            actor=actor,
            kind=kind,
            now=when,
            due_at=due_at,
        )

    def visibility(self, value):
        settings = CharterSettings(summary_visibility=value)
        with transaction(self.engine) as session:
            session.add(
                CharterVersion(
                    partnership_id=self.partnership.id, version=1, settings=settings.to_json()
                )
            )


def scenario(engine) -> Cast:
    """The week of Mon 23 to Sun 29 Nov 2026, judged on Mon 30 Nov at 09:00 UTC."""
    c = Cast(engine)
    a, b, k = c.alice, c.bob, c.carol
    D, W = EventKind.DELIVERED, EventKind.WITHDRAWN
    # Alice (Council): kept, kept a day early, late, missed; one open item after the week.
    c.change(c.commit(a, "agenda", at(24)), a, D, at(24, 12))
    c.change(c.commit(a, "minutes", at(27)), a, D, at(25, 10))
    c.change(c.commit(a, "budget", at(25)), a, D, at(26, 10))
    c.commit(a, "risk register", at(26))
    c.commit(a, "site visit notes", at(30, 8))
    # Bob (Supplier Ltd): renegotiated before due (into the week) and kept; moved after due
    # (stays missed in the week); renegotiated before due out of the week; withdrawn before
    # due (listed, not counted); withdrawn after due (missed).
    moved_in = c.commit(b, "quote", at(19))
    c.change(moved_in, b, EventKind.MOVED, at(18), due_at=at(25))
    c.change(moved_in, b, D, at(25, 16))
    late_move = c.commit(b, "invoice", at(24))
    c.change(late_move, b, EventKind.MOVED, at(25), due_at=at(4, month=12))
    early_move = c.commit(b, "drawings", at(24))
    c.change(early_move, b, EventKind.MOVED, at(20), due_at=at(2, month=12))
    c.change(c.commit(b, "cancelled survey", at(25)), b, W, at(23))
    c.change(c.commit(b, "permit", at(23, 12)), b, W, at(24))
    # Carol (no member row: her workspace T0PARTNER): proposed, declined, kept at the exact
    # deadline, missed.
    c.commit(k, "proposal only", at(26), creator=a)
    c.change(c.commit(k, "declined idea", at(26), creator=a), k, EventKind.DECLINED, at(17))
    c.change(c.commit(k, "referrals", at(28, 12)), k, D, at(28, 12))
    c.commit(k, "data sharing agreement", at(27))
    return c


def tallies(figures):
    return {line.label: line.tally for line in figures.organisations}


def test_the_week_is_counted_by_the_keeping_rules(engine):
    c = scenario(engine)
    figures = reports.figures(
        engine, partnership_id=c.partnership.id, start=WEEK_START, end=WEEK_END, now=SUMMARY_AT
    )
    orgs = tallies(figures)
    assert list(orgs) == ["Council", "Supplier Ltd", "T0PARTNER"]
    assert orgs["Council"] == reports.Tally(kept=2, late=1, missed=1, early=1)
    assert orgs["Supplier Ltd"] == reports.Tally(kept=1, missed=2, withdrawn=1)
    assert orgs["T0PARTNER"] == reports.Tally(kept=1, missed=1)
    assert orgs["Council"].ratio == 0.5
    assert orgs["Supplier Ltd"].ratio == pytest.approx(1 / 3)
    total = figures.total.tally
    assert (total.kept, total.late, total.missed, total.withdrawn) == (4, 1, 4, 1)
    assert total.ratio == pytest.approx(4 / 9)
    assert [i.title for i in figures.withdrawn] == ["cancelled survey"]
    people = {line.owner.user_id: line.tally.due for line in figures.people}
    assert people == {"U0ALICE": 4, "U0BOB": 3, "U0CAROL": 2}


def test_before_the_deadlines_they_are_pending_not_missed(engine):
    c = scenario(engine)
    figures = reports.figures(
        engine, partnership_id=c.partnership.id, start=WEEK_START, end=WEEK_END, now=at(23, 13)
    )
    # At Mon 23 Nov 13:00 only the permit (withdrawn later) has no deadline left; the rest of
    # the open ones are still pending.
    assert tallies(figures)["Council"] == reports.Tally(kept=2, late=1, pending=1, early=1)


def test_what_needs_a_new_date_and_the_week_ahead(engine):
    c = scenario(engine)
    ahead = reports.ahead(
        engine, partnership_id=c.partnership.id, now=SUMMARY_AT, until=SUMMARY_AT + timedelta(7)
    )
    assert ahead.overdue_total == 3
    assert [(o.label, o.tally.missed) for o in ahead.overdue] == [("Council", 2), ("T0PARTNER", 1)]
    assert [i.title for i in ahead.overdue_items] == [
        "risk register",
        "data sharing agreement",
        "site visit notes",
    ]
    assert ahead.due_soon_total == 2
    assert [i.title for i in ahead.due_soon_items] == ["drawings", "invoice"]


def test_by_organisation_the_same_figures_are_read_without_people_or_titles(engine):
    # With the charter's default visibility the summary asks for organisations only: the
    # same organisation lines, trends and totals, and no per-person lines or titles.
    c = scenario(engine)
    trend = reports.week_starts(WEEK_END, "Europe/London")
    period = dict(partnership_id=c.partnership.id, start=WEEK_START, end=WEEK_END, now=SUMMARY_AT)
    full = reports.figures(engine, **period, trend=trend)
    orgs = reports.figures(engine, **period, trend=trend, by_person=False)
    assert orgs.organisations == full.organisations and orgs.total == full.total
    assert [line.sparkline for line in orgs.organisations] == ["       ▅", "       ▃", "       ▅"]
    assert (orgs.people, orgs.withdrawn) == ((), ())
    assert full.people and full.withdrawn
    window = dict(partnership_id=c.partnership.id, now=SUMMARY_AT, until=SUMMARY_AT + timedelta(7))
    everyone = reports.ahead(engine, **window)
    counts = reports.ahead(engine, **window, by_person=False)
    assert (counts.overdue, counts.overdue_total) == (everyone.overdue, everyone.overdue_total)
    assert (counts.due_soon, counts.due_soon_total) == (everyone.due_soon, everyone.due_soon_total)
    assert counts.overdue_people == counts.overdue_items == counts.due_soon_items == ()


def summary_message(engine, c, now=SUMMARY_AT):
    weekly = summaries.weekly(engine, partnership_id=c.partnership.id, at=SUMMARY_AT, now=now)
    message = report_blocks.weekly_summary(weekly)
    assert_valid_blocks(message["blocks"])
    assert len(message["blocks"]) <= 50
    return weekly, message, json.dumps(message["blocks"], ensure_ascii=False)


def test_summary_by_organisation_names_nobody(engine):
    c = scenario(engine)
    _, _, text = summary_message(engine, c)
    assert "*Council*: due 4 · kept 2 · late 1 · missed 1 · say/do *50%*" in text
    assert "withdrawn in time, not counted: 1" in text
    assert "<@U0ALICE>" not in text and "risk register" not in text
    assert "3 open commitments have passed their date" in text
    assert "2 commitments fall due in the next 7 days" in text
    assert "Next coffee round: Tue 1 Dec, 10:00" in text
    assert "Next review: Tue 16 Feb 2027" in text
    # Recognition comes first: Carol's early delivery is praised before the figures.
    assert text.index("Delivered early") < text.index("By organisation")
    assert text.index("By organisation") < text.index("Needs a new date")


def test_summary_by_person_adds_people_and_titles(engine):
    c = scenario(engine)
    c.visibility("person")
    _, _, text = summary_message(engine, c)
    assert "By person" in text
    assert "<@U0ALICE>: due 4 · kept 2" in text
    assert "risk register" in text and "drawings" in text and "cancelled survey" in text


def test_target_and_streak_are_recognised(engine):
    c = Cast(engine)
    for week in range(3):  # Alice keeps everything three weeks running
        due = WEEK_START - timedelta(days=7 * week) + timedelta(hours=12)
        item = c.commit(c.alice, f"report {week}", due) if due > T0 else None
        if item:
            c.change(item, c.alice, EventKind.DELIVERED, due - timedelta(hours=1))
    _, _, text = summary_message(engine, c)
    assert "*Council* kept 1 of 1 (100%), at or above the 85% target" in text
    assert "*Council*: 2 full weeks kept in a row" in text


def test_sparkline_draws_the_weekly_ratio_blank_when_nothing_was_due(engine):
    assert reports.sparkline([None, 0.0, 0.5, 1.0]) == " ▁▅█"
    c = scenario(engine)
    weekly, _, text = summary_message(engine, c)
    council = weekly.figures.organisations[0]
    assert council.sparkline == "       ▅"
    assert "`       ▅`" in text


def test_a_quiet_week_is_a_single_short_line(engine):
    c = Cast(engine)
    _, message, _ = summary_message(engine, c)
    assert len(message["blocks"]) == 1
    assert message["text"].startswith("A quiet week for housing-partnership: nothing was due")


def test_a_summary_only_goes_out_when_the_charter_still_wants_it(engine):
    c = scenario(engine)
    assert summaries.plan(engine, now=at(27, 12)) == 1
    with transaction(engine) as session:
        session.add(
            CharterVersion(
                partnership_id=c.partnership.id,
                version=1,
                settings=CharterSettings(summary_weekday=4).to_json(),
            )
        )
    from bot.outbox.sending import Item, Skip

    item = Item(
        1,
        f"summary:{c.partnership.id}:2026-11-30",
        "summary",
        "C0PARTNER",
        SUMMARY_AT,
        None,
        None,
        0,
    )
    assert isinstance(renderers.weekly_summary(engine, item, SUMMARY_AT), Skip)


@pytest.mark.parametrize(
    ("text", "label", "start", "end"),
    [
        ("", "this week", datetime(2026, 11, 23), datetime(2026, 11, 30)),
        ("last week", "last week", datetime(2026, 11, 16), datetime(2026, 11, 23)),
        ("this month", "this month", datetime(2026, 11, 1), datetime(2026, 12, 1)),
        ("this quarter", "this quarter", datetime(2026, 9, 30, 23), datetime(2027, 1, 1)),  # BST
        (
            "2026-11-02 to 2026-11-08",
            "2026-11-02 to 2026-11-08",
            datetime(2026, 11, 2),
            datetime(2026, 11, 9),
        ),
        (
            "2026-11-02 to Friday",
            "2026-11-02 to 2026-11-27",
            datetime(2026, 11, 2),
            datetime(2026, 11, 28),
        ),
    ],
)
def test_stats_periods_are_local_days(text, label, start, end):
    now = datetime(2026, 11, 26, 12, tzinfo=UTC)
    got = parse_period(text, now=now, tz="Europe/London", locale="en-GB")
    assert got == (label, start.replace(tzinfo=UTC), end.replace(tzinfo=UTC))


@pytest.mark.parametrize("text", ["yesterday-ish", "2026-11-09 to 2026-11-02", "13/13 to 14/13"])
def test_stats_refuses_unreadable_periods_kindly(text):
    from bot.commitments.service import Refusal

    with pytest.raises(Refusal, match=r"saydo stats|ends before"):
        parse_period(text, now=datetime(2026, 11, 26, tzinfo=UTC), tz="Europe/London")


def test_stats_message_and_home_view_are_valid(engine):
    c = scenario(engine)
    figures = reports.figures(
        engine, partnership_id=c.partnership.id, start=WEEK_START, end=WEEK_END, now=SUMMARY_AT
    )
    message = report_blocks.stats_message(
        figures, CharterSettings(), label="last week", partnership=c.partnership
    )
    assert_valid_blocks(message["blocks"])
    assert "Say/do for housing-partnership, last week" in json.dumps(message)
    other = ensure_partnership(engine, team_id="T0001", channel_id="C0OTHER", name="care-board")
    log_commitment(
        engine,
        partnership=other,
        creator=c.alice,
        owner=c.alice,
        recipient=None,
        title="care plan",
        due_at=at(4, month=12),
        has_time=True,
        now=T0,
    )
    data = reports.home_data(engine, user_id="U0ALICE", now=at(26, 12))
    view = report_blocks.home_view(data)
    assert_valid_view(view)
    text = json.dumps(view)
    assert [p.name for p in data.partnerships] == ["care-board", "housing-partnership"]
    assert data.selected.name == "housing-partnership"  # her soonest open commitment
    assert report_blocks.HOME_SWITCH in text
    assert [i.title for i in data.open_items] == ["risk register", "site visit notes"]


def test_home_stays_within_slacks_limits(engine):
    c = Cast(engine)
    bulk(engine, c, 300, owner_id=c.alice.id, status="open")
    data = reports.home_data(engine, user_id="U0ALICE", now=at(1, month=11))
    view = report_blocks.home_view(data)
    assert_valid_view(view)
    assert len(view["blocks"]) <= 100
    assert data.open_total == 300
    assert "…and 285 more" in json.dumps(view, ensure_ascii=False)


# --- a constant number of queries ----------------------------------------------------------


def bulk(engine, c, count, *, owner_id=None, status=None, start=0, hours=24 * 7):
    """`count` commitments spread over the `hours` before the week's end, in every outcome, in
    one insert."""
    owners = [c.alice.id, c.bob.id, c.carol.id]
    rows = []
    for n in range(start, start + count):
        judged = WEEK_END - timedelta(hours=1 + (n * 7) % hours)
        kind = status or ("delivered", "open", "withdrawn", "proposed", "delivered")[n % 5]
        rows.append(
            dict(
                team_id="T0001",
                ref=10_000 + n,
                partnership_id=c.partnership.id,
                owner_id=owner_id or owners[n % 3],
                recipient_id=owners[(n + 1) % 3],
                created_by_id=owners[n % 3],
                title=f"item {n}",
                has_time=True,
                created_at=T0,
                status=kind,
                original_due_at=judged,
                due_at=judged,
                judged_due_at=judged,
                delivered_at=judged - timedelta(hours=n % 50 - 25) if kind == "delivered" else None,
                withdrawn_at=judged - timedelta(hours=n % 7 - 3) if kind == "withdrawn" else None,
            )
        )
    with transaction(engine) as session:
        session.execute(insert(Commitment), rows)


def count_queries(engine, build) -> int:
    statements = []

    def record(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        build()
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return len([s for s in statements if not s.lstrip().upper().startswith(("BEGIN", "PRAGMA"))])


@pytest.mark.parametrize("visibility", ["person", "organisation"])
def test_reports_take_the_same_number_of_queries_for_10_and_1000(engine, visibility):
    c = Cast(engine)
    c.visibility(visibility)

    def everything():
        weekly = summaries.weekly(
            engine, partnership_id=c.partnership.id, at=SUMMARY_AT, now=SUMMARY_AT
        )
        report_blocks.weekly_summary(weekly)
        reports.figures(
            engine, partnership_id=c.partnership.id, start=WEEK_START, end=WEEK_END, now=SUMMARY_AT
        )
        report_blocks.home_view(reports.home_data(engine, user_id="U0ALICE", now=SUMMARY_AT))
        return weekly

    bulk(engine, c, 10)
    few = count_queries(engine, everything)
    bulk(engine, c, 990, start=10)
    many = count_queries(engine, everything)
    assert everything().figures.total.tally.due > 300  # the rows really are counted
    assert few == many


def test_one_pass_counts_agree_with_keeping_week_by_week_across_a_clock_change(engine):
    # The reports classify each row once in SQL (`reports.tallies`: one CASE, then counts per owner,
    # week and outcome). Week by week (eight weeks across the end of British Summer Time on 25 Oct),
    # per organisation or per person, they must agree with `bot.commitments.lifecycle`'s verdict on
    # every stored row, early deliveries included.
    c = scenario(engine)
    bulk(engine, c, 600, hours=24 * 7 * 9)
    bulk(engine, c, 30, status="declined", start=600, hours=24 * 7 * 9)
    trend = reports.week_starts(WEEK_END, "Europe/London")
    assert trend[0] == datetime(2026, 10, 4, 23, tzinfo=UTC)  # 00:00 BST
    now = at(25, 12)
    counted = dict(partnership_id=c.partnership.id, bounds=trend, now=now)
    by_org = reports.tallies(engine, **counted)
    by_person = reports.tallies(engine, **counted, by_person=True)
    assert set(by_org.series) == {"Council", "Supplier Ltd", "T0PARTNER"}
    assert {owner.user_id for owner in by_person.series} == {"U0ALICE", "U0BOB", "U0CAROL"}
    with transaction(engine) as session:
        rows = session.execute(select(Commitment)).scalars()
        states = [CommitmentState.from_columns(row) for row in rows]
    overall = reports.Tally()
    for week in range(len(trend) - 1):
        verdicts = [
            (outcome(state, now=now), state)
            for state in states
            if counts_in_period(state, trend[week], trend[week + 1])
        ]
        expected = reports.Tally(
            kept=sum(v is Outcome.KEPT for v, _ in verdicts),
            late=sum(v is Outcome.LATE for v, _ in verdicts),
            missed=sum(v is Outcome.MISSED for v, _ in verdicts),
            withdrawn=sum(v is Outcome.NOT_COUNTED for v, _ in verdicts),
            pending=sum(v is Outcome.PENDING for v, _ in verdicts),
            early=sum(
                v is Outcome.KEPT and s.delivered_at <= s.judged_due_at - reports.EARLY
                for v, s in verdicts
            ),
        )
        assert expected.due > 20
        for counts in (by_org, by_person):
            assert sum((s[week] for s in counts.series.values()), reports.Tally()) == expected
        overall += expected
    assert all(getattr(overall, f) for f in reports.Tally.__annotations__)  # every outcome


def test_partnerships_need_not_exist_yet(engine):
    # A summary slot for a partnership that was removed is cancelled, not an error.
    from bot.outbox.sending import Item, Skip

    item = Item(1, "summary:999:2026-11-30", "summary", "C0GONE", SUMMARY_AT, None, None, 0)
    assert isinstance(renderers.weekly_summary(engine, item, SUMMARY_AT), Skip)
    with transaction(engine) as session:
        assert session.get(Partnership, 999) is None
