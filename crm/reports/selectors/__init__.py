"""One function per report: it takes a ReportScope and returns the report's charts, computed by
one or a few aggregate queries on the scope's database."""
