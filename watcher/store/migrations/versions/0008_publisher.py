"""item.publisher: the publisher's name as the aggregator or the headline gives it (issue 13),
beside item.source (its domain) and item.host (the independent-source key).

Revision ID: 0008
Revises: 0007
"""
import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("item") as t:
        t.add_column(sa.Column("publisher", sa.String()))


def downgrade() -> None:
    with op.batch_alter_table("item") as t:
        t.drop_column("publisher")
