"""Tracks and the analyst's call (issue 12): criterion_transition gains the track a change is
about (NULL: the whole criterion, as before); the decision table keeps confirm / dismiss
decisions on the reports (items) of an event.

Revision ID: 0007
Revises: 0006
"""
import sqlalchemy as sa
from alembic import op

from watcher.store.schema import UTCDateTime

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("criterion_transition") as t:
        t.add_column(sa.Column("track", sa.String()))
        t.create_index("ix_criterion_transition_track", ["track"])
    op.create_table(
        "decision",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("items", sa.JSON(), nullable=False),
        sa.Column("action", sa.String(), nullable=False),
        sa.Column("decided_by", sa.String(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False, server_default=""),
        sa.Column("undone_at", UTCDateTime()),
        sa.Column("undone_by", sa.String()),
    )


def downgrade() -> None:
    op.drop_table("decision")
    with op.batch_alter_table("criterion_transition") as t:
        t.drop_index("ix_criterion_transition_track")
        t.drop_column("track")
