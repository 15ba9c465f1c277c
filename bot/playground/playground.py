"""The playground's engine: the real Saydo, a stand-in Slack, and a clock that can move on.

Saydo runs here exactly as `saydo run` runs it in HTTP mode: the same Bolt app, handlers,
scheduler sweeps and storage, listening on a loopback port. What a person does in the
playground's page becomes the request Slack would send (a signed slash command, event or
interaction, through :mod:`bot.playground.slack_requests`); what Saydo sends goes to the stand-in
(`SLACK_API_URL`), which keeps each conversation, modal and Home tab for the page to show.

Moving the clock on runs the scheduler's sweeps at every instant in between when something
falls due (and at least daily, for the planning sweeps), so nudges, coffee rounds, summaries
and review reminders arrive as they would have.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import re
import secrets
import threading
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from bot.app import create_app
from bot.blocks import ids
from bot.config import Settings
from bot.installations import router_for
from bot.outbox.sending import next_due
from bot.playground import render
from bot.playground import slack_requests as doors
from bot.playground import workspace as cast
from bot.playground.slack_requests import Answer, Doors, new_trigger_id
from bot.playground.standin import (
    BOT_USER,
    ContractCheck,
    ResponseContext,
    SlackStandIn,
    dm_id,
)
from bot.runner import Health
from bot.server import EVENTS_PATH, build_server, make_wsgi_app
from bot.slack_client import build_web_client
from scheduler import Sweep, build_scheduler, jobs
from storage import clock, migrate
from storage.db import create_db_engine

logger = logging.getLogger(__name__)

SLASH_COMMANDS = ("/saydo", "/commit", "/done")  # as in manifest.yml (a test keeps them equal)
BOT_NAME = "saydo"
# The organisations whose installation of Saydo the page lets you choose; the council's is given.
CHOOSING = (cast.TRUST, cast.SUPPLIER)
# The app credentials Saydo has in OAuth mode (the stand-in's `oauth.v2.access` accepts them).
CLIENT_ID = "1000000001.2000000002"
PLANNING_STEP = timedelta(hours=6)
# What may follow an `@` in the composer, typed in any case: a person's full (display) name or
# their handle, and Saydo's name, each with its user id and handle.
_PEOPLE_BY_NAME = {
    typed.lower(): (m.user_id, m.name) for m in cast.MEMBERS for typed in (m.real_name, m.name)
} | {BOT_NAME: (BOT_USER, BOT_NAME)}
_AT_NAME = re.compile(
    r"(?<![<\w])@("
    + "|".join(re.escape(name) for name in sorted(_PEOPLE_BY_NAME, key=len, reverse=True))
    + r")(?!\w)",
    re.IGNORECASE,
)


class PlaygroundError(ValueError):
    """Something the person asked for cannot be done; the message says why, for the page."""


@dataclass(frozen=True)
class Advanced:
    """What moving the clock did."""

    started: datetime
    reached: datetime
    sweeps: int
    sent: int


def files_of(database: Path) -> tuple[Path, ...]:
    """The database and everything kept beside it (SQLite's journal, the workspace state)."""
    return (
        database,
        Path(f"{database}-wal"),
        Path(f"{database}-shm"),
        state_file(database),
    )


def state_file(database: Path) -> Path:
    return database.with_name(database.name + ".playground.json")


class Playground:
    """Start with :meth:`start`, stop with :meth:`stop`. Every action is one method."""

    def __init__(self, database: Path, *, contract: ContractCheck | None = None) -> None:
        """`contract` checks every call Saydo makes to the stand-in (the tests pass theirs)."""
        self.database = database
        self.slack = SlackStandIn(contract=contract, clock=lambda: clock.now().timestamp())
        self._signing_secret = secrets.token_hex(16)
        self._client_secret = secrets.token_hex(16)
        # None: one installation, the council's single token (the default). Otherwise OAuth
        # mode, and the workspaces that have installed Saydo through it (the council's always).
        self.installed: set[str] | None = None
        self._retention = Settings().uninstall_retention
        self._time = threading.RLock()  # sweeps and clock moves, one at a time
        self._stopping = threading.Event()
        self._saving = threading.Lock()
        self._server = None
        self._serving: threading.Thread | None = None
        self._scheduler = None
        self.engine = None
        self.sweeper = None
        self.doors: Doors | None = None

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self) -> None:
        self.slack.start()
        self.slack.accept_oauth_client(CLIENT_ID, self._client_secret)
        fresh = not self._restore()
        if fresh:
            cast.furnish(self.slack)
        self.engine = create_db_engine(f"sqlite:///{self.database}")
        migrate.upgrade(self.engine)
        self._serve_saydo()
        if fresh:
            self._invite_saydo()
        # The stand-in forgets the tokens it issued when the playground stops: the workspaces
        # that had installed Saydo install it again (the newest installation is the one used).
        for team_id in sorted(self.installed or ()):
            self._install(team_id)
        self._scheduler.start()
        self.save()

    def _settings(self) -> Settings:
        """Saydo's settings: one workspace's token, or app credentials for OAuth mode."""
        credentials = (
            {"bot_token": "xoxb-playground"}
            if self.installed is None
            else {"client_id": CLIENT_ID, "client_secret": self._client_secret}
        )
        return Settings(
            **credentials,
            signing_secret=self._signing_secret,
            database_url=f"sqlite:///{self.database}",
            slack_api_url=self.slack.url,
            host="127.0.0.1",
            port=0,
        )

    def _serve_saydo(self) -> None:
        """Serve Saydo (in the mode `installed` calls for) on a loopback port, with its
        scheduler built but not started."""
        settings = self._settings()
        client = build_web_client(settings)
        # Finishing each listener before answering makes the page's view of a request whole
        # once it returns; the stand-in Slack has no three-second deadline to respect.
        app = create_app(settings, engine=self.engine, client=client, process_before_response=True)
        # Nothing limits how fast the stand-in takes messages: no need to pace them.
        self.sweeper = dataclasses.replace(
            jobs.build_sweeper(self.engine, client, router=router_for(settings, self.engine)),
            pace_seconds=0,
        )
        self._scheduler = build_scheduler(
            tuple(
                Sweep(sweep.id, self._one_at_a_time(sweep.func), sweep.seconds)
                for sweep in jobs.scheduled(self.sweeper, retention=self._retention)
            )
        )
        self._server = build_server(
            make_wsgi_app(
                app,
                Health(self.engine, self._scheduler),
                signing_secret=self._signing_secret,
            ),
            host="127.0.0.1",
            port=0,
        )
        self._server.prepare()
        self._serving = threading.Thread(target=self._server.serve, name="saydo", daemon=True)
        self._serving.start()
        host, port = self._server.bind_addr[:2]
        self.doors = Doors(
            f"http://{host}:{port}{EVENTS_PATH}", signing_secret=self._signing_secret
        )

    def _stop_saydo(self) -> None:
        if self._scheduler is not None and self._scheduler.running:
            self._scheduler.shutdown(wait=True)
        if self._server is not None:
            self._server.stop()
        if self._serving is not None:
            self._serving.join()

    def interrupt(self) -> None:
        """Cut short a clock move (or a quarter being played) at its next sweep: stopping."""
        self._stopping.set()

    def stop(self) -> None:
        self.interrupt()
        self._stop_saydo()
        if self.doors is not None:  # it started: there is a workspace worth keeping
            self.save()
        self.slack.stop()
        if self.engine is not None:
            self.engine.dispose()
        clock.set_offset(timedelta(0))

    def save(self) -> None:
        """Keep the workspace (conversations, views) and the clock beside the database."""
        with self._saving:
            state = {
                "clock_offset_seconds": clock.offset().total_seconds(),
                "slack": self.slack.snapshot(),
                "installed": None if self.installed is None else sorted(self.installed),
            }
            target = state_file(self.database)
            partial = target.with_name(target.name + ".partial")
            partial.write_text(json.dumps(state), encoding="utf-8")
            os.replace(partial, target)

    def _restore(self) -> bool:
        path = state_file(self.database)
        if not (path.is_file() and self.database.is_file()):
            return False
        state = json.loads(path.read_text(encoding="utf-8"))
        self.slack.restore(state["slack"])
        clock.set_offset(timedelta(seconds=state["clock_offset_seconds"]))
        installed = state.get("installed")  # absent from playgrounds saved before the choice
        self.installed = None if installed is None else set(installed)
        return True

    def _one_at_a_time(self, func: Callable[[], object]) -> Callable[[], object]:
        def exclusively() -> object:
            with self._time:
                return func()

        return exclusively

    def _invite_saydo(self) -> None:
        """Do what a person does first in Slack: invite Saydo to the partnership channel."""
        self.slack.join(cast.CHANNEL_ID, BOT_USER)
        self._event(
            doors.membership_event(
                "member_joined_channel",
                user_id=BOT_USER,
                channel_id=cast.CHANNEL_ID,
                team_id=cast.COUNCIL.team_id,
                inviter=cast.MEMBERS[0].user_id,
            )
        )

    # -- who has installed Saydo ---------------------------------------------------------------

    def choose_install(self, team_id: str, installed: bool) -> None:
        """Whether the NHS trust's or the supplier's workspace has installed Saydo, through
        Slack's OAuth flow (or uninstalled it: Slack revokes its tokens and tells Saydo). The
        first choice moves Saydo from the council's single token to OAuth mode, where the
        council has installed it too."""
        if team_id not in {o.team_id for o in CHOOSING}:
            raise PlaygroundError(
                f"Choose for {' or '.join(o.name for o in CHOOSING)}; "
                f"{cast.COUNCIL.name} has installed Saydo."
            )
        if self.installed is None and self._scheduler.running:
            self._scheduler.shutdown(wait=True)  # not holding `_time`: its sweeps take it
        with self._time:
            if self.installed is None:
                self._stop_saydo()
                self.installed = set()
                self._serve_saydo()
                self._install(cast.COUNCIL.team_id)
                self._scheduler.start()
            if installed and team_id not in self.installed:
                self._install(team_id)
            elif not installed and team_id in self.installed:
                self._uninstall(team_id)

    def has_saydo(self, user_id: str) -> bool:
        """Whether Saydo is installed in `user_id`'s own workspace, so they have its slash
        commands, shortcuts, direct messages and Home tab (in single-token mode, everyone)."""
        return self.installed is None or self._member(user_id).team_id in self.installed

    def _install(self, team_id: str) -> None:
        """A Slack admin of `team_id` installs Saydo from its "Add to Slack" page."""
        installer = next(m.user_id for m in cast.MEMBERS if m.team_id == team_id)
        answer = self.doors.install(
            lambda scopes: self.slack.approve_install(team_id, installer, scopes)
        )
        self._answered(answer, "Installing Saydo")
        self.installed.add(team_id)

    def _uninstall(self, team_id: str) -> None:
        self.slack.uninstall(team_id)
        self._event({"type": "app_uninstalled"}, team_id=team_id)
        self.installed.discard(team_id)

    def _team_of(self, member: cast.Member) -> cast.Organisation:
        """The workspace whose installation of Saydo a person's requests come through: their
        own when it has installed Saydo in OAuth mode, else the council's."""
        if self.installed is not None and member.team_id in self.installed:
            return cast.organisation_of(member.user_id)
        return cast.COUNCIL

    # -- what a person does --------------------------------------------------------------------

    def type(self, user_id: str, conversation: str, text: str) -> None:
        """What a person types in a conversation's composer: a slash command, or a message
        (with `@saydo` it mentions Saydo, which Slack tells the app about)."""
        member = self._member(user_id)
        text = text.strip()
        if not text:
            raise PlaygroundError("Type a message or a command first.")
        if conversation == dm_id(user_id) and not self.has_saydo(user_id):
            raise PlaygroundError(self._not_installed(member))
        if text.startswith("/"):
            self._command(member, conversation, text)
            return
        message = self.slack.post_as(user_id, conversation, self._with_mentions(text))
        if f"<@{BOT_USER}>" in message["text"] and not conversation.startswith("D"):
            self._event(
                doors.app_mention_event(
                    user_id=user_id,
                    text=message["text"],
                    channel_id=conversation,
                    ts=message["ts"],
                    team_id=member.team_id,
                )
            )

    def click(
        self,
        user_id: str,
        *,
        block_id: str,
        action_id: str,
        value: str | None = None,
        conversation: str | None = None,
        message_ts: str | None = None,
        view_id: str | None = None,
        submitted: Mapping[str, Mapping[str, list[str]]] | None = None,
    ) -> None:
        """A click (or choice) on an interactive element of a message, a modal or the Home tab."""
        member = self._member(user_id)
        user, team = self._user_object(member), self._team_object(member)
        if view_id is not None:
            view = self.slack.view(view_id)
            if view is None:
                raise PlaygroundError("That view is no longer open.")
            view["state"] = {"values": render.view_state(view, submitted or {})}
            action = self._action(view.get("blocks", []), block_id, action_id, value)
            payload = doors.view_block_actions(
                [action], user=user, team=team, view=view, trigger_id=self._trigger_for(user_id)
            )
        else:
            if conversation is None or message_ts is None:
                raise PlaygroundError("Say which message was clicked.")
            message = self.slack.message(conversation, message_ts, viewer=user_id)
            if message is None:
                raise PlaygroundError("That message is gone.")
            ephemeral = bool(message.pop("ephemeral", False))
            message.pop("for", None)
            action = self._action(message.get("blocks", []), block_id, action_id, value)
            payload = doors.message_block_actions(
                [action],
                user=user,
                team=team,
                channel={"id": conversation, "name": self._channel_name(conversation)},
                message_ts=message_ts,
                response_url=self.slack.response_url(
                    ResponseContext(conversation, user_id, message_ts, ephemeral)
                ),
                trigger_id=self._trigger_for(user_id),
                message=None if ephemeral else message,
            )
        self._answered(self.doors.interaction(payload), "That button")

    def submit(
        self, user_id: str, view_id: str, submitted: Mapping[str, Mapping[str, list[str]]]
    ) -> dict[str, str]:
        """Submit a modal; returns the errors to show by block id (empty: it was accepted)."""
        member = self._member(user_id)
        view = self.slack.view(view_id)
        if view is None:
            raise PlaygroundError("That form is no longer open.")
        view["state"] = {"values": render.view_state(view, submitted)}
        answer = self.doors.interaction(
            doors.view_submission(
                view,
                user=self._user_object(member),
                team=self._team_object(member),
                trigger_id=self._trigger_for(user_id),
            )
        )
        self._answered(answer, "The form")
        reply = answer.json() or {}
        action = reply.get("response_action")
        if action == "errors":
            return dict(reply.get("errors") or {})
        if action == "update":
            self.slack.replace_modal(view_id, reply["view"])
        elif action == "push":
            self.slack.push_modal(user_id, reply["view"])
        else:
            self.slack.close_modal(user_id, everything=action == "clear")
        return {}

    def close(self, user_id: str, view_id: str) -> None:
        """Cancel a modal (Saydo hears of it when the modal asked to be told)."""
        member = self._member(user_id)
        view = self.slack.view(view_id)
        self.slack.close_modal(user_id)
        if view is not None and view.get("notify_on_close"):
            self._answered(
                self.doors.interaction(
                    doors.view_closed(
                        view, user=self._user_object(member), team=self._team_object(member)
                    )
                ),
                "Closing the form",
            )

    def open_home(self, user_id: str) -> None:
        """Open Saydo's Home tab (Slack tells the app, which publishes the view)."""
        member = self._member(user_id)
        if not self.has_saydo(user_id):
            raise PlaygroundError(self._not_installed(member))
        self._event(
            doors.app_home_opened_event(
                user_id=member.user_id,
                channel_id=dm_id(user_id),
                event_ts=f"{clock.now().timestamp():.6f}",
            ),
            team_id=self._team_of(member).team_id,
        )

    def shortcut(self, user_id: str, conversation: str, message_ts: str) -> None:
        """The "Make a commitment" message shortcut on a message."""
        member = self._member(user_id)
        message = self.slack.message(conversation, message_ts, viewer=user_id)
        if message is None or message.get("ephemeral"):
            raise PlaygroundError("Shortcuts work on messages everyone can see.")
        self._answered(
            self.doors.interaction(
                doors.message_shortcut(
                    ids.MAKE_COMMITMENT_SHORTCUT,
                    user=self._user_object(member),
                    team=self._team_object(member),
                    channel={"id": conversation, "name": self._channel_name(conversation)},
                    message=message,
                    response_url=self.slack.response_url(ResponseContext(conversation, user_id)),
                    trigger_id=self._trigger_for(user_id),
                )
            ),
            "The shortcut",
        )

    # -- time ----------------------------------------------------------------------------------

    def advance(self, to: datetime) -> Advanced:
        """Move the clock on to `to`, running the sweeps at each instant something falls due
        in between, and at least every `PLANNING_STEP` for the planning sweeps."""
        with self._time:
            started = at = clock.now()
            if to <= at:
                raise PlaygroundError("The clock only moves forward; choose a later time.")
            sweeps = sent = 0
            while at < to:
                if self._stopping.is_set():
                    raise PlaygroundError("The playground is stopping.")
                due = next_due(self.engine, after=at)
                at = min(to, at + PLANNING_STEP, due or to)
                clock.move_to(at)
                reports = jobs.run_sweeps(self.sweeper, now=at, retention=self._retention)
                sweeps += 1
                sent += sum(report.result == "sent" for report in reports)
            return Advanced(started, at, sweeps, sent)

    # -- doors ---------------------------------------------------------------------------------

    def _command(self, member: cast.Member, conversation: str, text: str) -> None:
        command, _, rest = text.partition(" ")
        context = ResponseContext(conversation, member.user_id)
        if command in SLASH_COMMANDS and not self._commands_for(member, conversation):
            self.slack.show_reply(
                context,
                {
                    "text": f"`{command}` belongs to {cast.COUNCIL.name}'s Slack, and slash "
                    "commands are not shared in Slack Connect channels. Mention Saydo instead: "
                    f"`@{BOT_NAME} {rest.strip() or 'help'}`"
                },
            )
            return
        if command not in SLASH_COMMANDS:
            self.slack.show_reply(
                context,
                {
                    "text": f"`{command}` is not a valid command. In Slack, all messages that "
                    'start with the "/" character are interpreted as commands.'
                },
            )
            return
        answer = self.doors.command(
            command=command,
            text=self._with_mentions(rest.strip(), escaped_command=True),
            user_id=member.user_id,
            channel_id=conversation,
            channel_name=self._channel_name(conversation),
            team_id=self._team_of(member).team_id,
            team_domain=self._team_of(member).domain,
            response_url=self.slack.response_url(context),
            trigger_id=self._trigger_for(member.user_id),
        )
        if answer.status != 200:
            self.slack.show_reply(
                context,
                {"text": f'{command} failed with the error "dispatch_failed" ({answer.status})'},
            )
            return
        reply = answer.json()
        if reply is None and answer.body.strip():
            reply = {"text": answer.body}
        if reply:
            self.slack.show_reply(context, reply)

    def _commands_for(self, member: cast.Member, conversation: str) -> bool:
        """Whether Saydo's slash commands are there for `member` in `conversation`: in OAuth
        mode, when their own workspace has installed Saydo; with the council's single token,
        except in a Slack Connect channel, where the host's slash commands are not shared with
        partners from other organisations."""
        if self.installed is not None:
            return member.team_id in self.installed
        record = self.slack.channel(conversation)
        shared = bool(record and record["is_ext_shared"])
        return not shared or member.team_id == cast.COUNCIL.team_id

    def _not_installed(self, member: cast.Member) -> str:
        organisation = cast.organisation_of(member.user_id).name
        return (
            f"Saydo is not installed in {organisation}'s Slack, so {member.real_name} has no "
            f"direct messages or Home tab with it: mention @{BOT_NAME} in "
            f"#{cast.CHANNEL_NAME} instead (or choose that {organisation} has installed it)."
        )

    def _event(self, event: dict[str, Any], *, team_id: str = cast.COUNCIL.team_id) -> None:
        """An Events API delivery, through the installation of workspace `team_id`."""
        answer = self.doors.event(
            event,
            team_id=team_id,
            bot_user_id=BOT_USER,
            event_id=f"Ev{uuid.uuid4().hex[:10].upper()}",
        )
        self._answered(answer, "The event")

    def _answered(self, answer: Answer, what: str) -> None:
        if answer.status != 200:
            raise PlaygroundError(f"{what} reached Saydo, which answered HTTP {answer.status}.")

    def _trigger_for(self, user_id: str) -> str:
        trigger_id = new_trigger_id()
        self.slack.register_trigger(trigger_id, user_id)
        return trigger_id

    def _member(self, user_id: str) -> cast.Member:
        try:
            return cast.member(user_id)
        except KeyError:
            raise PlaygroundError(f"No one in the playground has the id {user_id}.") from None

    def _with_mentions(self, text: str, *, escaped_command: bool = False) -> str:
        """`@alice` or `@Alice Adams` becomes `<@U0ALICE>` and `@saydo` `<@UBOT>`, as picking a
        person in Slack's composer does; in the text of a command with `should_escape` (all of
        Saydo's), `<@U0ALICE|alice>`. An `@` before no one's name stays as typed."""

        def mention(match: re.Match[str]) -> str:
            user_id, handle = _PEOPLE_BY_NAME[match.group(1).lower()]
            return f"<@{user_id}|{handle}>" if escaped_command else f"<@{user_id}>"

        return _AT_NAME.sub(mention, text)

    def _user_object(self, member: cast.Member) -> dict[str, str]:
        return doors.user_object(member.user_id, team_id=member.team_id, name=member.name)

    def _team_object(self, member: cast.Member) -> dict[str, str]:
        team = self._team_of(member)
        return doors.team_object(team.team_id, domain=team.domain)

    @staticmethod
    def _action(
        blocks: list[dict[str, Any]], block_id: str, action_id: str, value: str | None
    ) -> dict[str, Any]:
        """The action Slack reports for the element `action_id` in `blocks`."""
        try:
            return render.block_action(blocks, block_id=block_id, action_id=action_id, value=value)
        except LookupError as missing:
            raise PlaygroundError(str(missing)) from None

    def _channel_name(self, conversation: str) -> str:
        record = self.slack.channel(conversation)
        if record is None or not record["name"]:
            return "directmessage" if conversation.startswith("D") else "privategroup"
        return record["name"]
