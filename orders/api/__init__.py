"""The orders endpoints of the REST API."""
