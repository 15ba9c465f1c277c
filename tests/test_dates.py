"""Due-date phrases, read against fixed clocks in several time zones."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from dateutil.relativedelta import relativedelta
from hypothesis import given
from hypothesis import strategies as st

from bot.commitments.due_dates import EXAMPLES, Due, DueDateError, describe_due, parse_due

LONDON, NEW_YORK, KOLKATA, SYDNEY = (
    "Europe/London",
    "America/New_York",
    "Asia/Kolkata",
    "Australia/Sydney",
)


def at(tz: str, text: str) -> datetime:
    """An aware local time, e.g. at(LONDON, "2026-12-02 10:00")."""
    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(tz))


# Wed 2 Dec 2026, 10:00 in London (GMT).
WED = at(LONDON, "2026-12-02 10:00")
# Tue 29 Dec 2026, 10:00 in London: the year boundary.
YEAR_END = at(LONDON, "2026-12-29 10:00")
# Mon 2 Mar 2026, 09:00 in New York (EST); clocks go forward on Sun 8 Mar.
NY_MARCH = at(NEW_YORK, "2026-03-02 09:00")
# Mon 15 Jun 2026, 08:00 in Kolkata.
KOLKATA_JUNE = at(KOLKATA, "2026-06-15 08:00")
# Thu 2 Apr 2026, 12:00 in Sydney (AEDT); clocks go back on Sun 5 Apr.
SYDNEY_APRIL = at(SYDNEY, "2026-04-02 12:00")

# (now, tz, locale, phrase, expected local wall time; a bare date means end of day)
PHRASES = [
    # today, tonight, EOD, tomorrow
    (WED, LONDON, None, "today", "2026-12-02"),
    (WED, LONDON, None, "tonight", "2026-12-02"),
    (WED, LONDON, None, "EOD", "2026-12-02"),
    (WED, LONDON, None, "end of day", "2026-12-02"),
    (WED, LONDON, None, "end of the day", "2026-12-02"),
    (WED, LONDON, None, "midnight", "2026-12-02"),
    (WED, LONDON, None, "tomorrow", "2026-12-03"),
    (WED, LONDON, None, "tmrw", "2026-12-03"),
    # weekdays
    (WED, LONDON, None, "Friday", "2026-12-04"),
    (WED, LONDON, None, "fri", "2026-12-04"),
    (WED, LONDON, None, "Wednesday", "2026-12-09"),
    (WED, LONDON, None, "tues", "2026-12-08"),
    (WED, LONDON, None, "thurs", "2026-12-03"),
    (WED, LONDON, None, "Sat", "2026-12-05"),
    (WED, LONDON, None, "sunday", "2026-12-06"),
    (WED, LONDON, None, "Mon", "2026-12-07"),
    (WED, LONDON, None, "this Friday", "2026-12-04"),
    (WED, LONDON, None, "this Wednesday", "2026-12-02"),
    (WED, LONDON, None, "next Friday", "2026-12-04"),
    (WED, LONDON, None, "next wed", "2026-12-09"),
    (WED, LONDON, None, "Friday week", "2026-12-11"),
    (WED, LONDON, None, "wed week", "2026-12-16"),
    # in N days/weeks/months
    (WED, LONDON, None, "in 3 days", "2026-12-05"),
    (WED, LONDON, None, "in 1 day", "2026-12-03"),
    (WED, LONDON, None, "in a week", "2026-12-09"),
    (WED, LONDON, None, "in two weeks", "2026-12-16"),
    (WED, LONDON, None, "in 1 month", "2027-01-02"),
    (WED, LONDON, None, "in twelve months", "2027-12-02"),
    (WED, LONDON, None, "in 23 months", "2028-11-02"),
    # end of week/month/quarter
    (WED, LONDON, None, "end of week", "2026-12-04"),
    (WED, LONDON, None, "end of the week", "2026-12-04"),
    (WED, LONDON, None, "EOW", "2026-12-04"),
    (WED, LONDON, None, "end of month", "2026-12-31"),
    (WED, LONDON, None, "EOM", "2026-12-31"),
    (WED, LONDON, None, "end of the quarter", "2026-12-31"),
    # calendar dates
    (WED, LONDON, None, "12 Dec", "2026-12-12"),
    (WED, LONDON, None, "Dec 12th", "2026-12-12"),
    (WED, LONDON, None, "12 December", "2026-12-12"),
    (WED, LONDON, None, "December 12", "2026-12-12"),
    (WED, LONDON, None, "12th of December", "2026-12-12"),
    (WED, LONDON, None, "Sat 12 Dec", "2026-12-12"),
    (WED, LONDON, None, "Saturday, December 12th, 2026", "2026-12-12"),
    (WED, LONDON, None, "Dec. 12", "2026-12-12"),
    (WED, LONDON, None, "2 Dec", "2026-12-02"),
    (WED, LONDON, None, "1 Dec", "2027-12-01"),
    (WED, LONDON, None, "29 Feb", "2028-02-29"),
    (WED, LONDON, None, "12/12", "2026-12-12"),
    (WED, LONDON, None, "12/11", "2027-11-12"),
    (WED, LONDON, None, "25/12/2026", "2026-12-25"),
    (WED, LONDON, None, "12/1/27", "2027-01-12"),
    (WED, LONDON, None, "2026-12-25", "2026-12-25"),
    (WED, LONDON, None, "2026-12-25T15:00", "2026-12-25 15:00"),
    # with times
    (WED, LONDON, None, "at 3pm", "2026-12-02 15:00"),
    (WED, LONDON, None, "3:30pm", "2026-12-02 15:30"),
    (WED, LONDON, None, "3.30pm", "2026-12-02 15:30"),
    (WED, LONDON, None, "3 p.m.", "2026-12-02 15:00"),
    (WED, LONDON, None, "15:00", "2026-12-02 15:00"),
    (WED, LONDON, None, "noon", "2026-12-02 12:00"),
    (WED, LONDON, None, "midday", "2026-12-02 12:00"),
    (WED, LONDON, None, "tomorrow at 3pm", "2026-12-03 15:00"),
    (WED, LONDON, None, "3pm tomorrow", "2026-12-03 15:00"),
    (WED, LONDON, None, "12am tomorrow", "2026-12-03 00:00"),
    (WED, LONDON, None, "12pm tomorrow", "2026-12-03 12:00"),
    (WED, LONDON, None, "Friday 15:00", "2026-12-04 15:00"),
    (WED, LONDON, None, "Friday, 9:15am", "2026-12-04 09:15"),
    (WED, LONDON, None, "at 9am on Friday", "2026-12-04 09:00"),
    (WED, LONDON, None, "12 Dec at noon", "2026-12-12 12:00"),
    (WED, LONDON, None, "noon on 12 Dec", "2026-12-12 12:00"),
    (WED, LONDON, None, "12/12 @ 17:30", "2026-12-12 17:30"),
    (WED, LONDON, None, "2026-12-12 08:05", "2026-12-12 08:05"),
    (WED, LONDON, None, "EOD Friday", "2026-12-04"),
    (WED, LONDON, None, "friday eod", "2026-12-04"),
    (WED, LONDON, None, "midnight on Friday", "2026-12-04"),
    (WED, LONDON, None, "in 2 days at 10am", "2026-12-04 10:00"),
    (WED, LONDON, None, "end of month at 5pm", "2026-12-31 17:00"),
    # leading keywords, case, whitespace, punctuation
    (WED, LONDON, None, "  BY Friday!  ", "2026-12-04"),
    (WED, LONDON, None, "by friday.", "2026-12-04"),
    (WED, LONDON, None, "due on Friday", "2026-12-04"),
    (WED, LONDON, None, "due by tomorrow", "2026-12-03"),
    (WED, LONDON, None, "before Friday", "2026-12-04"),
    (WED, LONDON, None, "on 12 Dec", "2026-12-12"),
    (WED, LONDON, None, "TOMORROW AT NOON", "2026-12-03 12:00"),
    # the year boundary
    (YEAR_END, LONDON, None, "12 Jan", "2027-01-12"),
    (YEAR_END, LONDON, None, "next Friday", "2027-01-01"),
    (YEAR_END, LONDON, None, "EOW", "2027-01-01"),
    (YEAR_END, LONDON, None, "end of month", "2026-12-31"),
    (YEAR_END, LONDON, None, "end of quarter", "2026-12-31"),
    (YEAR_END, LONDON, None, "in 1 month", "2027-01-29"),
    (YEAR_END, LONDON, None, "in 2 months", "2027-02-28"),
    (YEAR_END, LONDON, None, "1/1", "2027-01-01"),
    (YEAR_END, LONDON, None, "29 Dec", "2026-12-29"),
    (YEAR_END, LONDON, None, "28 Dec", "2027-12-28"),
    (YEAR_END, LONDON, None, "tomorrow", "2026-12-30"),
    # New York, locales (en-US is month-first)
    (NY_MARCH, NEW_YORK, "en-US", "12/11/2026", "2026-12-11"),
    (NY_MARCH, NEW_YORK, "en_US", "12/11/2026", "2026-12-11"),
    (NY_MARCH, NEW_YORK, "en-GB", "12/11/2026", "2026-11-12"),
    (NY_MARCH, NEW_YORK, None, "12/11/2026", "2026-11-12"),
    (NY_MARCH, NEW_YORK, "fr-FR", "3/12", "2026-12-03"),
    (NY_MARCH, NEW_YORK, "en-US", "3/12", "2026-03-12"),
    (NY_MARCH, NEW_YORK, "en-US", "3/12 at 4:45pm", "2026-03-12 16:45"),
    (NY_MARCH, NEW_YORK, "en-US", "Friday", "2026-03-06"),
    (NY_MARCH, NEW_YORK, "en-US", "this monday", "2026-03-02"),
    (NY_MARCH, NEW_YORK, "en-US", "in 1 week", "2026-03-09"),
    (NY_MARCH, NEW_YORK, "en-US", "end of the quarter", "2026-03-31"),
    # Kolkata
    (KOLKATA_JUNE, KOLKATA, "en-IN", "today", "2026-06-15"),
    (KOLKATA_JUNE, KOLKATA, "en-IN", "at 8:01am", "2026-06-15 08:01"),
    (KOLKATA_JUNE, KOLKATA, "en-IN", "Monday", "2026-06-22"),
    (KOLKATA_JUNE, KOLKATA, "en-IN", "this Monday", "2026-06-15"),
    (KOLKATA_JUNE, KOLKATA, "en-IN", "Mon week", "2026-06-29"),
    (KOLKATA_JUNE, KOLKATA, "en-IN", "EOW", "2026-06-19"),
    (KOLKATA_JUNE, KOLKATA, "en-IN", "EOQ", "2026-06-30"),
    (KOLKATA_JUNE, KOLKATA, "en-IN", "in 2 months", "2026-08-15"),
    (KOLKATA_JUNE, KOLKATA, "en-IN", "15/6", "2026-06-15"),
    (KOLKATA_JUNE, KOLKATA, "en-IN", "14/6", "2027-06-14"),
    (KOLKATA_JUNE, KOLKATA, "en-IN", "Sept 1st at 10:30", "2026-09-01 10:30"),
    # Sydney
    (SYDNEY_APRIL, SYDNEY, "en-AU", "Sunday", "2026-04-05"),
    (SYDNEY_APRIL, SYDNEY, "en-AU", "end of week", "2026-04-03"),
    (SYDNEY_APRIL, SYDNEY, "en-AU", "5/4 at 9am", "2026-04-05 09:00"),
]


@pytest.mark.parametrize(("now", "tz", "locale", "phrase", "expected"), PHRASES)
def test_phrases(now: datetime, tz: str, locale: str | None, phrase: str, expected: str) -> None:
    due = parse_due(phrase, now=now, tz=tz, locale=locale)
    has_time = " " in expected
    wall = datetime.fromisoformat(expected if has_time else f"{expected} 23:59:59")
    assert due.local().replace(tzinfo=None) == wall
    assert due.has_time is has_time
    assert due.tz == tz
    assert due.at.tzinfo is UTC


# (now, tz, phrase, expected UTC instant): DST changes and zone offsets
INSTANTS = [
    # London springs forward on Sun 29 Mar 2026 at 01:00 GMT.
    (at(LONDON, "2026-03-28 12:00"), LONDON, "tomorrow", "2026-03-29 22:59:59"),
    (at(LONDON, "2026-03-28 12:00"), LONDON, "today", "2026-03-28 23:59:59"),
    (at(LONDON, "2026-03-28 12:00"), LONDON, "tomorrow at 12:30am", "2026-03-29 00:30"),
    (at(LONDON, "2026-03-28 12:00"), LONDON, "tomorrow at 1:30am", "2026-03-29 01:30"),
    (at(LONDON, "2026-03-28 12:00"), LONDON, "tomorrow at 2:30am", "2026-03-29 01:30"),
    (at(LONDON, "2026-03-28 12:00"), LONDON, "in 1 week", "2026-04-04 22:59:59"),
    # New York springs forward on Sun 8 Mar 2026 at 02:00 EST.
    (NY_MARCH, NEW_YORK, "Friday", "2026-03-07 04:59:59"),
    (NY_MARCH, NEW_YORK, "in 1 week", "2026-03-10 03:59:59"),
    (NY_MARCH, NEW_YORK, "Sunday at 1:30am", "2026-03-08 06:30"),
    (NY_MARCH, NEW_YORK, "Sunday at 2:30am", "2026-03-08 07:30"),
    (NY_MARCH, NEW_YORK, "Sunday at 3am", "2026-03-08 07:00"),
    # New York falls back on Sun 1 Nov 2026 at 02:00 EDT: 01:30 happens twice, the first counts.
    (at(NEW_YORK, "2026-10-31 12:00"), NEW_YORK, "tomorrow at 1:30am", "2026-11-01 05:30"),
    (at(NEW_YORK, "2026-10-31 12:00"), NEW_YORK, "tomorrow", "2026-11-02 04:59:59"),
    # Sydney falls back on Sun 5 Apr 2026 at 03:00 AEDT.
    (SYDNEY_APRIL, SYDNEY, "Saturday", "2026-04-04 12:59:59"),
    (SYDNEY_APRIL, SYDNEY, "Sunday", "2026-04-05 13:59:59"),
    (SYDNEY_APRIL, SYDNEY, "Sunday at 2:30am", "2026-04-04 15:30"),
    # Kolkata: "today" is the local date, whatever zone `now` is given in.
    (KOLKATA_JUNE, KOLKATA, "today", "2026-06-15 18:29:59"),
    (datetime(2026, 6, 14, 20, 0, tzinfo=UTC), KOLKATA, "today", "2026-06-15 18:29:59"),
    (datetime(2026, 6, 14, 20, 0, tzinfo=UTC), LONDON, "today", "2026-06-14 22:59:59"),
]


@pytest.mark.parametrize(("now", "tz", "phrase", "expected"), INSTANTS)
def test_instants(now: datetime, tz: str, phrase: str, expected: str) -> None:
    due = parse_due(phrase, now=now, tz=tz)
    assert due.at == datetime.fromisoformat(expected).replace(tzinfo=UTC)


def test_nonexistent_time_moves_forward_by_the_gap() -> None:
    due = parse_due("tomorrow at 1:30am", now=at(LONDON, "2026-03-28 12:00"), tz=LONDON)
    assert due.local().strftime("%H:%M %Z") == "02:30 BST"


# (now, tz, locale, phrase, words the message must contain)
ERRORS = [
    (WED, LONDON, None, "", "need a due date"),
    (WED, LONDON, None, "   ", "need a due date"),
    (WED, LONDON, None, "by", "need a due date"),
    (WED, LONDON, None, "soon", 'couldn\'t read "soon"'),
    (WED, LONDON, None, "the budget", 'couldn\'t read "the budget"'),
    (WED, LONDON, None, "5", "couldn't read"),
    (WED, LONDON, None, "at 5", "couldn't read"),
    (WED, LONDON, None, "yesterday", "couldn't read"),
    (WED, LONDON, None, "next week", "couldn't read"),
    (WED, LONDON, None, "friday next", "couldn't read"),
    (WED, LONDON, None, "in 2 years", "couldn't read"),
    (WED, LONDON, None, "12 Dec 26", "couldn't read"),
    (WED, LONDON, None, "friday the budget", "couldn't read"),
    (WED, LONDON, None, "a" * 200, "..."),
    (WED, LONDON, None, "32/13", "isn't a real date (I read numeric dates as day/month)"),
    (WED, LONDON, "en-US", "13/12", "isn't a real date (I read numeric dates as month/day)"),
    (WED, LONDON, None, "13/13/2026", "isn't a real date"),
    (WED, LONDON, None, "31 Apr", '"31 apr" isn\'t a real date'),
    (WED, LONDON, None, "29 Feb 2027", "isn't a real date"),
    (WED, LONDON, None, "2026-02-30", "isn't a real date"),
    (WED, LONDON, None, "25:00", '"25:00" isn\'t a real time'),
    (WED, LONDON, None, "13pm", "isn't a real time"),
    (WED, LONDON, None, "friday at 0am", "isn't a real time"),
    (WED, LONDON, None, "Mon 12 Dec", "12 Dec 2026 is a Saturday, not a Monday"),
    (WED, LONDON, None, "12/11/2026", "in the past: Thu 12 Nov 2026, end of day, Europe/London"),
    (WED, LONDON, None, "2026-12-01", "in the past"),
    (WED, LONDON, None, "at 9am", "in the past: Wed 2 Dec 2026, 09:00, Europe/London"),
    (WED, LONDON, None, "today at 10am", "in the past"),
    (WED, LONDON, None, "1/1/0001 at 12am", "in the past"),
    (WED, LONDON, None, "12 Dec 2028", "more than two years away (Tue 12 Dec 2028, end of day"),
    (WED, LONDON, None, "2 Dec 2028", "more than two years away"),
    (WED, LONDON, None, "in 24 months", "more than two years away"),
    (WED, LONDON, None, "in 9999 months", "more than two years away"),
    (WED, NEW_YORK, None, "31/12/9999", "more than two years away"),
]


@pytest.mark.parametrize(("now", "tz", "locale", "phrase", "words"), ERRORS)
def test_errors_are_friendly(
    now: datetime, tz: str, locale: str | None, phrase: str, words: str
) -> None:
    with pytest.raises(DueDateError) as caught:
        parse_due(phrase, now=now, tz=tz, locale=locale)
    message = str(caught.value)
    assert words in message
    assert message.endswith(EXAMPLES)
    assert "\n" not in message


def test_two_years_ahead_is_the_last_moment_allowed() -> None:
    due = parse_due("2 Dec 2028 at 10am", now=WED, tz=LONDON)
    assert due.at == WED + relativedelta(years=2)


@pytest.mark.parametrize("now", [WED, YEAR_END, NY_MARCH, KOLKATA_JUNE, SYDNEY_APRIL])
def test_the_examples_in_error_messages_work(now: datetime) -> None:
    for example in ("by Friday", "by 12 Dec at 3pm"):
        assert example in EXAMPLES
        parse_due(example, now=now, tz=LONDON)


def test_now_must_be_aware() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        parse_due("Friday", now=datetime(2026, 12, 2, 10), tz=LONDON)


@pytest.mark.parametrize(
    ("instant", "tz", "has_time", "expected"),
    [
        ("2026-12-12 23:59:59", LONDON, False, "Sat 12 Dec 2026, end of day, Europe/London"),
        ("2026-12-12 15:00", LONDON, True, "Sat 12 Dec 2026, 15:00, Europe/London"),
        ("2026-06-12 14:00", LONDON, True, "Fri 12 Jun 2026, 15:00, Europe/London"),
        ("2026-03-07 04:59:59", NEW_YORK, False, "Fri 6 Mar 2026, end of day, America/New_York"),
        ("2026-06-15 02:30", KOLKATA, True, "Mon 15 Jun 2026, 08:00, Asia/Kolkata"),
        ("2026-12-31 22:00", SYDNEY, True, "Fri 1 Jan 2027, 09:00, Australia/Sydney"),
    ],
)
def test_describe_due(instant: str, tz: str, has_time: bool, expected: str) -> None:
    at_utc = datetime.fromisoformat(instant).replace(tzinfo=UTC)
    assert describe_due(at_utc, tz=tz, has_time=has_time) == expected


def test_due_local_is_in_its_zone() -> None:
    due = Due(at=datetime(2026, 12, 12, 15, tzinfo=UTC), tz=KOLKATA, has_time=True)
    assert due.local() == at(KOLKATA, "2026-12-12 20:30")
    assert due.local().tzinfo == ZoneInfo(KOLKATA)


ZONES = st.sampled_from([LONDON, NEW_YORK, KOLKATA, SYDNEY, "UTC", "Pacific/Kiritimati"])
LOCALES = st.sampled_from([None, "en-US", "en-GB", "en_US", "de-DE"])
NOWS = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2090, 1, 1), timezones=st.just(UTC)
)
PHRASE_WORDS = """
by on due before at @ today tonight tomorrow tmrw this next week in a an two 0 1 3 12 29 31 99
9999 day days weeks month months end of the eow eom eoq eod midnight noon friday fri sat tues dec
december feb sept 2026 2027 2100 12/12 31/2 2/31 12/11/2026 2026-12-12 2026-02-29
2026-12-12T15:00 3pm 12am 3:30pm 3.30pm 15:00 25:00 . , !
"""
WORDS = st.sampled_from(PHRASE_WORDS.split())


def check_due_or_friendly_error(text: str, now: datetime, tz: str, locale: str | None) -> None:
    try:
        due = parse_due(text, now=now, tz=tz, locale=locale)
    except DueDateError as error:
        assert str(error).endswith(EXAMPLES)
        return
    assert now < due.at <= now + relativedelta(years=2)
    assert due.at.tzinfo is UTC
    describe_due(due.at, tz=due.tz, has_time=due.has_time)


@given(st.text(), NOWS, ZONES, LOCALES)
def test_any_text_gives_a_due_date_or_a_friendly_error(
    text: str, now: datetime, tz: str, locale: str | None
) -> None:
    check_due_or_friendly_error(text, now, tz, locale)


@given(st.lists(WORDS, min_size=1, max_size=5).map(" ".join), NOWS, ZONES, LOCALES)
def test_date_like_text_gives_a_due_date_or_a_friendly_error(
    text: str, now: datetime, tz: str, locale: str | None
) -> None:
    check_due_or_friendly_error(text, now, tz, locale)
