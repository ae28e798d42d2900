"""Bulk loading into PostgreSQL: COPY in chunks, with the loaded tables' secondary indexes,
unique constraints and foreign keys dropped first and re-created (and so re-checked) at the end."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db.backends.base.base import BaseDatabaseWrapper


@dataclass
class SetAside:
    """What was dropped from the loaded tables, as the statements that re-create it."""

    indexes: list[str] = field(default_factory=list)
    constraints: list[str] = field(default_factory=list)
    foreign_keys: list[str] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.indexes) + len(self.constraints) + len(self.foreign_keys)


def indexes_set_aside(connection: BaseDatabaseWrapper, tables: Sequence[str]) -> SetAside:
    """Drop every index and constraint of `tables` but the primary keys and check constraints:
    maintaining them row by row is most of the cost of a large load."""
    aside = SetAside()
    with connection.cursor() as cursor:
        # Check the rows written so far now: a table with deferred checks pending can't be altered.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(
            "SELECT conname, conrelid::regclass::text, contype, pg_get_constraintdef(oid) "
            "FROM pg_constraint WHERE conrelid = ANY(%s::regclass[]) AND contype IN ('f', 'u') "
            "ORDER BY contype, conname",
            [list(tables)],
        )
        constraints = cursor.fetchall()
        cursor.execute(
            "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i "
            "WHERE i.indrelid = ANY(%s::regclass[]) AND NOT i.indisprimary AND NOT EXISTS "
            "(SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid "
            "AND c.contype IN ('p', 'u', 'x')) ORDER BY 1",
            [list(tables)],
        )
        indexes = cursor.fetchall()
        for name, table, kind, definition in constraints:
            if kind == "f":
                aside.foreign_keys.append(_add_constraint(table, name, definition))
                cursor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {_quote(name)}")
        for name, table, kind, definition in constraints:
            if kind == "u":
                aside.constraints.append(_add_constraint(table, name, definition))
                cursor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {_quote(name)}")
        for name, definition in indexes:
            aside.indexes.append(definition)
            cursor.execute(f"DROP INDEX {name}")
    return aside


def indexes_restore(connection: BaseDatabaseWrapper, aside: SetAside) -> None:
    """Re-create what indexes_set_aside dropped: indexes, then unique constraints (which check the
    loaded values), then foreign keys (each checked with one join instead of a trigger per row)."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
        for statement in (*aside.indexes, *aside.constraints, *aside.foreign_keys):
            cursor.execute(statement)
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def _add_constraint(table: str, name: str, definition: str) -> str:
    return f"ALTER TABLE {table} ADD CONSTRAINT {_quote(name)} {definition}"


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def copy_rows(
    connection: BaseDatabaseWrapper,
    table: str,
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
) -> None:
    """Stream rows into `table` through COPY. Values go as text: None is NULL."""
    names = ", ".join(_quote(column) for column in columns)
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy,
    ):
        for row in rows:
            copy.write_row(row)


def sequences_reset(connection: BaseDatabaseWrapper, tables: Sequence[str]) -> None:
    """The generator chose the ids: move each table's id sequence past the largest one."""
    with connection.cursor() as cursor:
        for table in tables:
            largest = f"SELECT COALESCE(MAX(id), 0) + 1 FROM {table}"  # noqa: S608 (own tables)
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence(%s, 'id'), ({largest}), false)", [table]
            )


def analyze(connection: BaseDatabaseWrapper, tables: Sequence[str]) -> None:
    """Statistics for the planner; outside a transaction also VACUUM, which marks the loaded pages
    all-visible so that index-only scans skip the table from the first request (autovacuum would
    do it only later)."""
    command = "ANALYZE" if connection.in_atomic_block else "VACUUM (ANALYZE)"
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"{command} {table}")
