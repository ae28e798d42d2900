"""Forms of the inquiries app: the workspace, the customer side, the routing rules."""
