"""Write a new Alembic migration from the difference between the models and the migrations' head.

    python tools/make_migration.py 0002 "cases, documents, review"

Autogenerates against a scratch SQLite database brought to the current head; review the result
(and check it on PostgreSQL: the test suite upgrades both).
"""

import sys
import tempfile
from pathlib import Path

from alembic import command

from window_terminal.db.engine import make_engine
from window_terminal.db.migrate import _config, upgrade


def main() -> None:
    rev, message = sys.argv[1], sys.argv[2]
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'scratch.sqlite3'}")
        if any((Path(__file__).parents[1] / "window_terminal/db/migrations/versions").glob("*.py")):
            upgrade(engine)
        config = _config(engine)
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.revision(config, message=message, autogenerate=True, rev_id=rev)


if __name__ == "__main__":
    main()
