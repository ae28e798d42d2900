"""Writes of the inquiries app, one module per subdomain: intake (inquiries, email_intake),
routing, acknowledgement, sla, the agent's workspace and the customer's side."""
