"""``wt db status``: each database node of the URL, which one is primary, and how replication stands.

The hall's URL may name several nodes (``postgresql://db1,db2/wt?target_session_attrs=read-write``,
docs/failover.md); each is asked directly (not through the "read-write" choice), so a standby and a
dead node show too. The primary tells who replicates from it (``pg_stat_replication``: state,
synchronous or not, how far behind); a standby tells whether it receives the primary's WAL.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import Engine

from window_terminal.db import links
from window_terminal.db.engine import conninfo, is_sqlite

_PRIMARY_SQL = """
SELECT application_name, client_addr::text, state, sync_state,
       COALESCE(EXTRACT(epoch FROM replay_lag), 0)::float8,
       pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)::bigint
FROM pg_stat_replication ORDER BY application_name
"""
_STANDBY_SQL = """
SELECT status, sender_host, sender_port,
       COALESCE(EXTRACT(epoch FROM now() - last_msg_receipt_time), 0)::float8
FROM pg_stat_wal_receiver
"""


@dataclass
class Node:
    host: str
    port: str
    role: str  # primary | standby | unreachable
    error: str = ""
    version: str = ""
    synchronous_standby_names: str = ""
    replicas: list[dict[str, Any]] = field(default_factory=list)  # on the primary
    receiving: dict[str, Any] = field(default_factory=dict)  # on a standby


def database_status(engine: Engine) -> dict[str, Any]:
    """Every node of the engine's URL and its role; ``primary`` names the one accepting writes."""
    if is_sqlite(engine):
        return {"kind": "sqlite", "path": engine.url.database, "primary": None, "nodes": []}
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    params = conninfo_to_dict(conninfo(engine))
    hosts = str(params.pop("host", "localhost")).split(",")
    ports = str(params.pop("port", "5432")).split(",")
    ports = ports if len(ports) == len(hosts) else ports[:1] * len(hosts)
    params.pop("target_session_attrs", None)
    nodes = []
    for host, port in zip(hosts, ports, strict=True):
        dsn = make_conninfo("", **params, host=host, port=port, connect_timeout=2)
        nodes.append(_ask(dsn, host, port))
    primary = [n for n in nodes if n.role == "primary"]
    return {
        "kind": "postgresql",
        "primary": f"{primary[0].host}:{primary[0].port}" if len(primary) == 1 else None,
        "nodes": [asdict(n) for n in nodes],
    }


def _ask(dsn: str, host: str, port: str) -> Node:
    try:
        conn = links.connect(dsn, autocommit=True, deadline=5.0, application_name="window-terminal-status")
    except Exception as exc:
        return Node(host, port, "unreachable", error=" ".join(str(exc).split())[:300])
    with conn:
        standby = bool(conn.execute("SELECT pg_is_in_recovery()").fetchone()[0])
        version = str(conn.execute("SHOW server_version").fetchone()[0])
        node = Node(host, port, "standby" if standby else "primary", version=version)
        if standby:
            row = conn.execute(_STANDBY_SQL).fetchone()
            node.receiving = (
                {"status": row[0], "from": f"{row[1]}:{row[2]}", "last_message_s": round(row[3], 1)}
                if row
                else {"status": "not receiving"}
            )
        else:
            node.synchronous_standby_names = str(conn.execute("SHOW synchronous_standby_names").fetchone()[0])
            node.replicas = [
                {
                    "name": r[0],
                    "address": r[1],
                    "state": r[2],
                    "sync": r[3],
                    "lag_s": round(r[4], 3),
                    "behind_bytes": r[5],
                }
                for r in conn.execute(_PRIMARY_SQL).fetchall()
            ]
    return node
