"""What every endpoint of the REST API shares: token authentication and scopes, the error shape,
idempotency keys, cursor pagination, per-token throttling and bulk requests."""
