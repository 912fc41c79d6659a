"""CLI commands by area; each module's ``register(app)`` adds its commands to the ``wt`` app.

Modules import heavy things (textual, sqlalchemy) inside the command functions only.
"""

AREAS = ("counter", "backoffice", "screens", "reports", "documents")
