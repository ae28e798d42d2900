"""Name search from the start of the name, read "first last" or "last first": the second key,
filled for every customer, and on PostgreSQL an index on each key in byte order ("C"), so a
prefix is one range of the index, read in result order, whatever the number of customers.

Index scans of live records only: merged aliases are never search results.
"""

from django.db import migrations, models

from customers.identifiers import name_keys

BATCH = 20_000
PREFIX_INDEXES = {
    "customer_name_prefix": "search_name",
    "customer_reversed_name_prefix": "search_name_reversed",
}


def fill_reversed_names(apps, schema_editor):
    Customer = apps.get_model("customers", "Customer")
    connection = schema_editor.connection
    rows = Customer.objects.using(connection.alias).order_by("pk")
    last = 0
    while batch := list(
        rows.filter(pk__gt=last).values_list("pk", "first_name", "last_name")[:BATCH]
    ):
        last = batch[-1][0]
        keys = [(name_keys(first, surname)[1], pk) for pk, first, surname in batch]
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute(
                    "UPDATE customers_customer c SET search_name_reversed = k.key "
                    "FROM unnest(%s::text[], %s::bigint[]) AS k(key, id) WHERE c.id = k.id",
                    [[key for key, _ in keys], [pk for _, pk in keys]],
                )
            else:
                cursor.executemany(
                    "UPDATE customers_customer SET search_name_reversed = %s WHERE id = %s", keys
                )


def create_prefix_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, column in PREFIX_INDEXES.items():
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS {name} ON customers_customer (({column} COLLATE "C"), id) '
            "WHERE merged_into_id IS NULL"
        )


def drop_prefix_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in PREFIX_INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0008_customer_erased_at"),
    ]

    operations = [
        migrations.AddField(
            model_name="customer",
            name="search_name_reversed",
            field=models.CharField(blank=True, editable=False, max_length=201),
        ),
        migrations.RunPython(fill_reversed_names, migrations.RunPython.noop, elidable=False),
        migrations.RunPython(create_prefix_indexes, drop_prefix_indexes, elidable=False),
    ]
