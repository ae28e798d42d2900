"""A GIN index on the articles' full-text vector, on PostgreSQL.

SQLite, the embedded development database, has no such index type: there the knowledge base is
searched with a plain word match and the vector stays empty.
"""

from django.db import migrations


def create_search_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        "CREATE INDEX IF NOT EXISTS article_search_idx "
        "ON tickets_article USING gin (search_vector)"
    )


def drop_search_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("DROP INDEX IF EXISTS article_search_idx")


class Migration(migrations.Migration):
    dependencies = [
        ("tickets", "0004_knowledge_base"),
    ]

    operations = [
        migrations.RunPython(create_search_index, drop_search_index, elidable=False),
    ]
