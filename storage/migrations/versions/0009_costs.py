"""Costs against a baseline: service areas, organisations' baselines, projects, spend.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cost_area",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("partnership_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("market_price", sa.String(length=40), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["partnership_id"], ["partnership.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("partnership_id", "name"),
    )
    with op.batch_alter_table("cost_area", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_cost_area_partnership_id"), ["partnership_id"], unique=False
        )
    op.create_table(
        "cost_baseline",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("area_id", sa.Integer(), nullable=False),
        sa.Column("organisation", sa.String(length=200), nullable=False),
        sa.Column("annual_cost", sa.String(length=40), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("set_by_id", sa.Integer(), nullable=False),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["area_id"], ["cost_area.id"]),
        sa.ForeignKeyConstraint(["set_by_id"], ["person.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("area_id", "organisation"),
    )
    with op.batch_alter_table("cost_baseline", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cost_baseline_area_id"), ["area_id"], unique=False)
    op.create_table(
        "cost_project",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("partnership_id", sa.Integer(), nullable=False),
        sa.Column("area_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("supplier_organisation", sa.String(length=200), nullable=False),
        sa.Column("budget", sa.String(length=40), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["area_id"], ["cost_area.id"]),
        sa.ForeignKeyConstraint(["created_by_id"], ["person.id"]),
        sa.ForeignKeyConstraint(["partnership_id"], ["partnership.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("partnership_id", "name"),
    )
    with op.batch_alter_table("cost_project", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_cost_project_partnership_id"), ["partnership_id"], unique=False
        )
    op.create_table(
        "cost_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("amount", sa.String(length=40), nullable=False),
        sa.Column("period", sa.String(length=100), nullable=True),
        sa.Column("spent_on", sa.Date(), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("evidence", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["project_id"], ["cost_project.id"]),
        sa.ForeignKeyConstraint(["recorded_by_id"], ["person.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("cost_entry", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cost_entry_project_id"), ["project_id"], unique=False)


def downgrade() -> None:
    for table, index in (
        ("cost_entry", "ix_cost_entry_project_id"),
        ("cost_project", "ix_cost_project_partnership_id"),
        ("cost_baseline", "ix_cost_baseline_area_id"),
        ("cost_area", "ix_cost_area_partnership_id"),
    ):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(index)
        op.drop_table(table)
