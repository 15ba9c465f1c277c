"""A partnership's charter settings, and the rules that read them: public holidays and the
nudge policy.

This is the part of the charter that commitments, nudges and coffee rounds depend on; the
charter's agreement flow (`bot.charter.service`) sits above them, since adopting a version replans
nudges.

Public holidays have one implementation, used by nudges and coffee rounds alike: the charter
maps organisation names (matched ignoring case) to a `holidays` package code, a country ("GB")
or a country and subdivision ("GB-ENG").
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import date, time
from functools import lru_cache

import holidays as holiday_calendars_lib
from sqlalchemy import select

from bot.policy.working_hours import NudgePolicy
from storage.models import CharterVersion, Member

BY_ORGANISATION = "organisation"
BY_PERSON = "person"

# ISO 4217's codes for currencies in use (as listed in 2026; precious metals, test and "no
# currency" codes left out): what a cost ledger can be kept in.
_ISO_4217 = """
    AED AFN ALL AMD AOA ARS AUD AWG AZN BAM BBD BDT BHD BIF BMD BND BOB BOV BRL BSD BTN BWP
    BYN BZD CAD CDF CHE CHF CHW CLF CLP CNY COP COU CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN
    ETB EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK
    JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD
    MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP
    PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP
    SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD USN UYI UYU UYW UZS VED VES VND VUV
    WST XAF XCD XCG XOF XPF YER ZAR ZMW ZWG
"""
CURRENCIES = frozenset(_ISO_4217.split())


@dataclass(frozen=True)
class CharterSettings:
    """The settings part of a charter; every field has the default a new partnership gets."""

    coffee_cadence_weeks: int = 2  # 1 to 8
    coffee_weekday: int = 1  # Monday=0; Tuesday
    coffee_time: time = time(10, 0)  # partnership time zone
    first_review_date: date | None = None  # None: three months after the partnership began
    review_cadence_months: int = 3
    summary_weekday: int = 0  # Monday
    summary_time: time = time(9, 0)  # partnership time zone
    kept_target: float = 0.85
    summary_visibility: str = BY_ORGANISATION  # or BY_PERSON
    working_days: tuple[int, ...] = (0, 1, 2, 3, 4)
    day_start: time = time(9, 0)
    day_end: time = time(17, 30)
    nudge_time: time = time(9, 0)
    overdue_working_days: tuple[int, ...] = (1, 3, 7)
    max_overdue: int = 6
    holiday_calendars: dict[str, str] = field(default_factory=dict)  # organisation -> "GB-ENG"
    course_correction: bool = True  # the escalation playbook's private extra coffee
    # How far (as % of an objective's planned change) a value may trail the straight line
    # from baseline to target and still be on track; also a project's allowed overspend.
    objective_tolerance_percent: int = 10
    currency: str = "GBP"  # ISO 4217: the money in the partnership's cost ledger

    def nudge_policy(self, holidays: frozenset[date] = frozenset()) -> NudgePolicy:
        return NudgePolicy(
            working_days=frozenset(self.working_days),
            day_start=self.day_start,
            day_end=self.day_end,
            nudge_time=self.nudge_time,
            overdue_working_days=self.overdue_working_days,
            max_overdue=self.max_overdue,
            holidays=holidays,
        )

    def to_json(self) -> str:
        return json.dumps(asdict(self), default=str, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> CharterSettings:
        """Settings from stored JSON; unknown keys are ignored, missing ones take defaults."""
        raw = json.loads(text or "{}")
        known = {f.name: f for f in fields(cls)}
        values = {}
        for name, value in raw.items():
            if name not in known:
                continue
            default = getattr(cls(), name)
            if isinstance(default, time):
                value = time.fromisoformat(value)
            elif name == "first_review_date" and value:
                value = date.fromisoformat(value)
            elif isinstance(default, tuple):
                value = tuple(value)
            values[name] = value
        return replace(cls(), **values)

    def holiday_country(self, organisation: str | None) -> str | None:
        """The country whose public holidays `organisation` keeps, if the charter names one."""
        if not organisation:
            return None
        wanted = organisation.casefold()
        for name, country in self.holiday_calendars.items():
            if name.casefold() == wanted:
                return country
        return None


def settings_in(session, partnership_id: int) -> CharterSettings:
    """The current charter's settings (the defaults before any adoption), in this session."""
    text = session.execute(
        select(CharterVersion.settings)
        .where(CharterVersion.partnership_id == partnership_id)
        .order_by(CharterVersion.version.desc())
        .limit(1)
    ).scalar_one_or_none()
    return CharterSettings() if text is None else CharterSettings.from_json(text)


# --- public holidays and the nudge policy ---------------------------------------------------


@lru_cache(maxsize=256)
def _holidays(code: str, years: tuple[int, ...]) -> frozenset[date]:
    country, _, subdivision = code.partition("-")
    try:
        calendar = holiday_calendars_lib.country_holidays(
            country, subdiv=subdivision or None, years=years
        )
    except NotImplementedError:  # a code stored before it was checked: no holidays known
        return frozenset()
    return frozenset(calendar.keys())


def holiday_dates(code: str | None, years: Iterable[int]) -> frozenset[date]:
    """The public holidays of `code` ("GB", or "GB-ENG" for a subdivision) in `years`; none if
    unset."""
    if not code:
        return frozenset()
    return _holidays(code.strip().upper(), tuple(sorted(set(years))))


def on_holiday(settings: CharterSettings, organisation: str | None, day: date) -> bool:
    """Whether `day` is a public holiday of the organisation under these settings."""
    return day in holiday_dates(settings.holiday_country(organisation), (day.year,))


def check_country(code: str) -> str:
    """The code ("GB", "GB-ENG"), upper-cased, if the `holidays` package knows it; else
    ValueError."""
    code = code.strip().upper()
    country, _, subdivision = code.partition("-")
    supported = holiday_calendars_lib.list_supported_countries()
    if country not in supported or (subdivision and subdivision not in supported[country]):
        raise ValueError(f"I don't know public holidays for `{code}`")
    return code


def check_currency(code: str) -> str:
    """The ISO 4217 code ("gbp " -> "GBP") if it is a currency's; else ValueError saying so."""
    cleaned = code.strip().upper()
    if cleaned not in CURRENCIES:
        shown = f"`{code.strip()}` isn't" if code.strip() else "That isn't"
        raise ValueError(
            f"{shown} a currency code: use the three letters of ISO 4217, such as GBP, EUR or USD."
        )
    return cleaned


def nudge_policy_in(
    session, *, partnership_id: int, person_id: int, years: Iterable[int]
) -> NudgePolicy:
    """The partnership's nudge policy for one person, inside the caller's transaction: the
    current charter's working days and hours, and the public holidays of the person's
    organisation (none if they are not a member or the charter names no calendar)."""
    settings = settings_in(session, partnership_id)
    organisation = session.execute(
        select(Member.organisation).where(
            Member.partnership_id == partnership_id, Member.person_id == person_id
        )
    ).scalar_one_or_none()
    country = settings.holiday_country(organisation)
    return settings.nudge_policy(holidays=holiday_dates(country, years))
