"""The hall as a whole: its invariants (``invariants.py``), the operations a simulated day is made of
(``operations.py``) and the databases they run on (``databases.py``). Shared by
tests/test_hall_weeks.py (a bounded run in CI) and benchmarks/hall_weeks.py (100,000 steps)."""
