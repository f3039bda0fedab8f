"""Trigram indexes for `search` on PostgreSQL.

`search` is a case-insensitive substring match (ILIKE '%text%'), which no b-tree can
serve; a crafted near-miss against a user's own long descriptions made it cost
hundreds of times a plain list. pg_trgm's GIN indexes let PostgreSQL skip every task
that lacks the search's trigrams. They are PostgreSQL's alone (SQLite has no GIN),
so they live here rather than in Task.Meta.indexes. Going back drops the indexes but
keeps the extension, which other schemas of the database may use.
"""

from django.db import migrations

INDEXES = {
    "task_title_trgm": "title",
    "task_description_trgm": "description",
}


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, column in INDEXES.items():
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON tasks_task USING gin ({column} gin_trgm_ops)"
        )


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("tasks", "0004_completed_at_server_managed")]

    operations = [migrations.RunPython(create_indexes, drop_indexes)]
