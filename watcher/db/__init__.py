"""Database schema (tables) and its Alembic migrations; only `watcher.store` uses them."""
