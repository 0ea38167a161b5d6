"""Alembic's environment: migrate the reports database named in the config's URL."""

from __future__ import annotations

from alembic import context

from geo.reports.db import engine_for, metadata

target_metadata = metadata


def run() -> None:
    """Online migrations only: every URL here is a real database the command can reach."""
    engine = engine_for(context.config.get_main_option("sqlalchemy.url"))
    with engine.connect() as conn:
        context.configure(connection=conn, target_metadata=metadata,
                          render_as_batch=conn.dialect.name == "sqlite")
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run()
