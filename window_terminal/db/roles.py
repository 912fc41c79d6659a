"""Least-privilege PostgreSQL roles: the counter PCs' role versus the administrator (``wt db roles``).

The administrator is the role that owns the schema — the one that runs ``wt db upgrade`` — and
keeps every right, including the event log's maintenance (README, "Database roles"). The counter
PCs, the board, kiosks and displays connect as the application role, which may read and write the
hall's tables but on ``event`` only read, append and number (``seq`` and ``hash`` of a pending event:
``wt_number_pending``); it owns nothing, so it can neither disable the append-only triggers nor
change the schema. Run again after every ``wt db upgrade`` (new tables get their grants); safe to
repeat.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import Engine, text

from window_terminal.db import links
from window_terminal.db.engine import DatabaseError

ROLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
DEFAULT_APP_ROLE = "wt_counter"


@dataclass(frozen=True)
class RolesReport:
    app_role: str
    administrator: str
    created: bool
    password_set: bool


def setup_roles(
    engine: Engine, app_role: str = DEFAULT_APP_ROLE, *, password: str | None = None
) -> RolesReport:
    """Create (if missing) and grant the application role; returns who is who."""
    if engine.dialect.name != "postgresql":
        raise DatabaseError(
            "数据库角色只适用于 PostgreSQL：SQLite 文件由操作系统的文件权限保护 / "
            "database roles are for PostgreSQL only: a SQLite file is protected by its file permissions"
        )
    if not ROLE_NAME.match(app_role):
        raise DatabaseError(
            f"角色名 {app_role!r} 无效：只用小写字母、数字和下划线，以字母开头，例如 wt_counter / "
            f"role name {app_role!r} is not valid: use lower-case letters, digits and _, "
            "starting with a letter, e.g. wt_counter"
        )
    with engine.begin() as conn:
        owner = conn.execute(
            text(
                "SELECT tableowner FROM pg_tables WHERE tablename = 'event' AND schemaname = current_schema()"
            )
        ).scalar_one_or_none()
        if owner is None:
            raise DatabaseError(
                "数据库还没有表：请先运行 wt db upgrade / the database has no tables yet: run `wt db upgrade` first"
            )
        if owner == app_role:
            raise DatabaseError(
                f"{app_role} 拥有这些表（它就是管理员）：请给柜台电脑另起一个角色名，例如 --app-role wt_counter / "
                f"{app_role} owns the tables (it is the administrator): give the counter PCs a role of their "
                "own, e.g. --app-role wt_counter"
            )
        exists = conn.execute(
            text("SELECT rolsuper FROM pg_roles WHERE rolname = :r"), {"r": app_role}
        ).first()
        if exists is not None and exists[0]:
            raise DatabaseError(
                f"{app_role} 是超级用户，权限无法收窄：请用一个普通角色 / "
                f"{app_role} is a superuser, whose rights cannot be narrowed: use an ordinary role"
            )
        if exists is None:
            conn.execute(text(f'CREATE ROLE "{app_role}" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE'))
        if password is not None:
            statement = conn.execute(
                text("SELECT format('ALTER ROLE %I PASSWORD %L', CAST(:r AS text), CAST(:p AS text))"),
                {"r": app_role, "p": password},
            ).scalar_one()
            conn.exec_driver_sql(statement.replace("%", "%%"))
        role = f'"{app_role}"'
        for ddl in (
            f"GRANT CONNECT ON DATABASE {conn.exec_driver_sql('SELECT quote_ident(current_database())').scalar_one()} TO {role}",
            f"GRANT USAGE ON SCHEMA {conn.exec_driver_sql('SELECT quote_ident(current_schema())').scalar_one()} TO {role}",
            f"REVOKE ALL ON ALL TABLES IN SCHEMA current_schema FROM {role}",
            f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA current_schema TO {role}",
            # the event log: read, append, and number a pending event (wt_number_pending) — nothing else
            f"REVOKE UPDATE, DELETE, TRUNCATE ON event FROM {role}",
            f"GRANT UPDATE (seq, hash) ON event TO {role}",
            f"REVOKE INSERT, UPDATE, DELETE ON alembic_version FROM {role}",
            f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA current_schema TO {role}",
            f"GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA current_schema TO {role}",
            f"GRANT EXECUTE ON ALL PROCEDURES IN SCHEMA current_schema TO {role}",
            # the server's timeouts as the role's own: they hold behind PgBouncer too, which refuses
            # the startup options a direct connection sends them with (db/links.py)
            *(f"ALTER ROLE {role} SET {name} = '{value}'" for name, value in links.server_settings()),
        ):
            schema = conn.exec_driver_sql("SELECT quote_ident(current_schema())").scalar_one()
            conn.exec_driver_sql(ddl.replace("SCHEMA current_schema", f"SCHEMA {schema}"))
    return RolesReport(app_role, str(owner), exists is None, password is not None)
