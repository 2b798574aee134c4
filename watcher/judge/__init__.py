"""Judge: the pure core. Matching, events, scores, the criterion, and their explanations.

Nothing here reads the clock, the database or the network: data in, data out
(tests/test_layout.py keeps it so)."""
