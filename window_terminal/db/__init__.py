"""Database access: engine and sessions, models, migrations, the clock and the sync layer."""
