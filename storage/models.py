"""SQLModel tables. Alembic migrations in `storage/migrations` create and change them."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from sqlalchemy import Column, Date, DateTime, Index, String, Text, UniqueConstraint
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel

from storage import clock


def utcnow() -> datetime:
    return clock.now()


class UTCDateTime(TypeDecorator):
    """Aware UTC datetimes in and out, on PostgreSQL (timestamptz) and SQLite (text) alike."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; pass an aware UTC datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utc_column(*, nullable: bool = False, index: bool = False) -> Column:
    """A timezone-aware timestamp column; values are always UTC."""
    return Column(UTCDateTime(), nullable=nullable, index=index)


class DecimalText(TypeDecorator):
    """Exact decimals (measurements, money) stored as text: no float on either database."""

    impl = String(40)
    cache_ok = True

    def process_bind_param(self, value: Decimal | None, dialect) -> str | None:
        if value is None:
            return None
        if not isinstance(value, Decimal):
            raise TypeError("decimal columns take Decimal values, never floats")
        return str(value)

    def process_result_value(self, value: str | None, dialect) -> Decimal | None:
        return None if value is None else Decimal(value)


def decimal_column(*, nullable: bool = False) -> Column:
    return Column(DecimalText(), nullable=nullable)


class ProcessedEvent(SQLModel, table=True):
    """A Slack event id seen once; the primary key makes a redelivery a no-op."""

    __tablename__ = "processed_event"

    event_id: str = Field(primary_key=True, max_length=64)
    received_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())


class Partnership(SQLModel, table=True):
    """A Slack channel where organisations work together; created on first use."""

    __tablename__ = "partnership"
    __table_args__ = (UniqueConstraint("team_id", "channel_id"),)

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(max_length=32)
    channel_id: str = Field(max_length=32)
    name: str = Field(max_length=200)
    tz: str = Field(default="Europe/London", max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())


class Person(SQLModel, table=True):
    """A Slack user, keyed by their own workspace (Slack Connect partners keep theirs)."""

    __tablename__ = "person"
    __table_args__ = (UniqueConstraint("team_id", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(max_length=32)
    user_id: str = Field(max_length=32, index=True)
    name: str = Field(max_length=200)
    tz: str = Field(default="Europe/London", max_length=64)
    locale: str | None = Field(default=None, max_length=16)
    profile_fetched_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())
    away_until: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))


class RefCounter(SQLModel, table=True):
    """The last commitment reference handed out in a workspace."""

    __tablename__ = "ref_counter"

    team_id: str = Field(primary_key=True, max_length=32)
    last_ref: int = 0


class Commitment(SQLModel, table=True):
    """Who said they would do what, by when. Status columns are a projection of its events,
    rewritten in the same transaction as every event (see `bot.commitments.lifecycle`)."""

    __tablename__ = "commitment"
    __table_args__ = (
        UniqueConstraint("team_id", "ref"),
        Index("ix_commitment_partnership_judged_due", "partnership_id", "judged_due_at"),
        Index("ix_commitment_owner_status", "owner_id", "status"),
        Index("ix_commitment_recipient_status", "recipient_id", "status"),
        Index("ix_commitment_partnership_status_due", "partnership_id", "status", "due_at"),
        Index("ix_commitment_partnership_source_ts", "partnership_id", "source_ts"),
    )

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(max_length=32)
    ref: int
    partnership_id: int = Field(foreign_key="partnership.id")
    owner_id: int = Field(foreign_key="person.id")
    recipient_id: int | None = Field(default=None, foreign_key="person.id")
    created_by_id: int = Field(foreign_key="person.id")
    title: str = Field(max_length=300)
    notes: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    source_text: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    source_permalink: str | None = Field(default=None, max_length=500)
    # The Slack message (its `ts`) it was logged from: an edit of that message is not new.
    source_ts: str | None = Field(default=None, max_length=32)
    has_time: bool = False
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())
    status: str = Field(max_length=16)
    original_due_at: datetime = Field(sa_column=utc_column())
    due_at: datetime = Field(sa_column=utc_column())
    judged_due_at: datetime = Field(sa_column=utc_column())
    delivered_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    withdrawn_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    date_changes: int = 0
    confirmed: bool = False
    renegotiated: bool = False
    evidence: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    # Saydo's "Logged #N" message in the partnership channel, kept current as the state changes.
    channel_message_ts: str | None = Field(default=None, max_length=32)


class CommitmentEvent(SQLModel, table=True):
    """One append-only change to a commitment, with who and when."""

    __tablename__ = "commitment_event"

    id: int | None = Field(default=None, primary_key=True)
    commitment_id: int = Field(foreign_key="commitment.id", index=True)
    kind: str = Field(max_length=16)
    at: datetime = Field(sa_column=utc_column())
    actor_id: int = Field(foreign_key="person.id")
    due_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    proposed: bool = False
    note: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class OutboxMessage(SQLModel, table=True):
    """One scheduled message: planned once (unique slot key), sent once.

    `due_at` is the slot's instant; `send_after` starts equal and moves later for retries.
    States: pending → claimed → sent | failed | cancelled | superseded.
    """

    __tablename__ = "outbox_message"
    __table_args__ = (
        Index("ix_outbox_state_send_after", "state", "send_after"),
        Index("ix_outbox_commitment_state", "commitment_id", "state"),
    )

    id: int | None = Field(default=None, primary_key=True)
    slot_key: str = Field(max_length=200, unique=True)
    kind: str = Field(max_length=32)
    commitment_id: int | None = Field(default=None, foreign_key="commitment.id")
    channel: str = Field(max_length=64)
    payload: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    due_at: datetime = Field(sa_column=utc_column())
    send_after: datetime = Field(sa_column=utc_column())
    state: str = Field(default="pending", max_length=16)
    attempts: int = 0
    last_error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    claimed_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    claimed_by: str | None = Field(default=None, max_length=64)
    # OAuth mode: the workspace whose installation sent it.
    sent_by_team: str | None = Field(default=None, max_length=32)
    # A DM that could not be sent, told privately instead: "ephemeral in C…: <why no DM>".
    fallback: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    sent_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())


class Member(SQLModel, table=True):
    """A person in a partnership channel, with their organisation and role."""

    __tablename__ = "member"
    __table_args__ = (UniqueConstraint("partnership_id", "person_id"),)

    id: int | None = Field(default=None, primary_key=True)
    partnership_id: int = Field(foreign_key="partnership.id", index=True)
    person_id: int = Field(foreign_key="person.id")
    organisation: str = Field(max_length=200)
    is_admin: bool = False
    active: bool = True  # False once they leave the channel
    coffee_opt_out: bool = False
    coffee_paused_until: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    joined_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())


class CharterVersion(SQLModel, table=True):
    """One adopted version of a partnership's Relationship Charter; every version is kept."""

    __tablename__ = "charter_version"
    __table_args__ = (UniqueConstraint("partnership_id", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    partnership_id: int = Field(foreign_key="partnership.id", index=True)
    version: int
    purpose: str = Field(default="", sa_column=Column(Text, nullable=False))
    behaviours: str = Field(default="", sa_column=Column(Text, nullable=False))
    escalation: str = Field(default="", sa_column=Column(Text, nullable=False))
    settings: str = Field(sa_column=Column(Text, nullable=False))  # JSON
    change_summary: str = Field(default="", sa_column=Column(Text, nullable=False))
    agreed_by: str = Field(default="", sa_column=Column(Text, nullable=False))
    adopted_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())


class CharterProposal(SQLModel, table=True):
    """A proposed change to the charter, adopted once every organisation has agreed."""

    __tablename__ = "charter_proposal"

    id: int | None = Field(default=None, primary_key=True)
    partnership_id: int = Field(foreign_key="partnership.id", index=True)
    base_version: int
    proposed_by_id: int = Field(foreign_key="person.id")
    purpose: str = Field(default="", sa_column=Column(Text, nullable=False))
    behaviours: str = Field(default="", sa_column=Column(Text, nullable=False))
    escalation: str = Field(default="", sa_column=Column(Text, nullable=False))
    settings: str = Field(sa_column=Column(Text, nullable=False))  # JSON
    state: str = Field(default="open", max_length=16)  # open, adopted, withdrawn, superseded
    channel_id: str | None = Field(default=None, max_length=32)
    message_ts: str | None = Field(default=None, max_length=32)
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())
    decided_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))


class CharterAgreement(SQLModel, table=True):
    __tablename__ = "charter_agreement"
    __table_args__ = (UniqueConstraint("proposal_id", "person_id"),)

    id: int | None = Field(default=None, primary_key=True)
    proposal_id: int = Field(foreign_key="charter_proposal.id", index=True)
    person_id: int = Field(foreign_key="person.id")
    organisation: str = Field(max_length=200)
    agreed_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())


class CoffeeRound(SQLModel, table=True):
    """One round of cup-of-coffee pairings (regular, or a private course correction)."""

    __tablename__ = "coffee_round"
    __table_args__ = (UniqueConstraint("partnership_id", "round_key"),)

    id: int | None = Field(default=None, primary_key=True)
    partnership_id: int = Field(foreign_key="partnership.id", index=True)
    round_key: str = Field(max_length=64)  # e.g. "2026-12-01" or "correction:<person>:<date>"
    kind: str = Field(default="regular", max_length=24)
    scheduled_for: datetime = Field(sa_column=utc_column())
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())


class CoffeePairing(SQLModel, table=True):
    """Two or three people introduced in a round, and what became of it."""

    __tablename__ = "coffee_pairing"

    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="coffee_round.id", index=True)
    member_ids: str = Field(max_length=200)  # person ids, sorted, comma-separated
    conversation_id: str | None = Field(default=None, max_length=32)
    outcome: str | None = Field(default=None, max_length=16)  # met, not_yet, skipped
    answered_by_id: int | None = Field(default=None, foreign_key="person.id")
    answered_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))


class Lesson(SQLModel, table=True):
    """A lesson learned, logged by a partner for the quarterly review."""

    __tablename__ = "lesson"

    id: int | None = Field(default=None, primary_key=True)
    partnership_id: int = Field(foreign_key="partnership.id", index=True)
    person_id: int = Field(foreign_key="person.id")
    text: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())


class ReviewRecord(SQLModel, table=True):
    """What a quarterly review meeting decided, as recorded in Slack."""

    __tablename__ = "review_record"

    id: int | None = Field(default=None, primary_key=True)
    partnership_id: int = Field(foreign_key="partnership.id", index=True)
    review_date: datetime = Field(sa_column=utc_column())
    recorded_by_id: int = Field(foreign_key="person.id")
    attendees: str = Field(default="", sa_column=Column(Text, nullable=False))
    outcomes: str = Field(default="", sa_column=Column(Text, nullable=False))
    decisions: str = Field(default="", sa_column=Column(Text, nullable=False))
    charter_changes: str = Field(default="", sa_column=Column(Text, nullable=False))
    proposal_id: int | None = Field(default=None, foreign_key="charter_proposal.id")
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())


class Objective(SQLModel, table=True):
    """A shared, measurable objective (SMART): a measure, baseline and target with dates."""

    __tablename__ = "objective"
    __table_args__ = (UniqueConstraint("partnership_id", "number"),)

    id: int | None = Field(default=None, primary_key=True)
    partnership_id: int = Field(foreign_key="partnership.id", index=True)
    number: int  # shown as O1, O2... within the partnership
    title: str = Field(max_length=200)
    good_looks_like: str = Field(default="", sa_column=Column(Text, nullable=False))
    measure: str = Field(max_length=100)  # the unit, e.g. "days from referral to discharge"
    higher_is_better: bool
    baseline_value: Decimal = Field(sa_column=decimal_column())
    baseline_date: date = Field(sa_column=Column(Date, nullable=False))
    target_value: Decimal = Field(sa_column=decimal_column())
    target_date: date = Field(sa_column=Column(Date, nullable=False))
    owner_organisation: str = Field(max_length=200)
    cadence: str = Field(max_length=16)  # weekly, monthly, quarterly
    created_by_id: int = Field(foreign_key="person.id")
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())


class ObjectiveMeasurement(SQLModel, table=True):
    """One value of an objective's measure, append-only, with who, when and the evidence."""

    __tablename__ = "objective_measurement"

    id: int | None = Field(default=None, primary_key=True)
    objective_id: int = Field(foreign_key="objective.id", index=True)
    value: Decimal = Field(sa_column=decimal_column())
    measured_on: date = Field(sa_column=Column(Date, nullable=False))
    recorded_by_id: int = Field(foreign_key="person.id")
    recorded_at: datetime = Field(sa_column=utc_column())
    evidence: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class CostArea(SQLModel, table=True):
    """A service area whose costs the partners compare (e.g. "Home care brokerage")."""

    __tablename__ = "cost_area"
    __table_args__ = (UniqueConstraint("partnership_id", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    partnership_id: int = Field(foreign_key="partnership.id", index=True)
    name: str = Field(max_length=100)
    market_price: Decimal | None = Field(default=None, sa_column=decimal_column(nullable=True))
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())


class CostBaseline(SQLModel, table=True):
    """What one organisation paid a year, end to end, before the shared arrangement."""

    __tablename__ = "cost_baseline"
    __table_args__ = (UniqueConstraint("area_id", "organisation"),)

    id: int | None = Field(default=None, primary_key=True)
    area_id: int = Field(foreign_key="cost_area.id", index=True)
    organisation: str = Field(max_length=200)
    annual_cost: Decimal = Field(sa_column=decimal_column())
    note: str = Field(default="", sa_column=Column(Text, nullable=False))
    set_by_id: int = Field(foreign_key="person.id")
    set_at: datetime = Field(sa_column=utc_column())


class CostProject(SQLModel, table=True):
    """A project in a service area, with its supplier, agreed budget and period."""

    __tablename__ = "cost_project"
    __table_args__ = (UniqueConstraint("partnership_id", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    partnership_id: int = Field(foreign_key="partnership.id", index=True)
    area_id: int = Field(foreign_key="cost_area.id")
    name: str = Field(max_length=100)
    supplier_organisation: str = Field(max_length=200)
    budget: Decimal = Field(sa_column=decimal_column())
    period_start: date = Field(sa_column=Column(Date, nullable=False))
    period_end: date = Field(sa_column=Column(Date, nullable=False))
    created_by_id: int = Field(foreign_key="person.id")
    created_at: datetime = Field(sa_column=utc_column())


class CostEntry(SQLModel, table=True):
    """Actual spend on a project, append-only, with who, when and the evidence."""

    __tablename__ = "cost_entry"

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="cost_project.id", index=True)
    amount: Decimal = Field(sa_column=decimal_column())
    period: str | None = Field(default=None, max_length=100)  # "for <period>", as typed
    spent_on: date = Field(sa_column=Column(Date, nullable=False))
    recorded_by_id: int = Field(foreign_key="person.id")
    recorded_at: datetime = Field(sa_column=utc_column())
    evidence: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class WorkspaceUninstall(SQLModel, table=True):
    """A workspace that uninstalled Saydo (OAuth mode). Once the retention period has passed
    its people's personal data is erased (`erased_at`), unless it installs Saydo again first;
    uninstalling again starts the period afresh."""

    __tablename__ = "workspace_uninstall"

    team_id: str = Field(primary_key=True, max_length=32)
    uninstalled_at: datetime = Field(sa_column=utc_column())
    erased_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))


# slack_sdk's installation and OAuth state stores (`bot.installations`) keep their own tables;
# declared here as the library builds them, so the migrations are checked against them too.
INSTALLATIONS_TABLE = SQLAlchemyInstallationStore.default_installations_table_name
BOTS_TABLE = SQLAlchemyInstallationStore.default_bots_table_name
OAUTH_STATES_TABLE = SQLAlchemyOAuthStateStore.default_table_name
SQLAlchemyInstallationStore.build_installations_table(SQLModel.metadata, INSTALLATIONS_TABLE)
SQLAlchemyInstallationStore.build_bots_table(SQLModel.metadata, BOTS_TABLE)
SQLAlchemyOAuthStateStore.build_oauth_states_table(SQLModel.metadata, OAUTH_STATES_TABLE)
