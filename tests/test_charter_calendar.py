"""The calendar a charter sets: review dates, weekly instants, coffee rounds."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time

from bot.charter.service import coffee_round_at, review_date_after, weekly_instant
from bot.policy.charter_settings import CharterSettings

DEFAULTS = CharterSettings()


def test_reviews_fall_every_quarter_from_the_start_or_the_first_date():
    began = date(2026, 11, 27)
    assert review_date_after(DEFAULTS, began=began, after=began) == date(2027, 2, 27)
    assert review_date_after(DEFAULTS, began=began, after=date(2027, 2, 28)) == date(2027, 5, 27)
    chosen = replace(DEFAULTS, first_review_date=date(2027, 1, 15), review_cadence_months=6)
    assert review_date_after(chosen, began=began, after=date(2027, 1, 16)) == date(2027, 7, 15)


def test_weekly_instants_keep_local_time_across_daylight_saving():
    # Monday 09:00 London: GMT before 29 March, BST after.
    before = weekly_instant(
        0, time(9), "Europe/London", on_or_after=datetime(2026, 3, 20, tzinfo=UTC)
    )
    after = weekly_instant(
        0, time(9), "Europe/London", on_or_after=datetime(2026, 3, 27, tzinfo=UTC)
    )
    assert before == datetime(2026, 3, 23, 9, tzinfo=UTC)
    assert after == datetime(2026, 3, 30, 8, tzinfo=UTC)
    exactly = weekly_instant(0, time(9), "Europe/London", on_or_after=after)
    assert exactly == after


def test_coffee_rounds_follow_the_cadence_from_the_week_the_partnership_began():
    began = date(2026, 11, 27)  # week of Monday 23 November
    first = coffee_round_at(
        DEFAULTS, "Europe/London", began=began, on_or_after=datetime(2026, 11, 27, 12, tzinfo=UTC)
    )
    assert first == datetime(2026, 12, 8, 10, tzinfo=UTC)  # Tuesday, two weeks on
    following = coffee_round_at(
        DEFAULTS, "Europe/London", began=began, on_or_after=datetime(2026, 12, 8, 10, 1, tzinfo=UTC)
    )
    assert following == datetime(2026, 12, 22, 10, tzinfo=UTC)
    weekly = replace(DEFAULTS, coffee_cadence_weeks=1)
    assert coffee_round_at(
        weekly, "Europe/London", began=began, on_or_after=datetime(2026, 11, 27, 12, tzinfo=UTC)
    ) == datetime(2026, 12, 1, 10, tzinfo=UTC)
