"""feed_day: per feed and UTC day, successful and failed polls and new items (coverage).

Revision ID: 0003_evidence
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op

revision = "0003_evidence"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "feed_day",
        sa.Column("feed_id", sa.String(), primary_key=True),
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("polls_ok", sa.Integer(), nullable=False),
        sa.Column("polls_failed", sa.Integer(), nullable=False),
        sa.Column("items_new", sa.Integer(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("feed_day")
