"""The workbench's /metrics (issue 15): each service run keeps its latest poll cycle's end and
duration, so `watcher_poll_cycle_seconds` is read from the database the service writes.

Revision ID: 0010
Revises: 0009
"""
import sqlalchemy as sa
from alembic import op

from watcher.store.schema import UTCDateTime

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("service_run") as batch:
        batch.add_column(sa.Column("last_poll_at", UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("last_poll_seconds", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("service_run") as batch:
        batch.drop_column("last_poll_seconds")
        batch.drop_column("last_poll_at")
