"""The outbox: the one way Saydo sends anything on a schedule.

Every scheduled message is a row with a unique slot key (planned once), its due instant and a
state. A sweep claims what is due (on PostgreSQL with `FOR UPDATE SKIP LOCKED`, so replicas
never claim the same row; SQLite transactions are serialised), sends each message outside any
transaction, then records the result:

- sent: done, never sent again;
- HTTP 429 (once the client's own `Retry-After` retries are spent): pending again after the
  `Retry-After` the server asked for;
- 5xx, connection errors and other transient errors: pending again with exponential back-off,
  failed after `MAX_ATTEMPTS`;
- permanent errors (`PERMANENT_ERRORS`): failed at once, with the error kept;
- a channel written `users:U1,U2[,U3]` is a group DM: the sweeper opens it with
  `conversations.open` right before posting and records the conversation id on the row;
- a DM (or group DM) that no installation can open (none in their workspace, or Slack
  answers one of `DM_IMPOSSIBLE`) is posted instead as `chat.postEphemeral` to the person (to
  each person) in a partnership channel they are a member of (`shared_channels`), recorded in
  `fallback`, never publicly; with no such channel for anyone it fails, saying why;
- a slot more than `STILL_USEFUL` past its due instant (Saydo was down) is superseded, not
  sent.

Sending is concurrent across channels: `concurrency` threads each claim `CLAIM_BATCH` rows at a
time, while one post at a time goes to any one channel, `pace_seconds` after the previous one
there was answered. A 429's `Retry-After` holds back every thread (`bot.slack_client`).

A claim is a lease: the sweeper renews its claims every third of `CLAIM_LEASE` while it
sends. The claims of a process that died are pending again at the next sweep when it ran on
this host (its pid is gone), otherwise once the lease lapses; so only messages in flight at a
crash can be sent twice.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import Engine, func, select, update
from sqlalchemy.orm import Session

from bot.config import DEFAULT_OUTBOX_CONCURRENCY
from storage.db import transaction, upsert_insert
from storage.models import OutboxMessage, utcnow

logger = logging.getLogger(__name__)

STILL_USEFUL = timedelta(hours=24)
CLAIM_LEASE = timedelta(seconds=60)
CLAIM_BATCH = 5  # per sending thread: what a kill can strand until the restart or the lease
MAX_ATTEMPTS = 8
BACKOFF_BASE = timedelta(seconds=30)
BACKOFF_MAX = timedelta(hours=1)
CHANNEL_PACE_SECONDS = 1.0
RATE_LIMITED_POSTS = 2  # posts of one message in a sweep while answered 429 (each retried twice)
PERMANENT_ERRORS = frozenset(
    {
        "channel_not_found",
        "not_in_channel",
        "user_not_found",
        "account_inactive",
        "is_archived",
        "message_not_found",
        "cant_update_message",
    }
)


class State(StrEnum):
    PENDING = "pending"
    CLAIMED = "claimed"
    SENT = "sent"
    FAILED = "failed"
    CANCELLED = "cancelled"
    SUPERSEDED = "superseded"


@dataclass(frozen=True)
class Planned:
    """A message to schedule. `payload` is a ready message; without one, the kind's renderer
    builds it at send time from the current database state."""

    slot_key: str
    kind: str
    channel: str
    due_at: datetime
    commitment_id: int | None = None
    payload: dict | None = None


@dataclass(frozen=True)
class Item:
    id: int
    slot_key: str
    kind: str
    channel: str
    due_at: datetime
    commitment_id: int | None
    payload: dict | None
    attempts: int


GROUP_DM_PREFIX = "users:"


@dataclass(frozen=True)
class Upload:
    """A file to share instead of posting `message` (its `text` becomes the comment)."""

    filename: str
    content: bytes
    title: str
    alt_text: str


@dataclass(frozen=True)
class Send:
    channel: str  # a channel or user id, or `users:U1,U2[,U3]` for a group DM
    message: dict
    summary: str  # one line for `saydo tick` and the log
    # Called (outside any transaction) with the conversation id the message was posted in.
    on_sent: Callable[[str], None] | None = None
    replaces_ts: str | None = None  # update this message (`chat.update`) instead of posting
    upload: Upload | None = None  # shared with files_upload_v2 (Slack's external upload flow)


@dataclass(frozen=True)
class Skip:
    state: State  # CANCELLED (no longer wanted) or SUPERSEDED
    reason: str


@dataclass(frozen=True)
class Later:
    """Not now (the owner is away, or it is outside their working hours): try at `until`."""

    until: datetime
    reason: str


Renderer = Callable[[Engine, Item, datetime], Send | Skip | Later]


@dataclass(frozen=True)
class Route:
    """Who sends to a conversation: a workspace's installation and its client (in
    single-workspace mode, team None and the one client)."""

    team_id: str | None
    client: WebClient


# OAuth mode: the installation that reaches a conversation now, or None when none does
# (`bot.installations.Routes`). Looked up for every send, so an uninstall takes effect at once.
Router = Callable[[str], Route | None]
# OAuth mode: a token that stopped working (its workspace uninstalled Saydo meanwhile, or it
# expired before it was refreshed): the message goes back to the queue and is routed afresh
# (and its installation's token refreshed) a second later.
REVOKED_TOKEN_ERRORS = frozenset({"token_revoked", "invalid_auth", "token_expired"})
# What Slack answers when a DM cannot be opened with a person (e.g. a Slack Connect partner
# through an installation of another workspace).
DM_IMPOSSIBLE = frozenset(
    {"cannot_dm_bot", "not_allowed_token_type", "user_not_found", "channel_not_found"}
)
NO_ROUTE = "no installation of Saydo reaches this conversation"
# What of a message an ephemeral one can carry.
EPHEMERAL_FIELDS = ("text", "blocks", "attachments")


@dataclass(frozen=True)
class Delivered:
    """Where a message went: the conversation and the workspace whose installation sent it,
    and `fallback` when a DM became an ephemeral message in a partnership channel."""

    channel: str
    team_id: str | None
    fallback: str | None = None


class Unreachable(Exception):
    """Nobody can be sent this message (the message says why): it fails."""


@dataclass(frozen=True)
class Report:
    item: Item
    result: str  # sent, would send, retry, failed, cancelled, superseded
    detail: str

    def line(self) -> str:
        return (
            f"{self.result:<10} {self.item.due_at:%Y-%m-%dT%H:%MZ} {self.item.kind:<14} "
            f"{self.item.channel:<12} {self.detail}"
        )


# --- planning ----------------------------------------------------------------------------


def enqueue(session, planned: Iterable[Planned], *, now: datetime) -> None:
    """Insert slots; a slot key that exists already is left as it is (planned once)."""
    rows = [
        {
            "slot_key": p.slot_key,
            "kind": p.kind,
            "channel": p.channel,
            "commitment_id": p.commitment_id,
            "payload": json.dumps(p.payload) if p.payload is not None else None,
            "due_at": p.due_at,
            "send_after": p.due_at,
            "state": State.PENDING.value,
            "attempts": 0,
            "created_at": now,
        }
        for p in planned
    ]
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    insert = upsert_insert(dialect)
    session.execute(insert(OutboxMessage).on_conflict_do_nothing(index_elements=["slot_key"]), rows)


def cancel_pending(session, *, commitment_id: int) -> None:
    """Cancel a commitment's unsent messages (delivered, withdrawn, moved...)."""
    session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.commitment_id == commitment_id,
            OutboxMessage.state == State.PENDING.value,
        )
        .values(state=State.CANCELLED.value, last_error="no longer needed")
    )


def pending(engine: Engine, *, until: datetime, channel_ids: Iterable[str] = ()) -> list[Item]:
    """Unsent messages due before `until`, soonest first (for `saydo schedule`)."""
    query = select(OutboxMessage).where(
        OutboxMessage.state == State.PENDING.value, OutboxMessage.send_after < until
    )
    with transaction(engine) as session:
        rows = session.execute(query.order_by(OutboxMessage.send_after, OutboxMessage.id))
        items = [_item(row) for row in rows.scalars()]
    wanted = set(channel_ids)
    return [i for i in items if not wanted or i.channel in wanted]


def next_due(engine: Engine, *, after: datetime) -> datetime | None:
    """When the soonest unsent message falls due after `after`; None when none is waiting."""
    with transaction(engine) as session:
        return session.execute(
            select(func.min(OutboxMessage.send_after)).where(
                OutboxMessage.state == State.PENDING.value, OutboxMessage.send_after > after
            )
        ).scalar()


# --- sweeping ------------------------------------------------------------------------------


@dataclass
class Sweeper:
    """Claims due messages and sends them; the scheduler and `saydo tick` share it."""

    engine: Engine
    client: WebClient
    renderers: Mapping[str, Renderer]
    worker: str
    router: Router | None = None  # OAuth mode; otherwise everything goes through `client`
    # The partnership channels a person is a member of, the commitment's first, where a DM
    # that cannot be sent is told privately (`bot.partnerships.members.shared_channels`).
    shared_channels: Callable[[str, int | None], list[str]] | None = None
    concurrency: int = DEFAULT_OUTBOX_CONCURRENCY
    pace_seconds: float = CHANNEL_PACE_SECONDS
    lease: timedelta = CLAIM_LEASE
    sleep: Callable[[float], None] = time.sleep
    _last_post: dict[str, float] = field(default_factory=dict)
    _posting: set[str] = field(default_factory=set)
    _turns: threading.Condition = field(default_factory=threading.Condition)
    _database_turn: AbstractContextManager = field(init=False)

    def __post_init__(self) -> None:
        # SQLite has one writer at a time, and every Saydo transaction takes its write lock:
        # the sending threads queue here rather than in SQLite's busy wait, which gives up
        # after a few seconds (it did, with 16 threads on a loaded machine).
        sqlite = self.engine.dialect.name == "sqlite"
        self._database_turn = threading.Lock() if sqlite else nullcontext()

    @contextmanager
    def _database(self) -> Iterator[Session]:
        """A transaction, on SQLite one sending thread at a time."""
        with self._database_turn, transaction(self.engine) as session:
            yield session

    def sweep(self, *, now: datetime, dry_run: bool = False) -> list[Report]:
        """Send everything due at `now`; the reports come soonest due first. A batch that is
        not full is sent by the calling thread; more starts `concurrency` sending threads."""
        if dry_run:
            return [self._preview(item, now) for item in self._due(now)]
        self._release_abandoned()
        with self._keeping_claims():
            batch, full = self._claim(now)
            if not full:
                reports = self._send_batch(batch, now)
            else:
                with ThreadPoolExecutor(self.concurrency, thread_name_prefix="outbox") as pool:
                    first = pool.submit(self._send_due, now, batch)
                    others = [pool.submit(self._send_due, now) for _ in range(self.concurrency - 1)]
                    reports = [r for part in (first, *others) for r in part.result()]
        return sorted(reports, key=lambda r: (r.item.due_at, r.item.id))

    def _send_due(self, now: datetime, batch: list[Item] | None = None) -> list[Report]:
        """One sending thread: send `batch`, then claim and send small batches until no
        batch is full."""
        reports = self._send_batch(batch or [], now)
        full = True
        while full:
            batch, full = self._claim(now)
            reports += self._send_batch(batch, now)
        return reports

    def _send_batch(self, batch: list[Item], now: datetime) -> list[Report]:
        current, replaced = _latest_per_commitment(batch)
        for item in replaced:
            self._finish(item, state=State.SUPERSEDED, last_error="a later reminder replaces it")
        return [Report(item, "superseded", "a later reminder replaces it") for item in replaced] + [
            self._handle(item, now) for item in current
        ]

    # claiming

    def _due(self, now: datetime) -> list[Item]:
        with self._database() as session:
            rows = session.execute(
                select(OutboxMessage)
                .where(OutboxMessage.state == State.PENDING.value, OutboxMessage.send_after <= now)
                .order_by(OutboxMessage.send_after, OutboxMessage.id)
            ).scalars()
            return [_item(row) for row in rows]

    def _claim(self, now: datetime) -> tuple[list[Item], bool]:
        """Claim up to CLAIM_BATCH due messages, with every other due message about the same
        commitments (so `_latest_per_commitment` sees them together); say whether the batch
        was full. The ids are selected first (skipping rows another sweeper has locked) and
        then updated: in one statement, PostgreSQL may run a LIMIT ... SKIP LOCKED subquery
        more than once and claim more than the batch."""
        is_due = (OutboxMessage.state == State.PENDING.value, OutboxMessage.send_after <= now)
        first = (
            select(OutboxMessage.id)
            .where(*is_due)
            .order_by(OutboxMessage.send_after, OutboxMessage.id)
            .limit(CLAIM_BATCH)
            .with_for_update(skip_locked=True)
        )
        with self._database() as session:
            ids = list(session.execute(first).scalars())
            if not ids:
                return [], False
            commitments = select(OutboxMessage.commitment_id).where(
                OutboxMessage.id.in_(ids), OutboxMessage.commitment_id.is_not(None)
            )
            ids += session.execute(
                select(OutboxMessage.id)
                .where(
                    *is_due,
                    OutboxMessage.commitment_id.in_(commitments),
                    OutboxMessage.id.not_in(ids),
                )
                .with_for_update(skip_locked=True)
            ).scalars()
            rows = (
                session.execute(
                    update(OutboxMessage)
                    .where(OutboxMessage.id.in_(ids), OutboxMessage.state == State.PENDING.value)
                    .values(state=State.CLAIMED.value, claimed_at=utcnow(), claimed_by=self.worker)
                    .returning(OutboxMessage)
                )
                .scalars()
                .all()
            )
            batch = sorted((_item(row) for row in rows), key=lambda i: (i.due_at, i.id))
            return batch, len(ids) >= CLAIM_BATCH

    @contextmanager
    def _keeping_claims(self) -> Iterator[None]:
        """While sending, every third of the lease: renew this worker's claims, and put back
        claims that lapsed (their worker stopped without releasing them)."""
        stop = threading.Event()

        def keep() -> None:
            while not stop.wait(self.lease.total_seconds() / 3):
                try:
                    with self._database() as session:
                        session.execute(
                            update(OutboxMessage)
                            .where(
                                OutboxMessage.state == State.CLAIMED.value,
                                OutboxMessage.claimed_by == self.worker,
                            )
                            .values(claimed_at=utcnow())
                        )
                    self._release_abandoned()
                except Exception:  # the next round tries again; the lease allows two misses
                    logger.exception("Could not renew the outbox claims of %s", self.worker)

        keeper = threading.Thread(target=keep, name="outbox-lease", daemon=True)
        keeper.start()
        try:
            yield
        finally:
            stop.set()
            keeper.join()

    def _release_abandoned(self) -> None:
        """Put back what a stopped worker claimed: at once when it ran on this host and its
        process is gone, otherwise once its lease lapsed."""
        claimed = OutboxMessage.state == State.CLAIMED.value
        put_back = {"state": State.PENDING.value, "claimed_by": None}
        with self._database() as session:
            workers = session.execute(
                select(OutboxMessage.claimed_by).where(claimed).distinct()
            ).scalars()
            gone = [w for w in workers if _died_here(w, me=self.worker)]
            of_gone = 0
            if gone:
                of_gone = session.execute(
                    update(OutboxMessage)
                    .where(claimed, OutboxMessage.claimed_by.in_(gone))
                    .values(**put_back)
                ).rowcount
            lapsed = session.execute(
                update(OutboxMessage)
                .where(claimed, OutboxMessage.claimed_at < utcnow() - self.lease)
                .values(**put_back)
            ).rowcount
        if of_gone:
            logger.warning(
                "Put back %d outbox message(s) claimed by %s, no longer running on this host",
                of_gone,
                ", ".join(gone),
            )
        if lapsed:
            logger.warning(
                "Put back %d outbox message(s) whose claim lapsed (not renewed for %s)",
                lapsed,
                self.lease,
            )

    # handling one message

    def _prepare(self, item: Item, now: datetime) -> Send | Skip | Later:
        if now - item.due_at > STILL_USEFUL:
            return Skip(State.SUPERSEDED, "more than 24 hours late; the next slot will do")
        if item.payload is not None:
            return Send(item.channel, item.payload, item.kind)
        return self.renderers[item.kind](self.engine, item, now)

    def _preview(self, item: Item, now: datetime) -> Report:
        prepared = self._prepare(item, now)
        if isinstance(prepared, Skip):
            return Report(item, f"would skip ({prepared.state.value})", prepared.reason)
        if isinstance(prepared, Later):
            return Report(
                item, "would wait", f"{prepared.reason}, until {prepared.until:%Y-%m-%dT%H:%MZ}"
            )
        return Report(item, "would send", prepared.summary)

    def _handle(self, item: Item, now: datetime) -> Report:
        try:
            with self._database_turn:
                prepared = self._prepare(item, now)
        except Exception as error:  # a bad row must not stop the sweep (logged with traceback)
            logger.exception("Could not prepare outbox message %s", item.slot_key)
            return self._retry_later(item, now, f"{type(error).__name__}: {error}")
        if isinstance(prepared, Skip):
            self._finish(item, state=prepared.state, last_error=prepared.reason)
            return Report(item, prepared.state.value, prepared.reason)
        if isinstance(prepared, Later):
            self._finish(
                item, state=State.PENDING, last_error=prepared.reason, send_after=prepared.until
            )
            return Report(
                item, "postponed", f"{prepared.reason}, until {prepared.until:%Y-%m-%dT%H:%MZ}"
            )
        try:
            with self._turn(prepared.channel):
                delivered = self._deliver(item, prepared)
        except Unreachable as error:
            self._finish(
                item, state=State.FAILED, last_error=str(error), attempts=item.attempts + 1
            )
            logger.warning("Giving up on %s: %s", item.slot_key, error)
            return Report(item, "failed", str(error))
        except SlackApiError as error:
            return self._failed_send(item, now, error)
        except Exception as error:  # noqa: BLE001  (connection errors of every kind)
            return self._retry_later(item, now, f"{type(error).__name__}: {error}")
        channel = delivered.channel
        self._finish(
            item,
            state=State.SENT,
            sent_at=utcnow(),
            channel=channel if channel != item.channel else None,
            sent_by_team=delivered.team_id,
            fallback=delivered.fallback,
        )
        if delivered.fallback is not None:
            logger.info("Sent %s to %s privately (%s)", item.slot_key, channel, delivered.fallback)
            return Report(item, "sent", f"{prepared.summary} ({delivered.fallback})")
        logger.info("Sent %s to %s", item.slot_key, channel)
        if prepared.on_sent is not None:
            try:
                with self._database_turn:
                    prepared.on_sent(channel)
            except Exception:  # it was sent: a bookkeeping failure must not resend it
                logger.exception("Could not record where %s was sent", item.slot_key)
        return Report(item, "sent", prepared.summary)

    def _deliver(self, item: Item, prepared: Send) -> Delivered:
        """Send through the installation that reaches the conversation; a DM that none can
        open goes to the person privately in a partnership channel instead."""
        route = self._route(prepared.channel)
        if route is None:
            return self._privately(item, prepared, NO_ROUTE)
        try:
            channel = self._conversation(route.client, prepared.channel)
            if prepared.upload is not None:
                route.client.files_upload_v2(
                    channel=channel,
                    file=prepared.upload.content,
                    filename=prepared.upload.filename,
                    title=prepared.upload.title,
                    alt_txt=prepared.upload.alt_text,
                    initial_comment=prepared.message.get("text"),
                )
            else:
                self._post(
                    route.client, channel, prepared.message, replaces_ts=prepared.replaces_ts
                )
        except SlackApiError as error:
            code = error.response.get("error")
            if code not in DM_IMPOSSIBLE or not self._may_tell_privately(prepared):
                raise
            return self._privately(item, prepared, code)
        return Delivered(channel, route.team_id)

    def _may_tell_privately(self, prepared: Send) -> bool:
        """Whether a message could go as ephemeral ones instead: a plain post to one person or
        a group DM, when Saydo knows which channels they share."""
        return (
            self.shared_channels is not None
            and (prepared.channel[:1] in ("U", "W") or prepared.channel.startswith(GROUP_DM_PREFIX))
            and prepared.upload is None
            and prepared.replaces_ts is None
        )

    def _privately(self, item: Item, prepared: Send, why: str) -> Delivered:
        """`chat.postEphemeral` to the person (to each person of a group DM) in the first
        partnership channel of theirs that an installation reaches (the commitment's first):
        seen by them alone, never posted. A group DM's people who share no such channel are
        named in the record; if none does, it fails saying why. (A send that fails half way is
        tried again whole, so someone may see an ephemeral twice: it is never public.)"""
        shared_channels = self.shared_channels
        if shared_channels is None or not self._may_tell_privately(prepared):
            raise Unreachable(why)
        message = {k: v for k, v in prepared.message.items() if k in EPHEMERAL_FIELDS}
        people = prepared.channel.removeprefix(GROUP_DM_PREFIX).split(",")
        told: dict[str, str] = {}  # person -> the channel they were told in
        team = None
        for person in people:
            with self._database_turn:
                channels = shared_channels(person, item.commitment_id)
            for channel in channels:
                route = self._route(channel)
                if route is not None:
                    route.client.chat_postEphemeral(channel=channel, user=person, **message)
                    told[person], team = channel, team or route.team_id
                    break
        if not told:
            raise Unreachable(f"{why}; no partnership channel of theirs to tell them privately")
        if len(people) == 1:
            return Delivered(
                prepared.channel, team, fallback=f"ephemeral in {told[people[0]]}: {why}"
            )
        where = ", ".join(f"{person} in {channel}" for person, channel in told.items())
        untold = ", ".join(p for p in people if p not in told)
        missed = f"; not {untold}: no partnership channel of theirs" if untold else ""
        return Delivered(prepared.channel, team, fallback=f"ephemeral to {where}: {why}{missed}")

    def _route(self, channel: str) -> Route | None:
        if self.router is None:
            return Route(None, self.client)
        with self._database_turn:
            return self.router(channel)

    def _post(
        self, client: WebClient, channel: str, message: dict, *, replaces_ts: str | None
    ) -> None:
        """Post (or update the message at `replaces_ts`), trying again (after the client's
        pause) when a 429 outlasted the client's own retries: put back, the message would wait
        for the next sweep, not `Retry-After`."""
        for tries_left in reversed(range(RATE_LIMITED_POSTS)):
            try:
                if replaces_ts is None:
                    client.chat_postMessage(channel=channel, **message)
                else:
                    client.chat_update(channel=channel, ts=replaces_ts, **message)
                return
            except SlackApiError as error:
                if error.response.status_code != 429 or not tries_left:
                    raise

    def _conversation(self, client: WebClient, channel: str) -> str:
        """The conversation to post in: `users:U1,U2` opens (or finds) that group DM."""
        if not channel.startswith(GROUP_DM_PREFIX):
            return channel
        users = channel.removeprefix(GROUP_DM_PREFIX)
        return client.conversations_open(users=users)["channel"]["id"]

    def _failed_send(self, item: Item, now: datetime, error: SlackApiError) -> Report:
        code = error.response.get("error") or f"HTTP {error.response.status_code}"
        if code in PERMANENT_ERRORS:
            self._finish(item, state=State.FAILED, last_error=code, attempts=item.attempts + 1)
            logger.warning("Giving up on %s: %s", item.slot_key, code)
            return Report(item, "failed", code)
        if code in REVOKED_TOKEN_ERRORS and self.router is not None:  # uninstalled meanwhile
            return self._retry_later(item, now, code, after=timedelta(seconds=1))
        if error.response.status_code == 429:
            retry_after = int(error.response.headers.get("Retry-After", "30") or 30)
            return self._retry_later(
                item, now, "ratelimited", after=timedelta(seconds=max(1, retry_after))
            )
        return self._retry_later(item, now, code)

    def _retry_later(
        self, item: Item, now: datetime, reason: str, after: timedelta | None = None
    ) -> Report:
        attempts = item.attempts + 1
        if attempts >= MAX_ATTEMPTS:
            self._finish(item, state=State.FAILED, last_error=reason, attempts=attempts)
            return Report(item, "failed", f"{reason} (after {attempts} attempts)")
        delay = after or min(BACKOFF_BASE * 2 ** (attempts - 1), BACKOFF_MAX)
        self._finish(
            item, state=State.PENDING, last_error=reason, attempts=attempts, send_after=now + delay
        )
        return Report(item, "retry", f"{reason}; again after {delay}")

    def _finish(
        self,
        item: Item,
        *,
        state: State,
        last_error: str | None = None,
        attempts: int | None = None,
        sent_at: datetime | None = None,
        send_after: datetime | None = None,
        channel: str | None = None,
        sent_by_team: str | None = None,
        fallback: str | None = None,
    ) -> None:
        values: dict = {"state": state.value, "last_error": last_error}
        if sent_by_team is not None:  # the workspace whose installation sent it
            values["sent_by_team"] = sent_by_team
        if fallback is not None:  # a DM told privately in a partnership channel instead
            values["fallback"] = fallback
        if channel is not None:  # the group DM a `users:` slot was posted in
            values["channel"] = channel
        if attempts is not None:
            values["attempts"] = attempts
        if sent_at is not None:
            values["sent_at"] = sent_at
        if send_after is not None:
            values["send_after"] = send_after
        if state == State.PENDING:
            values["claimed_by"] = None
        with self._database() as session:
            session.execute(
                update(OutboxMessage)
                .where(
                    OutboxMessage.id == item.id,
                    OutboxMessage.state == State.CLAIMED.value,
                    OutboxMessage.claimed_by == self.worker,
                )
                .values(**values)
            )

    @contextmanager
    def _turn(self, channel: str) -> Iterator[None]:
        """This thread's turn to post to `channel`: no other post to it is in flight, and the
        previous one was answered at least `pace_seconds` ago (so Slack sees them at least
        that far apart, whatever the latency)."""
        with self._turns:
            self._turns.wait_for(lambda: channel not in self._posting)
            self._posting.add(channel)
            last = self._last_post.get(channel)
        try:
            if last is not None:
                wait = self.pace_seconds - (time.monotonic() - last)
                if wait > 0:
                    self.sleep(wait)
            yield
        finally:
            with self._turns:
                now = time.monotonic()
                if len(self._last_post) > 10_000:  # forget channels not posted to lately
                    self._last_post = {
                        c: t for c, t in self._last_post.items() if now - t < self.pace_seconds
                    }
                self._last_post[channel] = now
                self._posting.discard(channel)
                self._turns.notify_all()


def _latest_per_commitment(batch: list[Item]) -> tuple[list[Item], list[Item]]:
    """Of several due messages of one kind about one commitment (after downtime), only the
    latest is worth sending: two reminders at once say less than one."""
    latest: dict[tuple[int, str], Item] = {}
    for item in batch:
        if item.commitment_id is not None:
            kept = latest.get((item.commitment_id, item.kind))
            if kept is None or (item.due_at, item.id) > (kept.due_at, kept.id):
                latest[item.commitment_id, item.kind] = item
    current = [i for i in batch if i.commitment_id is None or latest[i.commitment_id, i.kind] is i]
    return current, [i for i in batch if i not in current]


_HOST = socket.gethostname()[:40]  # a worker name fits the 64 characters of `claimed_by`
_STARTED = secrets.token_hex(4)  # tells this process from an earlier one with the same pid


def worker_name() -> str:
    """This process, as `host:pid:start`, recorded on the messages it claims."""
    return f"{_HOST}:{os.getpid()}:{_STARTED}"


def _died_here(worker: str | None, *, me: str) -> bool:
    """Whether `worker` was a process on this host that is no longer running: its pid is gone,
    or it is this process's pid from an earlier start (a restarted container is PID 1 again)."""
    parts = (worker or "").rsplit(":", 2)
    if len(parts) != 3 or worker == me:
        return False
    host, pid, started = parts
    if host != _HOST or not pid.isdigit():
        return False
    if int(pid) == os.getpid():
        return started != _STARTED
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except (PermissionError, OverflowError):  # another user's process, or no pid at all
        return False
    return False


def _item(row: OutboxMessage) -> Item:
    return Item(
        id=row.id,
        slot_key=row.slot_key,
        kind=row.kind,
        channel=row.channel,
        due_at=row.due_at,
        commitment_id=row.commitment_id,
        payload=json.loads(row.payload) if row.payload else None,
        attempts=row.attempts,
    )
