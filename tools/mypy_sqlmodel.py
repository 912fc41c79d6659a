"""A mypy plugin that tells mypy what a SQLModel table's class attributes are at run time.

SQLModel declares ``Ticket.status: str``, and that is right for a row (``ticket.status``). On the
class, though, SQLAlchemy replaces every column with an ``InstrumentedAttribute``: ``Ticket.status
== "waiting"`` builds a SQL expression, ``Ticket.id.in_(ids)`` and ``Ticket.called_at.desc()`` exist,
and ``select(Ticket.id, Ticket.status)`` selects columns. Without this plugin mypy reads the class
attribute as a plain ``str``, so every query is an error (``where`` given a ``bool``, ``int`` has no
``in_``), and the only way out is ``col(...)`` or a cast at each of hundreds of call sites.

The plugin answers that once: reading a field on a ``table=True`` model class (not on a row) has
the type ``InstrumentedAttribute[<field type>]``. Rows keep their plain field types, so
``ticket.id`` is still ``int | None``.

Configured in ``pyproject.toml`` (``[tool.mypy] plugins``); used by mypy only, never imported by
the application.
"""

from __future__ import annotations

from collections.abc import Callable

from mypy.nodes import MypyFile, NameExpr, TypeInfo, Var
from mypy.plugin import AttributeContext, ClassDefContext, Plugin
from mypy.types import Instance, Type

SQLMODEL = "sqlmodel.main.SQLModel"
INSTRUMENTED = "sqlalchemy.orm.attributes.InstrumentedAttribute"


METADATA = "wt_sqlmodel_table"  # set on each table model's TypeInfo, kept in mypy's cache


def _mark_table(ctx: ClassDefContext) -> None:
    """Remember that a class is a table model while its definition (``table=True``) is at hand: a
    class read back from mypy's cache no longer has its keywords, only its metadata."""
    table = ctx.cls.keywords.get("table")
    if isinstance(table, NameExpr) and table.fullname == "builtins.True":
        ctx.cls.info.metadata[METADATA] = {"table": True}


def _is_table(info: TypeInfo) -> bool:
    """A SQLModel subclass declared (itself or through a base) with ``table=True``."""
    return info.has_base(SQLMODEL) and any(METADATA in base.metadata for base in info.mro)


class SQLModelColumnsPlugin(Plugin):
    def get_additional_deps(self, file: MypyFile) -> list[tuple[int, str, int]]:
        return [(10, "sqlalchemy.orm.attributes", -1)]  # where InstrumentedAttribute lives

    def get_customize_class_mro_hook(self, fullname: str) -> Callable[[ClassDefContext], None] | None:
        # Called for every class definition; the pydantic plugin already owns the base class hook
        # of SQLModel's subclasses (mypy runs only the first plugin's hook).
        return _mark_table

    def get_class_attribute_hook(self, fullname: str) -> Callable[[AttributeContext], Type] | None:
        class_name, _, attr = fullname.rpartition(".")
        if not class_name or attr.startswith("_"):
            return None
        symbol = self.lookup_fully_qualified(class_name)
        if symbol is None or not isinstance(symbol.node, TypeInfo) or not _is_table(symbol.node):
            return None
        field = symbol.node.names.get(attr)
        if field is None or not isinstance(field.node, Var) or field.node.is_classvar:
            return None
        column = self.lookup_fully_qualified(INSTRUMENTED)
        if column is None or not isinstance(column.node, TypeInfo):
            return None  # SQLAlchemy not analysed: keep mypy's own answer
        info = column.node
        return lambda ctx: Instance(info, [ctx.default_attr_type])

    # get_attribute_hook (a row's attribute) is left alone: rows keep their plain field types.


def plugin(version: str) -> type[Plugin]:
    return SQLModelColumnsPlugin
