"""Members and organisations, the versioned charter and its proposals, coffee, lessons, reviews.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "charter_proposal",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("partnership_id", sa.Integer(), nullable=False),
        sa.Column("base_version", sa.Integer(), nullable=False),
        sa.Column("proposed_by_id", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("behaviours", sa.Text(), nullable=False),
        sa.Column("escalation", sa.Text(), nullable=False),
        sa.Column("settings", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("channel_id", sa.String(length=32), nullable=True),
        sa.Column("message_ts", sa.String(length=32), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["partnership_id"],
            ["partnership.id"],
        ),
        sa.ForeignKeyConstraint(
            ["proposed_by_id"],
            ["person.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("charter_proposal", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_charter_proposal_partnership_id"), ["partnership_id"], unique=False
        )

    op.create_table(
        "charter_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("partnership_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("behaviours", sa.Text(), nullable=False),
        sa.Column("escalation", sa.Text(), nullable=False),
        sa.Column("settings", sa.Text(), nullable=False),
        sa.Column("change_summary", sa.Text(), nullable=False),
        sa.Column("agreed_by", sa.Text(), nullable=False),
        sa.Column("adopted_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["partnership_id"],
            ["partnership.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("partnership_id", "version"),
    )
    with op.batch_alter_table("charter_version", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_charter_version_partnership_id"), ["partnership_id"], unique=False
        )

    op.create_table(
        "coffee_round",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("partnership_id", sa.Integer(), nullable=False),
        sa.Column("round_key", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("scheduled_for", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["partnership_id"],
            ["partnership.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("partnership_id", "round_key"),
    )
    with op.batch_alter_table("coffee_round", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_coffee_round_partnership_id"), ["partnership_id"], unique=False
        )

    op.create_table(
        "lesson",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("partnership_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["partnership_id"],
            ["partnership.id"],
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["person.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("lesson", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_lesson_partnership_id"), ["partnership_id"], unique=False
        )

    op.create_table(
        "member",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("partnership_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("organisation", sa.String(length=200), nullable=False),
        sa.Column("is_admin", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("coffee_opt_out", sa.Boolean(), nullable=False),
        sa.Column("coffee_paused_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("joined_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["partnership_id"],
            ["partnership.id"],
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["person.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("partnership_id", "person_id"),
    )
    with op.batch_alter_table("member", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_member_partnership_id"), ["partnership_id"], unique=False
        )

    op.create_table(
        "charter_agreement",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("organisation", sa.String(length=200), nullable=False),
        sa.Column("agreed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["person.id"],
        ),
        sa.ForeignKeyConstraint(
            ["proposal_id"],
            ["charter_proposal.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("proposal_id", "person_id"),
    )
    with op.batch_alter_table("charter_agreement", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_charter_agreement_proposal_id"), ["proposal_id"], unique=False
        )

    op.create_table(
        "coffee_pairing",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("member_ids", sa.String(length=200), nullable=False),
        sa.Column("conversation_id", sa.String(length=32), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.Column("answered_by_id", sa.Integer(), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["answered_by_id"],
            ["person.id"],
        ),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["coffee_round.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("coffee_pairing", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_coffee_pairing_round_id"), ["round_id"], unique=False)

    op.create_table(
        "review_record",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("partnership_id", sa.Integer(), nullable=False),
        sa.Column("review_date", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=False),
        sa.Column("attendees", sa.Text(), nullable=False),
        sa.Column("outcomes", sa.Text(), nullable=False),
        sa.Column("decisions", sa.Text(), nullable=False),
        sa.Column("charter_changes", sa.Text(), nullable=False),
        sa.Column("proposal_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["partnership_id"],
            ["partnership.id"],
        ),
        sa.ForeignKeyConstraint(
            ["proposal_id"],
            ["charter_proposal.id"],
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["person.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("review_record", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_review_record_partnership_id"), ["partnership_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("review_record", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_review_record_partnership_id"))

    op.drop_table("review_record")
    with op.batch_alter_table("coffee_pairing", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_coffee_pairing_round_id"))

    op.drop_table("coffee_pairing")
    with op.batch_alter_table("charter_agreement", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_charter_agreement_proposal_id"))

    op.drop_table("charter_agreement")
    with op.batch_alter_table("member", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_member_partnership_id"))

    op.drop_table("member")
    with op.batch_alter_table("lesson", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lesson_partnership_id"))

    op.drop_table("lesson")
    with op.batch_alter_table("coffee_round", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_coffee_round_partnership_id"))

    op.drop_table("coffee_round")
    with op.batch_alter_table("charter_version", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_charter_version_partnership_id"))

    op.drop_table("charter_version")
    with op.batch_alter_table("charter_proposal", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_charter_proposal_partnership_id"))

    op.drop_table("charter_proposal")
