"""Due dates as people type them in Slack, read in the speaker's own time zone.

``parse_due`` is strict: the whole text must be a date phrase, optionally with a time of day
and a leading "by", "on", "due" or "before". python-dateutil supplies the month and weekday
vocabulary, reads "12 Dec"-style dates and ISO dates, and does calendar arithmetic
(``relativedelta``); this module adds relative words, times of day, year inference, strictness
and time-zone handling (``zoneinfo``). Instants are stored timezone-aware in UTC.

Decisions:

- A date without a time is due at the end of that day: 23:59:59 local time.
  "today", "tonight", "EOD" and "end of (the) day" all mean the end of today.
- "tomorrow" (also "tmrw", "tmr") is the end of tomorrow.
- A bare weekday ("Friday", "fri") is the next such day strictly after today; "next Friday"
  means the same (as Slack's /remind does). "this Friday" is the coming Friday, today included.
  "Friday week" is seven days after the bare "Friday".
- "end of (the) week" / "EOW" is this week's Friday (next Friday on a Saturday or Sunday);
  "end of (the) month" / "EOM" the month's last day; "end of (the) quarter" / "EOQ" the last
  day of the calendar quarter (31 Mar, 30 Jun, 30 Sep, 31 Dec).
- "in N days/weeks/months" (N a number, "a"/"an", or one..twelve) counts from today with
  ``relativedelta``, so "in 1 month" from 31 Jan is 28 (or 29) Feb.
- "12 Dec", "Dec 12th", "12th of December", "12/12": without a year, the next occurrence
  (today counts). Numeric dates are month-first for the en-US locale and day-first for every
  other locale (or none). ISO dates ("2026-12-12", "2026-12-12T15:00") are accepted.
  A leading weekday ("Fri 12 Dec") must agree with the date.
- Times: "3pm", "3:30pm", "3.30pm", "15:00", "noon"/"midday" (12:00), optionally after "at",
  before or after the date ("tomorrow at 3pm", "3pm on Friday"). "12am" is 00:00, "12pm" noon.
  "midnight" means the end of the day, like a date on its own. A time alone is today at that
  time. A bare hour ("at 5") is rejected as ambiguous.
- "before Friday" is read like "by Friday": due by the end of Friday.
- Wall times are converted with ``zoneinfo`` using ``fold=0``: an ambiguous time (clocks going
  back) is the first occurrence; a nonexistent time (clocks going forward) moves forward by
  the gap, so 01:30 on the morning London springs forward is 02:30 BST.
- Rejected with a friendly ``DueDateError``: unrecognised text, impossible dates or times,
  instants not strictly after now, and instants more than two years after now.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from dateutil import parser
from dateutil.relativedelta import FR, relativedelta, weekdays

EXAMPLES = 'Try "by Friday" or "by 12 Dec at 3pm".'
END_OF_DAY = time(23, 59, 59)
MAX_AHEAD = relativedelta(years=2)

_DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_DAY_FULL = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_NUMBER_WORDS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
}  # fmt: skip


class DueDateError(ValueError):
    """A due date we could not accept; ``str()`` is a friendly message for Slack."""


@dataclass(frozen=True)
class Due:
    """A parsed due date: the UTC instant and the zone it was read in."""

    at: datetime
    tz: str
    has_time: bool

    def local(self) -> datetime:
        """The due instant in the zone it was read in."""
        return self.at.astimezone(ZoneInfo(self.tz))


class _Vocabulary(parser.parserinfo):
    """dateutil's English vocabulary plus common weekday abbreviations."""

    WEEKDAYS = [  # noqa: RUF012 - dateutil's class-attribute interface
        ("Mon", "Monday"),
        ("Tue", "Tues", "Tuesday"),
        ("Wed", "Weds", "Wednesday"),
        ("Thu", "Thur", "Thurs", "Thursday"),
        ("Fri", "Friday"),
        ("Sat", "Saturday"),
        ("Sun", "Sunday"),
    ]


_VOCAB = _Vocabulary()


def _alternation(names: list[tuple[str, ...]]) -> str:
    words = sorted((w.lower() for group in names for w in group), key=len, reverse=True)
    return "|".join(words)


def _re(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.ASCII)


_WD = rf"(?:{_alternation(_Vocabulary.WEEKDAYS)})"
_MON = rf"(?:{_alternation(_Vocabulary.MONTHS)})"
_ORD = r"(?:st|nd|rd|th)?"

_TIME = (
    r"(?P<time>(?P<h12>\d{1,2})(?:[:.](?P<m12>\d{2}))?\s*(?P<ampm>am|pm)"
    r"|(?P<h24>\d{1,2}):(?P<m24>\d{2})(?::(?P<s24>\d{2}))?"
    r"|(?P<word>noon|midday|midnight|eod|end of (?:the )?day))"
)
_AT = r"(?:(?:at|@)\s*)?"
_TIME_SPLITS = (
    _re(rf"{_AT}{_TIME}"),
    _re(rf"(?P<date>.+?)\s+{_AT}{_TIME}"),
    _re(rf"{_AT}{_TIME}\s+(?:on\s+)?(?P<date>.+)"),
)

_TODAY = _re(r"today|tonight")
_TOMORROW = _re(r"tomorrow|tmrw|tmr")
_WEEKDAY = _re(rf"(?:(?P<mod>this|next)\s+)?(?P<wd>{_WD})|(?P<wd2>{_WD})\s+week")
_IN = _re(rf"in\s+(?P<n>\d{{1,4}}|{'|'.join(_NUMBER_WORDS)})\s+(?P<unit>day|week|month)s?")
_END_OF = _re(r"end\s+of\s+(?:the\s+|this\s+)?(?P<unit>week|month|quarter)|eo(?P<abbr>[wmq])")
_ABSOLUTE = _re(
    rf"(?:(?P<wd>{_WD})\s+)?"
    rf"(?:(?P<named>(?:\d{{1,2}}{_ORD}\s+(?:of\s+)?{_MON}|{_MON}\s+\d{{1,2}}{_ORD})(?:\s+\d{{4}})?)"
    r"|(?P<a>\d{1,2})/(?P<b>\d{1,2})(?:/(?P<y>\d{4}|\d{2}))?"
    r"|(?P<iso>\d{4}-\d{2}-\d{2}))"
)


def parse_due(text: str, *, now: datetime, tz: str, locale: str | None = None) -> Due:
    """Read ``text`` as a due date relative to ``now`` (aware) in the IANA zone ``tz``.

    ``locale`` is the speaker's Slack locale ("en-US" reads 12/11 as 11 Dec). Raises
    ``DueDateError`` for anything that is not a complete, valid, future date phrase.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    zone = ZoneInfo(tz)
    today = now.astimezone(zone).date()
    phrase = _normalise(text)
    if not phrase:
        raise _fail("I need a due date.")

    date_part, time_match = _split_time(phrase)
    day = _resolve_date(date_part, today, locale) if date_part else today
    if day is None:
        shown = " ".join(text.split())
        shown = shown if len(shown) <= 60 else shown[:57] + "..."
        raise _fail(f'I couldn\'t read "{shown}" as a due date.')
    clock = _clock(time_match) if time_match else None

    has_time = clock is not None
    wall = datetime.combine(day, END_OF_DAY if clock is None else clock)
    # Compare dates before converting: far-off years would overflow in UTC.
    if day < today:
        raise _past(wall, tz, has_time)
    if day > today + MAX_AHEAD:
        raise _too_far(wall, tz, has_time)
    at = wall.replace(tzinfo=zone).astimezone(UTC)
    if at <= now:
        raise _past(wall, tz, has_time)
    if at > now + MAX_AHEAD:
        raise _too_far(wall, tz, has_time)
    return Due(at=at, tz=tz, has_time=has_time)


def describe_due(at: datetime, *, tz: str, has_time: bool) -> str:
    """Unambiguous text: "Fri 12 Dec 2026, end of day, Europe/London" or "..., 15:00, ..."."""
    return _describe_wall(at.astimezone(ZoneInfo(tz)), tz, has_time)


def _describe_wall(wall: datetime, tz: str, has_time: bool) -> str:
    clock = f"{wall:%H:%M}" if has_time else "end of day"
    day = f"{_DAY_NAMES[wall.weekday()]} {wall.day} {_MONTH_NAMES[wall.month - 1]} {wall.year}"
    return f"{day}, {clock}, {tz}"


def _fail(problem: str) -> DueDateError:
    return DueDateError(f"{problem} {EXAMPLES}")


def _past(wall: datetime, tz: str, has_time: bool) -> DueDateError:
    return _fail(f"That's already in the past: {_describe_wall(wall, tz, has_time)}.")


def _too_far(wall: datetime, tz: str, has_time: bool) -> DueDateError:
    return _fail(
        f"That's more than two years away ({_describe_wall(wall, tz, has_time)}); "
        "due dates can be at most two years ahead."
    )


def _normalise(text: str) -> str:
    """Lower-case; drop dots after words ("p.m.", "Dec."), commas, end punctuation, "by"/"on"."""
    phrase = " ".join(text.lower().split())
    phrase = re.sub(r"\b([a-z]+)\.", r"\1", phrase)
    phrase = re.sub(r"\s*,\s*", " ", phrase)
    phrase = re.sub(r"^(?:(?:by|on|due|before)\b\s*)+", "", phrase.strip(" .!?;:"))
    return re.sub(r"^(\d{4}-\d{2}-\d{2})t(?=\d)", r"\1 ", phrase)


def _split_time(phrase: str) -> tuple[str, re.Match[str] | None]:
    """Separate the date phrase from a time of day, if there is one."""
    for pattern in _TIME_SPLITS:
        match = pattern.fullmatch(phrase)
        if match:
            return match.groupdict().get("date") or "", match
    return phrase, None


def _clock(match: re.Match[str]) -> time | None:
    """The time of day a matched time names; ``None`` means end of day."""
    word = match["word"]
    if word:
        return time(12) if word in ("noon", "midday") else None
    if match["ampm"]:
        hour, minute = int(match["h12"]), int(match["m12"] or 0)
        if not 1 <= hour <= 12:
            raise _fail(f'"{match["time"]}" isn\'t a real time.')
        hour = hour % 12 + (12 if match["ampm"] == "pm" else 0)
        second = 0
    else:
        hour, minute, second = int(match["h24"]), int(match["m24"]), int(match["s24"] or 0)
    if hour > 23 or minute > 59 or second > 59:
        raise _fail(f'"{match["time"]}" isn\'t a real time.')
    return time(hour, minute, second)


def _resolve_date(phrase: str, today: date, locale: str | None) -> date | None:
    """The local date a phrase names, or ``None`` if it is not a date phrase."""
    if _TODAY.fullmatch(phrase):
        return today
    if _TOMORROW.fullmatch(phrase):
        return today + timedelta(days=1)
    if match := _WEEKDAY.fullmatch(phrase):
        return _weekday(match, today)
    if match := _IN.fullmatch(phrase):
        n = match["n"]
        count = int(n) if n.isdigit() else _NUMBER_WORDS[n]
        return today + relativedelta(**{match["unit"] + "s": count})
    if match := _END_OF.fullmatch(phrase):
        unit = match["unit"] or {"w": "week", "m": "month", "q": "quarter"}[match["abbr"]]
        if unit == "week":
            return today + relativedelta(weekday=FR)
        if unit == "month":
            return today + relativedelta(day=31)
        return today + relativedelta(month=(today.month - 1) // 3 * 3 + 3, day=31)
    if match := _ABSOLUTE.fullmatch(phrase):
        return _absolute(match, today, locale)
    return None


def _weekday(match: re.Match[str], today: date) -> date:
    """A bare or "next" weekday is after today; "this" counts today; "<day> week" adds 7."""
    if match["wd2"]:
        return today + relativedelta(days=8, weekday=weekdays[_VOCAB.weekday(match["wd2"])])
    target = weekdays[_VOCAB.weekday(match["wd"])]
    skip = 0 if match["mod"] == "this" else 1
    return today + relativedelta(days=skip, weekday=target)


def _absolute(match: re.Match[str], today: date, locale: str | None) -> date:
    """A calendar date; without a year, its next occurrence from today."""
    core = match[0] if match["wd"] is None else match[0][len(match["wd"]) :].strip()
    problem = f'"{core}" isn\'t a real date.'
    year: int | None
    if match["named"] or match["iso"]:
        try:
            if match["iso"]:
                parsed = parser.isoparse(core)
            else:
                parsed = parser.parse(core, parserinfo=_VOCAB, default=datetime(2000, 1, 1))
        except (ValueError, OverflowError):
            raise _fail(problem) from None
        has_year = re.search(r"\d{4}", core) is not None
        year, month, day = (parsed.year if has_year else None), parsed.month, parsed.day
    else:
        month_first = (locale or "").replace("_", "-").lower() == "en-us"
        order = "month/day" if month_first else "day/month"
        problem = f'"{core}" isn\'t a real date (I read numeric dates as {order}).'
        a, b = int(match["a"]), int(match["b"])
        month, day = (a, b) if month_first else (b, a)
        y = match["y"]
        year = None if y is None else int(y) + (2000 if len(y) == 2 else 0)

    result = _occurrence(year, month, day, today)
    if result is None:
        raise _fail(problem)
    if match["wd"] and _VOCAB.weekday(match["wd"]) != result.weekday():
        raise _fail(
            f"{result.day} {_MONTH_NAMES[result.month - 1]} {result.year} is a "
            f"{_DAY_FULL[result.weekday()]}, not a {_DAY_FULL[_VOCAB.weekday(match['wd'])]}."
        )
    return result


def _occurrence(year: int | None, month: int, day: int, today: date) -> date | None:
    """The given date, or if ``year`` is None the first on or after today (29 Feb included)."""
    years = [year] if year is not None else range(today.year, today.year + 9)
    for candidate_year in years:
        try:
            candidate = date(candidate_year, month, day)
        except ValueError:  # no such day (that year)
            continue
        if year is not None or candidate >= today:
            return candidate
    return None
