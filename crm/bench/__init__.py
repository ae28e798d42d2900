"""The benchmark data set: `manage.py seed_bench` writes a retailer's worth of customers, orders,
service history and web activity into an empty PostgreSQL database with COPY.

`generator` makes the rows, customer by customer, with ids it assigns itself; `loader` streams
them into the tables with their secondary indexes and foreign keys set aside until the end.
"""
