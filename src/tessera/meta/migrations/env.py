"""Alembic environment: migrations run on a connection handed in by ``tessera.meta.migrate``."""

from alembic import context

from tessera.meta.schema import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
