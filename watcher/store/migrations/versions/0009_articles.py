"""Enrichment (issue 13): the article cache (one row per article, fetched once, its lead or why
it failed) and the items that want each article.

Revision ID: 0009
Revises: 0008
"""
import sqlalchemy as sa
from alembic import op

from watcher.store.schema import UTCDateTime

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "article",
        sa.Column("url", sa.String(), primary_key=True),
        sa.Column("status", sa.String(), nullable=False, index=True),
        sa.Column("lead", sa.Text()),
        sa.Column("reason", sa.String()),
        sa.Column("wanted_at", UTCDateTime(), nullable=False, index=True),
        sa.Column("fetched_at", UTCDateTime()),
    )
    op.create_table(
        "article_item",
        sa.Column("item_id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("url", sa.String(), nullable=False, index=True),
    )


def downgrade() -> None:
    op.drop_table("article_item")
    op.drop_table("article")
