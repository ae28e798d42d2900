"""Reads of the inquiries app, shaped per page: the workspace, the customer side, routing."""
