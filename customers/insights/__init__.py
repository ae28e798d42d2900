"""Customer insights: figures derived from each customer's whole history (figures), kept current
after every event and rebuilt in bulk (services), judged against a supervisor's thresholds into
flags with their reasons (flags), and read in one query or none by the pages (selectors)."""
