"""The playground's workspace: three organisations, six people, one partnership channel.

A county council hosts the Slack workspace Saydo is installed in; an NHS trust and a digital
supplier join the shared channel through Slack Connect, from their own workspaces, so each
person's organisation is their own workspace's name, as in a real partnership.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.playground.standin import HOST_TEAM, SlackStandIn


@dataclass(frozen=True)
class Organisation:
    team_id: str
    name: str
    domain: str


@dataclass(frozen=True)
class Member:
    user_id: str
    name: str  # the handle typed after @
    real_name: str
    team_id: str
    tz: str
    locale: str
    role: str  # shown in the playground's switcher


COUNCIL = Organisation(HOST_TEAM, "Northshire County Council", "northshire")
TRUST = Organisation("T0TRUST", "Northshire NHS Trust", "northshire-nhs")
SUPPLIER = Organisation("T0KESTREL", "Kestrel Digital", "kestrel")
ORGANISATIONS = (COUNCIL, TRUST, SUPPLIER)

MEMBERS = (
    Member(
        "U0ALICE", "alice", "Alice Adams", COUNCIL.team_id, "Europe/London", "en-GB",
        "Partnership lead, council",
    ),
    Member(
        "U0BEN", "ben", "Ben Okafor", COUNCIL.team_id, "Europe/London", "en-GB",
        "Commissioning officer, council",
    ),
    Member(
        "U0CHLOE", "chloe", "Chloe Hughes", TRUST.team_id, "Europe/London", "en-GB",
        "Discharge team manager, NHS trust",
    ),
    Member(
        "U0DAN", "dan", "Dan Walsh", TRUST.team_id, "Europe/Dublin", "en-IE",
        "Data analyst, NHS trust",
    ),
    Member(
        "U0PRIYA", "priya", "Priya Nair", SUPPLIER.team_id, "Asia/Kolkata", "en-IN",
        "Delivery lead, Kestrel Digital",
    ),
    Member(
        "U0SAM", "sam", "Sam Rivera", SUPPLIER.team_id, "America/New_York", "en-US",
        "Product owner, Kestrel Digital",
    ),
)  # fmt: skip

CHANNEL_ID = "C0PARTNERS"
CHANNEL_NAME = "care-home-discharge"


def furnish(slack: SlackStandIn) -> None:
    """Put the organisations, people and the shared channel (bot not yet invited) in Slack."""
    for organisation in ORGANISATIONS:
        slack.add_team(organisation.team_id, organisation.name, organisation.domain)
    for member in MEMBERS:
        slack.add_user(
            member.user_id,
            name=member.name,
            real_name=member.real_name,
            team_id=member.team_id,
            tz=member.tz,
            locale=member.locale,
            display_name=member.real_name,
        )
    slack.add_channel(
        CHANNEL_ID,
        name=CHANNEL_NAME,
        members=[m.user_id for m in MEMBERS],
        is_ext_shared=True,
    )


def member(user_id: str) -> Member:
    for candidate in MEMBERS:
        if candidate.user_id == user_id:
            return candidate
    raise KeyError(user_id)


def organisation_of(user_id: str) -> Organisation:
    team_id = member(user_id).team_id
    return next(o for o in ORGANISATIONS if o.team_id == team_id)
