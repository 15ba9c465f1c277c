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
- a slot more than `STILL_USEFUL` past its due instant (Saydo was down) is superseded, not
  sent; a claim whose process died mid-send (older than `CLAIM_TIMEOUT`, or made on this host
  by a process that is gone) is pending again, so only messages in flight at a crash can be
  sent twice.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import Engine, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from storage.db import transaction
from storage.models import OutboxMessage, utcnow

logger = logging.getLogger(__name__)

STILL_USEFUL = timedelta(hours=24)
CLAIM_TIMEOUT = timedelta(minutes=10)
CLAIM_BATCH = 20
MAX_ATTEMPTS = 8
BACKOFF_BASE = timedelta(seconds=30)
BACKOFF_MAX = timedelta(hours=1)
CHANNEL_PACE_SECONDS = 1.0
PERMANENT_ERRORS = frozenset(
    {"channel_not_found", "not_in_channel", "user_not_found", "account_inactive", "is_archived"}
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
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
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
    pace_seconds: float = CHANNEL_PACE_SECONDS
    sleep: Callable[[float], None] = time.sleep
    _last_post: dict[str, float] = field(default_factory=dict)

    def sweep(self, *, now: datetime, dry_run: bool = False) -> list[Report]:
        if dry_run:
            return [self._preview(item, now) for item in self._due(now)]
        self._requeue_stale(now)
        reports: list[Report] = []
        while batch := self._claim(now):
            current, replaced = _latest_per_commitment(batch)
            for item in replaced:
                self._finish(
                    item, state=State.SUPERSEDED, last_error="a later reminder replaces it"
                )
                reports.append(Report(item, "superseded", "a later reminder replaces it"))
            reports += [self._handle(item, now) for item in current]
            if len(batch) < CLAIM_BATCH:
                break
        return reports

    # claiming

    def _due(self, now: datetime) -> list[Item]:
        with transaction(self.engine) as session:
            rows = session.execute(
                select(OutboxMessage)
                .where(OutboxMessage.state == State.PENDING.value, OutboxMessage.send_after <= now)
                .order_by(OutboxMessage.send_after, OutboxMessage.id)
            ).scalars()
            return [_item(row) for row in rows]

    def _claim(self, now: datetime) -> list[Item]:
        """Claim up to CLAIM_BATCH due messages. The ids are selected first (skipping rows
        another sweeper has locked) and then updated: in one statement, PostgreSQL may run a
        LIMIT ... SKIP LOCKED subquery more than once and claim more than the batch."""
        due = (
            select(OutboxMessage.id)
            .where(OutboxMessage.state == State.PENDING.value, OutboxMessage.send_after <= now)
            .order_by(OutboxMessage.send_after, OutboxMessage.id)
            .limit(CLAIM_BATCH)
            .with_for_update(skip_locked=True)
        )
        with transaction(self.engine) as session:
            ids = session.execute(due).scalars().all()
            if not ids:
                return []
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
            return sorted((_item(row) for row in rows), key=lambda i: (i.due_at, i.id))

    def _requeue_stale(self, now: datetime) -> None:
        with transaction(self.engine) as session:
            session.execute(
                update(OutboxMessage)
                .where(
                    OutboxMessage.state == State.CLAIMED.value,
                    OutboxMessage.claimed_at < utcnow() - CLAIM_TIMEOUT,
                )
                .values(state=State.PENDING.value, claimed_by=None)
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
        self._pace(prepared.channel)
        try:
            channel = self._conversation(prepared.channel)
            if prepared.upload is not None:
                self.client.files_upload_v2(
                    channel=channel,
                    file=prepared.upload.content,
                    filename=prepared.upload.filename,
                    title=prepared.upload.title,
                    alt_txt=prepared.upload.alt_text,
                    initial_comment=prepared.message.get("text"),
                )
            else:
                self.client.chat_postMessage(channel=channel, **prepared.message)
        except SlackApiError as error:
            return self._failed_send(item, now, error)
        except Exception as error:  # noqa: BLE001  (connection errors of every kind)
            return self._retry_later(item, now, f"{type(error).__name__}: {error}")
        self._finish(
            item,
            state=State.SENT,
            sent_at=utcnow(),
            channel=channel if channel != item.channel else None,
        )
        logger.info("Sent %s to %s", item.slot_key, channel)
        if prepared.on_sent is not None:
            try:
                prepared.on_sent(channel)
            except Exception:  # it was sent: a bookkeeping failure must not resend it
                logger.exception("Could not record where %s was sent", item.slot_key)
        return Report(item, "sent", prepared.summary)

    def _conversation(self, channel: str) -> str:
        """The conversation to post in: `users:U1,U2` opens (or finds) that group DM."""
        if not channel.startswith(GROUP_DM_PREFIX):
            return channel
        users = channel.removeprefix(GROUP_DM_PREFIX)
        return self.client.conversations_open(users=users)["channel"]["id"]

    def _failed_send(self, item: Item, now: datetime, error: SlackApiError) -> Report:
        code = error.response.get("error") or f"HTTP {error.response.status_code}"
        if code in PERMANENT_ERRORS:
            self._finish(item, state=State.FAILED, last_error=code, attempts=item.attempts + 1)
            logger.warning("Giving up on %s: %s", item.slot_key, code)
            return Report(item, "failed", code)
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
    ) -> None:
        values: dict = {"state": state.value, "last_error": last_error}
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
        with transaction(self.engine) as session:
            session.execute(
                update(OutboxMessage)
                .where(
                    OutboxMessage.id == item.id,
                    OutboxMessage.state == State.CLAIMED.value,
                    OutboxMessage.claimed_by == self.worker,
                )
                .values(**values)
            )

    def _pace(self, channel: str) -> None:
        """About one post per second to any one channel."""
        last = self._last_post.get(channel)
        if last is not None:
            wait = self.pace_seconds - (time.monotonic() - last)
            if wait > 0:
                self.sleep(wait)
        now = time.monotonic()
        if len(self._last_post) > 10_000:  # forget channels not posted to within the pace
            self._last_post = {
                c: t for c, t in self._last_post.items() if now - t < self.pace_seconds
            }
        self._last_post[channel] = now


def _latest_per_commitment(batch: list[Item]) -> tuple[list[Item], list[Item]]:
    """Of several due messages about one commitment (after downtime), only the latest is
    worth sending: two reminders at once say less than one."""
    latest: dict[int, Item] = {}
    for item in batch:
        if item.commitment_id is not None:
            kept = latest.get(item.commitment_id)
            if kept is None or (item.due_at, item.id) > (kept.due_at, kept.id):
                latest[item.commitment_id] = item
    current = [i for i in batch if i.commitment_id is None or latest[i.commitment_id] is i]
    return current, [i for i in batch if i not in current]


def worker_name() -> str:
    """This process, as `host:pid`, recorded on the messages it claims."""
    return f"{socket.gethostname()}:{os.getpid()}"


def _died_here(worker: str | None) -> bool:
    """Whether `worker` was a process on this host that is no longer running."""
    host, _, pid = (worker or "").rpartition(":")
    if host != socket.gethostname() or not pid.isdigit() or int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
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
