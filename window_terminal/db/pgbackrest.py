"""Backups of a PostgreSQL hall with pgBackRest: continuous WAL archiving and base backups into two
repositories (this host's and another host's), restorable to any second (docs/backup.md).

pgBackRest does the work; this module only runs it with the hall's stanza and configuration and reads
its answers, so `wt db backup` and `wt db restore --to TIME` mean the same on either database:

    backup(stanza, config, kind="incr")        a base backup into every repository
    info(stanza, config)                       the backups and the archived WAL, per repository
    restore(stanza, config, pg_data, to=…)     the stopped server's data put back as it was at ``to``

The server archives every WAL segment as it fills (``archive_command = 'pgbackrest --stanza=wt
archive-push %p'``, ``archive_timeout`` bounding how long a quiet hall's last commits wait); a restore
replays the WAL from the newest base backup before ``to`` up to ``to`` and promotes.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from window_terminal.db.engine import DatabaseError

RUN_AS_FROM_ROOT = "postgres"  # the OS user that owns the cluster and the repositories (Debian's)
TIMEOUT_S = 6 * 3600  # a year's base backup of a busy hall takes minutes; never hang for ever


def _run(stanza: str, config: str | None, *args: str, timeout: float = TIMEOUT_S) -> str:
    exe = shutil.which("pgbackrest")
    if exe is None:
        raise DatabaseError(
            "pgBackRest is not installed on this host: `apt-get install pgbackrest`, then set it up as "
            "docs/backup.md says (未安装 pgBackRest：请安装并按 docs/backup.md 配置)"
        )
    command = [exe, *([f"--config={config}"] if config else []), f"--stanza={stanza}", *args]
    if os.geteuid() == 0:  # pgBackRest works as the owner of the cluster's files, never as root
        command = ["runuser", "-u", RUN_AS_FROM_ROOT, "--", *command]
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
    if done.returncode != 0:
        said = " ".join((done.stderr or done.stdout).split())[-600:]
        raise DatabaseError(
            f"pgbackrest {args[-1]} failed (exit {done.returncode}): {said} "
            f"(pgBackRest 执行失败，见 docs/backup.md)"
        )
    return done.stdout


def _utc(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def info(stanza: str, config: str | None) -> dict[str, Any]:
    """The stanza's backups and archived WAL, per repository, from ``pgbackrest info``."""
    found = json.loads(_run(stanza, config, "--output=json", "info"))
    entry = next((s for s in found if s.get("name") == stanza), None)
    if entry is None:
        raise DatabaseError(
            f"pgBackRest knows no stanza {stanza!r}: run `pgbackrest --stanza={stanza} stanza-create`"
        )
    backups = [
        {
            "label": b["label"],
            "type": b["type"],
            "repo": b.get("database", {}).get("repo-key"),
            "started": _utc(b["timestamp"]["start"]),
            "stopped": _utc(b["timestamp"]["stop"]),
            "size": b.get("info", {}).get("size"),
        }
        for b in entry.get("backup", [])
    ]
    repos = [
        {"repo": r.get("key"), "status": (r.get("status") or {}).get("message")}
        for r in entry.get("repo", [])
    ]
    archive = [{"min": a.get("min"), "max": a.get("max")} for a in entry.get("archive", [])]
    status = (entry.get("status") or {}).get("message")
    return {"stanza": stanza, "status": status, "repos": repos, "backups": backups, "archive": archive}


def backup(stanza: str, config: str | None, *, kind: str = "incr") -> dict[str, Any]:
    """A base backup into every repository the stanza has (pgBackRest makes the first one full)."""
    if kind not in ("full", "diff", "incr"):
        raise DatabaseError(f"backup kind {kind!r}: choose full, diff or incr")
    before = {b["label"] for b in info(stanza, config)["backups"]}
    repos = [r["repo"] for r in info(stanza, config)["repos"]] or [1]
    for repo in repos:
        _run(stanza, config, f"--repo={repo}", f"--type={kind}", "backup")
    after = info(stanza, config)
    return {**after, "new": [b for b in after["backups"] if b["label"] not in before]}


def restore(
    stanza: str, config: str | None, pg_data: Path, *, to: datetime | None = None, repo: int | None = None
) -> dict[str, Any]:
    """Put the stopped server's data back as it was at ``to`` (naive UTC; None: the end of the archived
    WAL), from ``repo`` (default: pgBackRest's choice). Files that differ are replaced (``--delta``);
    the server promotes itself when it reaches ``to``."""
    pg_data = Path(pg_data)
    if (pg_data / "postmaster.pid").exists():
        raise DatabaseError(
            f"the PostgreSQL server of {pg_data} is running: stop it first (e.g. `pg_ctlcluster 15 main "
            f"stop`), then restore (请先停止数据库服务再恢复)"
        )
    args = ["--delta", f"--pg1-path={pg_data}"]
    if repo is not None:
        args.append(f"--repo={repo}")
    if to is not None:
        args += ["--type=time", f"--target={to:%Y-%m-%d %H:%M:%S.%f}+00", "--target-action=promote"]
    else:
        args += ["--type=default"]
    _run(stanza, config, *args, "restore")
    return {
        "stanza": stanza,
        "pg_data": str(pg_data),
        "to": to.isoformat() + "Z" if to else None,
        "repo": repo,
    }
