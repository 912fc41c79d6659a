"""CLI commands by area; each module's ``register(app)`` adds its commands to the ``wt`` app.

Modules import heavy things (textual, sqlalchemy) inside the command functions only.
"""

AREAS = (
    "staff",
    "counter",
    "backoffice",
    "screens",
    "reports",
    "documents",
    "audit",
    "appointments",
    "backups",
)


def shared_group(app, name: str, help: str):
    """The sub-command group ``name`` (e.g. ``wt case``), created once and shared by the areas."""
    import typer

    for group in app.registered_groups:
        if group.name == name and group.typer_instance is not None:
            return group.typer_instance
    sub = typer.Typer(help=help)
    app.add_typer(sub, name=name)
    return sub
