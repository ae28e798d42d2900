"""The store console: the pickup counter (pickups.py) and the returns desk (returns.py)."""
