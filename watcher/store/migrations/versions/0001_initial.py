"""Initial schema: feed_state, item, match, criterion_transition, outbox.

Revision ID: 0001
Revises:
"""
import sqlalchemy as sa
from alembic import op

from watcher.store.schema import UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "feed_state",
        sa.Column("feed_id", sa.String(), primary_key=True),
        sa.Column("url", sa.String(), nullable=False),
        sa.Column("tier", sa.String(), nullable=False),
        sa.Column("etag", sa.String()),
        sa.Column("last_modified", sa.String()),
        sa.Column("content_hash", sa.String()),
        sa.Column("last_status", sa.Integer()),
        sa.Column("last_error", sa.String()),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_attempt_at", UTCDateTime()),
        sa.Column("last_success_at", UTCDateTime()),
        sa.Column("next_due_at", UTCDateTime()),
        sa.Column("items_total", sa.Integer(), nullable=False),
        sa.Column("retired", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
    )
    op.create_table(
        "item",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("feed_id", sa.String(), nullable=False, index=True),
        sa.Column("key", sa.String(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("url", sa.String(), nullable=False),
        sa.Column("host", sa.String(), nullable=False),
        sa.Column("published", UTCDateTime()),
        sa.Column("seen_at", UTCDateTime(), nullable=False, index=True),
        sa.Column("lang", sa.String()),
        sa.Column("source", sa.String()),
        sa.UniqueConstraint("feed_id", "key", name="uq_item_feed_key"),
    )
    op.create_table(
        "match",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("item_id", sa.Integer(), sa.ForeignKey("item.id"), nullable=False, index=True),
        sa.Column("indicator", sa.String(), nullable=False, index=True),
        sa.Column("strength", sa.Float(), nullable=False),
        sa.Column("certainty", sa.String(), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.UniqueConstraint("item_id", "indicator", name="uq_match_item_indicator"),
    )
    op.create_table(
        "criterion_transition",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("state", sa.String(), nullable=False),
        sa.Column("previous", sa.String()),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("detail", sa.String(), nullable=False),
    )
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("period", sa.String(), nullable=False),
        sa.Column("recipient", sa.String(), nullable=False),
        sa.Column("message_id", sa.String(), nullable=False),
        sa.Column("subject", sa.String(), nullable=False),
        sa.Column("raw", sa.LargeBinary(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String()),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("next_attempt_at", UTCDateTime()),
        sa.Column("sent_at", UTCDateTime()),
        sa.UniqueConstraint("kind", "period", "recipient", name="uq_outbox_message"),
    )
    op.create_index("ix_outbox_status", "outbox", ["status"])


def downgrade() -> None:
    for table in ("outbox", "criterion_transition", "match", "item", "feed_state"):
        op.drop_table(table)
