"""The Slack message a commitment was logged from, so an edit of it is never logged again.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("commitment", schema=None) as batch_op:
        batch_op.add_column(sa.Column("source_ts", sa.String(length=32), nullable=True))
        batch_op.create_index(
            "ix_commitment_partnership_source_ts", ["partnership_id", "source_ts"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("commitment", schema=None) as batch_op:
        batch_op.drop_index("ix_commitment_partnership_source_ts")
        batch_op.drop_column("source_ts")
