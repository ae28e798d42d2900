"""Pages of the inquiries app: the agent workspace, the customer's side, and inbound mail."""
