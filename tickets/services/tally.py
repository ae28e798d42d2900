"""The open-inquiry tally behind the agent queue's counts (tickets.models.OpenInquiryTally): a
PostgreSQL trigger appends a row per change; this folds them into one row per key."""

from django.db import connection, transaction

from tickets.models import DUE_LONG_AGO

COMPACT = """
WITH gone AS (
    DELETE FROM tickets_openinquirytally
    RETURNING queue_id, assignee_id, store_id, running, due_hour, change
)
INSERT INTO tickets_openinquirytally (queue_id, assignee_id, store_id, running, due_hour, change)
SELECT queue_id, assignee_id, store_id, running,
       CASE WHEN due_hour < date_trunc('hour', now(), 'UTC') THEN %s ELSE due_hour END,
       sum(change)
FROM gone
GROUP BY 1, 2, 3, 4, 5
HAVING sum(change) <> 0
"""


def open_inquiry_tally_compact() -> int:
    """Fold the tally into one row per key, hours already past into one (they all count as
    breaching); returns the rows left. One statement: a change committed meanwhile is either
    folded in or kept as its own row, never lost."""
    if connection.vendor != "postgresql":
        return 0
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(COMPACT, [DUE_LONG_AGO])
        return cursor.rowcount
