"""The customers endpoints of the REST API."""
