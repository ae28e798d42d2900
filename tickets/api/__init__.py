"""The tickets endpoints of the REST API."""
