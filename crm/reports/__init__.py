"""Reports for supervisors (every store) and store managers (their stores): dashboards of charts
over a date range, each chart also downloadable as CSV.

Every report is one or a few aggregate queries over an indexed date range (or the daily backlog
snapshots), read from the replica alias "reports" when one is configured."""
