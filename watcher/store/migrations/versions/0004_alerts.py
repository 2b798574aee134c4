"""Alerts, silences, service uptime and ingest problems (issue #4).

Revision ID: 0004_alerts
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op

from watcher.store.schema import UTCDateTime

revision = "0004_alerts"
down_revision = "0003_evidence"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "service_run",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("started_at", UTCDateTime(), nullable=False, index=True),
        sa.Column("last_seen_at", UTCDateTime(), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("mode", sa.String(), nullable=False),
    )
    op.create_table(
        "ingest_issue",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("feed_id", sa.String(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False, index=True),
        sa.Column("detail", sa.String(), nullable=False),
    )
    op.create_table(
        "alerted",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("subject", sa.String(), nullable=False),
        sa.Column("ref", sa.Integer(), nullable=False),
        sa.Column("alert_key", sa.String(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("subject", "ref", name="uq_alerted_subject_ref"),
    )
    op.create_table(
        "silence",
        sa.Column("indicator", sa.String(), primary_key=True),
        sa.Column("until", UTCDateTime(), nullable=False),
        sa.Column("reason", sa.String(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )


def downgrade() -> None:
    for table in ("silence", "alerted", "ingest_issue", "service_run"):
        op.drop_table(table)
