"""Several instances on one database: feed leases, outbox send claims, instance heartbeats.

Revision ID: 0006
Revises: 0004_alerts
"""
import sqlalchemy as sa
from alembic import op

from watcher.store.schema import UTCDateTime

revision = "0006"
down_revision = "0004_alerts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("feed_state") as t:
        t.add_column(sa.Column("lease_owner", sa.String()))
        t.add_column(sa.Column("lease_until", UTCDateTime()))
    with op.batch_alter_table("outbox") as t:
        t.add_column(sa.Column("claimed_by", sa.String()))
        t.add_column(sa.Column("claimed_until", UTCDateTime()))
    op.create_table(
        "instance",
        sa.Column("id", sa.String(), primary_key=True),
        sa.Column("host", sa.String(), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("version", sa.String(), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("heartbeat_at", UTCDateTime(), nullable=False),
        sa.Column("stopped_at", UTCDateTime()),
    )


def downgrade() -> None:
    op.drop_table("instance")
    with op.batch_alter_table("outbox") as t:
        t.drop_column("claimed_until")
        t.drop_column("claimed_by")
    with op.batch_alter_table("feed_state") as t:
        t.drop_column("lease_until")
        t.drop_column("lease_owner")
