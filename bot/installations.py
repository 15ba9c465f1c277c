"""OAuth mode: workspaces install Saydo, and slack_sdk's stores keep their installations.

The installation store and the OAuth state store are slack_sdk's SQLAlchemy stores in Saydo's
own database (tables created by migration 0008). Bolt authorises every request with the
installation of the team (or Enterprise Grid org) it came from.

Token rotation: when the app opts in, Slack issues bot tokens that expire (12 hours) with a
refresh token. Bolt's `InstallationStoreAuthorize` refreshes a request's installation, and
`Routes` the outbox's, `ROTATE_MINUTES_BEFORE_EXPIRY` before the token expires (slack_sdk's
`TokenRotator`), and both save the rotated installation in the store.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from slack_bolt.authorization.authorize import InstallationStoreAuthorize
from slack_bolt.oauth import OAuthFlow
from slack_bolt.oauth.oauth_settings import OAuthSettings
from slack_sdk import WebClient
from slack_sdk.errors import SlackTokenRotationError
from slack_sdk.oauth.installation_store import Installation
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from slack_sdk.oauth.token_rotation import TokenRotator
from sqlalchemy import Engine, select

from bot.config import ConfigError, Settings
from bot.outbox.sending import GROUP_DM_PREFIX, Route
from bot.slack_client import build_web_client
from storage.db import transaction
from storage.models import Member, Partnership, Person

# The app manifest at the top of the repository, shipped with the package as bot/manifest.yml (a
# link to it in the checkout, a copy in an installed wheel): one file, wherever Saydo runs from.
MANIFEST = Path(__file__).parent / "manifest.yml"
# What a person of a workspace without an installation is told (privately) when they use a
# slash command, shortcut or button.
NOT_INSTALLED = (
    "Saydo is not installed in your workspace yet. Ask a Slack admin to install it from "
    "Saydo's /slack/install page; until then, mention @saydo in a shared channel."
)
STATE_EXPIRATION_SECONDS = 10 * 60  # an "Add to Slack" page is good for ten minutes
# Token rotation: a token is refreshed once it has less than this left (Bolt's default; Slack's
# tokens live 12 hours), for requests and outbox messages alike.
ROTATE_MINUTES_BEFORE_EXPIRY = 120

logger = logging.getLogger(__name__)


def bot_scopes(manifest: Path = MANIFEST) -> list[str]:
    """The bot scopes Saydo asks for: the manifest's `oauth_config.scopes.bot`, the one place
    they are listed."""
    try:
        scopes = yaml.safe_load(manifest.read_text())["oauth_config"]["scopes"]["bot"]
    except (OSError, yaml.YAMLError, KeyError, TypeError):
        raise ConfigError(
            f"cannot read the bot scopes (oauth_config.scopes.bot) from {manifest}."
        ) from None
    return list(scopes)


def installation_store(settings: Settings, engine: Engine) -> SQLAlchemyInstallationStore:
    return SQLAlchemyInstallationStore(client_id=settings.client_id, engine=engine)


def authorize(settings: Settings, engine: Engine, client: WebClient) -> InstallationStoreAuthorize:
    """Bolt's authorisation of each request by its workspace's installation, refreshing an
    expiring token (token rotation) through `client` (at SLACK_API_URL, not slack.com)."""
    return InstallationStoreAuthorize(
        logger=logger,
        installation_store=installation_store(settings, engine),
        client_id=settings.client_id,
        client_secret=settings.client_secret,
        token_rotation_expiration_minutes=ROTATE_MINUTES_BEFORE_EXPIRY,
        client=client,
    )


def oauth_flow(settings: Settings, engine: Engine, client: WebClient) -> OAuthFlow:
    """Bolt's install flow (`/slack/install`, `/slack/oauth_redirect`) on Saydo's stores;
    `client` calls `oauth.v2.access` (at SLACK_API_URL)."""
    return OAuthFlow(
        client=client,
        settings=OAuthSettings(
            client_id=settings.client_id,
            client_secret=settings.client_secret,
            scopes=bot_scopes(),
            user_scopes=[],
            installation_store=installation_store(settings, engine),
            state_store=SQLAlchemyOAuthStateStore(
                expiration_seconds=STATE_EXPIRATION_SECONDS, engine=engine
            ),
            state_expiration_seconds=STATE_EXPIRATION_SECONDS,
        ),
    )


@dataclass(frozen=True)
class Installed:
    """A workspace (or org) that installed Saydo, as `saydo doctor` lists it."""

    team_id: str | None
    team_name: str | None
    enterprise_id: str | None
    bot_token: str | None = field(repr=False)

    def describe(self) -> str:
        name = f"{self.team_name} ({self.team_id})" if self.team_name else str(self.team_id)
        return f"{name} in Enterprise Grid {self.enterprise_id}" if self.enterprise_id else name


def installed(settings: Settings, engine: Engine) -> list[Installed]:
    """Every workspace whose bot installation is stored, newest install per team."""
    store = installation_store(settings, engine)
    table = store.bots
    rows = {}
    with engine.connect() as connection:
        for row in connection.execute(
            select(table).where(table.c.client_id == settings.client_id).order_by(table.c.id)
        ).mappings():
            rows[row["enterprise_id"], row["team_id"]] = Installed(
                row["team_id"], row["team_name"], row["enterprise_id"], row["bot_token"]
            )
    return sorted(rows.values(), key=lambda i: (i.enterprise_id or "", i.team_id or ""))


@dataclass(frozen=True)
class Workspace:
    """An organisation's workspace in a partnership, and whether it installed Saydo."""

    team_id: str
    name: str
    installed: bool

    def describe(self) -> str:
        return f"{self.name} ({self.team_id})" if self.name != self.team_id else self.team_id


@dataclass(frozen=True)
class Coverage:
    """A partnership (its channel) and the workspaces of its members, as `saydo doctor` lists
    them."""

    channel_id: str
    name: str
    workspaces: tuple[Workspace, ...]

    def describe(self) -> str:
        parts = []
        for label, installed in (("installed", True), ("not installed", False)):
            listed = [w.describe() for w in self.workspaces if w.installed is installed]
            if listed:
                parts.append(f"{label}: {', '.join(listed)}")
        return f"#{self.name} ({self.channel_id}): {'; '.join(parts)}"


def coverage(settings: Settings, engine: Engine) -> list[Coverage]:
    """Per partnership, which workspaces of its active members (and the one it was set up in)
    have installed Saydo. A workspace is named as its installation says, else as most of its
    members' organisation is named there (by default, the workspace's name)."""
    names = {each.team_id: each.team_name for each in installed(settings, engine)}
    with transaction(engine) as session:
        partnerships = session.execute(
            select(Partnership.channel_id, Partnership.name, Partnership.team_id).order_by(
                Partnership.id
            )
        ).all()
        members = session.execute(
            select(Partnership.channel_id, Person.team_id, Member.organisation)
            .join(Member, Member.partnership_id == Partnership.id)
            .join(Person, Person.id == Member.person_id)
            .where(Member.active)
            .order_by(Member.id)
        ).all()
    channels: dict[str, tuple[str, dict[str, list[str]]]] = {}
    for channel_id, name, team_id in partnerships:
        channels.setdefault(channel_id, (name, {}))[1].setdefault(team_id, [])
    for channel_id, team_id, organisation in members:
        channels[channel_id][1].setdefault(team_id, []).append(organisation)
    return [
        Coverage(
            channel_id,
            name,
            tuple(
                Workspace(
                    team_id,
                    names.get(team_id)
                    or max(organisations, key=organisations.count, default=team_id),
                    team_id in names,
                )
                for team_id, organisations in teams.items()
            ),
        )
        for channel_id, (name, teams) in channels.items()
    ]


def router_for(settings: Settings, engine: Engine) -> Routes | None:
    """The outbox's router in OAuth mode; None in single-workspace mode (the one token)."""
    return Routes(settings, engine) if settings.oauth else None


class Routes:
    """OAuth mode's router (the outbox's, and listeners' calls addressed to a person): a
    conversation is reached through the installation of a workspace that is in it. A DM (or
    group DM) goes through the person's own workspace; a channel through the workspace its
    partnership was set up in, else through the workspace of any active member. The store is
    read for every message, so an uninstalled workspace's token is never used again, and an
    expiring token is refreshed (and saved) first; one client is kept per token."""

    def __init__(self, settings: Settings, engine: Engine) -> None:
        self.settings = settings
        self.engine = engine
        self.store = installation_store(settings, engine)
        self.rotator = TokenRotator(
            client_id=settings.client_id,
            client_secret=settings.client_secret,
            client=build_web_client(settings, token=None),
        )
        self._clients: dict[str, WebClient] = {}
        self._lock = threading.Lock()
        self._rotating = threading.Lock()  # one refresh at a time: a refresh token works once

    def __call__(self, channel: str) -> Route | None:
        for team in teams_reaching(self.engine, channel):
            installation = self._installation(team)
            if installation is not None and installation.bot_token:
                return Route(team, self._client(installation.bot_token))
        return None

    def fresh_token(self, team: str) -> str | None:
        """The team's bot token, refreshed first when it is about to expire (what `saydo
        doctor` tests, so an expired rotating token is not reported as broken)."""
        installation = self._installation(team)
        return installation.bot_token if installation is not None else None

    def _installation(self, team: str) -> Installation | None:
        """The team's installation, its bot token refreshed first when it is about to expire.

        A refresh refused (its refresh token used meanwhile by another process, which saved
        the new one) is read again from the store; if that one expires too, the error goes up
        and the message is tried again later."""
        installation = self.store.find_installation(enterprise_id=None, team_id=team)
        if installation is None or installation.bot_refresh_token is None:
            return installation
        with self._rotating:
            installation = self.store.find_installation(enterprise_id=None, team_id=team)
            if installation is None:
                return None
            try:
                rotated = self.rotator.perform_token_rotation(
                    installation=installation,
                    minutes_before_expiration=ROTATE_MINUTES_BEFORE_EXPIRY,
                )
            except SlackTokenRotationError:
                again = self.store.find_installation(enterprise_id=None, team_id=team)
                if again is None or (again.bot_token_expires_at or 0) <= time.time():
                    raise
                return again
            if rotated is None:
                return installation
            self.store.save(rotated)
            logger.info("Refreshed the bot token of %s (token rotation)", team)
            return rotated

    def _client(self, token: str) -> WebClient:
        with self._lock:
            if token not in self._clients:
                self._clients[token] = build_web_client(self.settings, token=token)
            return self._clients[token]


def teams_reaching(engine: Engine, channel: str) -> list[str]:
    """The workspaces whose installation could post to `channel`, the most fitting first."""
    with transaction(engine) as session:
        if channel.startswith(GROUP_DM_PREFIX) or channel[:1] in ("U", "W"):
            users = channel.removeprefix(GROUP_DM_PREFIX).split(",")
            teams = session.execute(
                select(Person.team_id).where(Person.user_id.in_(users))
            ).scalars()
            return list(dict.fromkeys(teams))
        home = _home_teams(session, channel)
        members = session.execute(
            select(Person.team_id)
            .join(Member, Member.person_id == Person.id)
            .join(Partnership, Partnership.id == Member.partnership_id)
            .where(Partnership.channel_id == channel, Member.active)
            .order_by(Member.id)
        ).scalars()
        return list(dict.fromkeys([*home, *members]))


def home_teams(engine: Engine, channel_id: str) -> list[str]:
    """The workspaces a channel's partnership was set up in, the first first."""
    with transaction(engine) as session:
        return _home_teams(session, channel_id)


def partnership_teams_of(engine: Engine, user_id: str) -> list[str]:
    """The workspaces the partnerships `user_id` is a current member of were set up in."""
    with transaction(engine) as session:
        return list(
            session.execute(
                select(Partnership.team_id)
                .join(Member, Member.partnership_id == Partnership.id)
                .join(Person, Person.id == Member.person_id)
                .where(Person.user_id == user_id, Member.active)
                .distinct()
            ).scalars()
        )


def _home_teams(session, channel_id: str) -> list[str]:
    return list(
        session.execute(
            select(Partnership.team_id)
            .where(Partnership.channel_id == channel_id)
            .order_by(Partnership.id)
        ).scalars()
    )
