"""A hall's two database nodes and the pg_auto_failover monitor, on local ports in a temp folder.

    with FailoverCluster.started() as cluster:        # monitor + node1 (primary) + node2 (standby)
        url = cluster.url                             # postgresql://…:p1,…:p2/wt?target_session_attrs=read-write
        cluster.kill("node1")                         # SIGKILL the node: keeper, postmaster, backends
        cluster.wait_for_primary("node2")

This is the documented hall set-up (docs/failover.md) shrunk onto one machine: the same
``pg_autoctl create monitor`` / ``create postgres`` commands, ``--auth trust`` and no TLS because
every port is on 127.0.0.1. The monitor's health checks are tightened (1 s checks, a node unhealthy
after 4 s) so a failover takes about 10 s instead of about 30 s; docs/failover.md gives the same
settings for a hall. pg_autoctl refuses to run as root: as root, the nodes run as ``postgres``.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

MONITOR_SETTINGS = {
    "pgautofailover.health_check_period": 1000,
    "pgautofailover.health_check_timeout": 1000,
    "pgautofailover.health_check_max_retries": 1,
    "pgautofailover.health_check_retry_delay": 500,
    "pgautofailover.node_considered_unhealthy_timeout": 4000,
    "pgautofailover.primary_demote_timeout": 5000,
    "pgautofailover.startup_grace_period": 2000,
}


def pg_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(p.split("/")[4]))
    return Path(found[-1]).parent if found else None


def unavailable() -> str | None:
    """Why a cluster cannot be started here (None when it can)."""
    if shutil.which("pg_autoctl") is None:
        return "pg_autoctl is not installed (Debian: apt-get install postgresql-15-auto-failover)"
    if pg_bin() is None:
        return "no PostgreSQL server binaries under /usr/lib/postgresql"
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        return "running as root without runuser: pg_autoctl must run as a non-root user"
    return None


def _free_ports(count: int) -> list[int]:
    socks = []
    try:
        for _ in range(count):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


class FailoverCluster:
    def __init__(self, base: Path, dbname: str = "wt") -> None:
        self.base = base
        self.dbname = dbname
        self.ports = dict(zip(("monitor", "node1", "node2"), _free_ports(3), strict=True))
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.bin = pg_bin()
        self.killed: set[str] = set()

    # --- starting -------------------------------------------------------------------------------

    @classmethod
    @contextlib.contextmanager
    def started(cls, timeout: float = 180.0) -> Iterator[FailoverCluster]:
        base = Path(tempfile.mkdtemp(prefix="wt_failover_"))
        cluster = cls(base)
        try:
            cluster.start(timeout)
            yield cluster
        finally:
            cluster.close()
            shutil.rmtree(base, ignore_errors=True)

    def _command(self, *args: str) -> list[str]:
        env = [
            f"XDG_CONFIG_HOME={self.base / 'config'}",
            f"XDG_DATA_HOME={self.base / 'data'}",
            f"PATH={self.bin}:/usr/bin:/bin",
            "PGCONNECT_TIMEOUT=3",
        ]
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        return [*prefix, "env", *env, "pg_autoctl", *args]

    def _spawn(self, name: str, *args: str) -> None:
        log = open(self.base / f"{name}.log", "ab")  # noqa: SIM115 - the process keeps writing to it
        self.procs[name] = subprocess.Popen(
            self._command(*args), stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        log.close()

    @property
    def monitor_url(self) -> str:
        return f"postgresql://autoctl_node@127.0.0.1:{self.ports['monitor']}/pg_auto_failover?sslmode=disable"

    @property
    def url(self) -> str:
        """What every PC of the hall is given: both nodes, and "the one that accepts writes"."""
        hosts = ",".join(f"127.0.0.1:{self.ports[n]}" for n in ("node1", "node2"))
        return f"postgresql://postgres@{hosts}/{self.dbname}?target_session_attrs=read-write"

    def node_url(self, name: str, dbname: str | None = None) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.ports[name]}/{dbname or self.dbname}"

    def start(self, timeout: float = 180.0) -> None:
        reason = unavailable()
        if reason:
            raise RuntimeError(reason)
        self.base.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.base, "postgres")
        deadline = time.monotonic() + timeout
        common = ["--hostname", "127.0.0.1", "--auth", "trust", "--no-ssl", "--run"]
        self._spawn(
            "monitor", "create", "monitor", "--pgdata", str(self.base / "monitor"),
            "--pgport", str(self.ports["monitor"]), *common,
        )  # fmt: skip
        self._until(lambda: self._query(self.monitor_url, "SELECT 1") is not None, deadline, "the monitor")
        self._tune_monitor()
        for name in ("node1", "node2"):
            self._spawn(
                name, "create", "postgres", "--pgdata", str(self.base / name),
                "--pgport", str(self.ports[name]), "--name", name, "--monitor", self.monitor_url,
                "--dbname", self.dbname, *common,
            )  # fmt: skip
            if name == "node1":
                self._until(lambda: self.states().get("node1", ("", ""))[0] == "single", deadline, "node1")
        # node2's base backup waits for a checkpoint on node1 (spread over minutes by default):
        # ask for it now, until node2 streams
        while self.states().get("node2", ("", ""))[0] not in ("catchingup", "secondary"):
            self._query(self.node_url("node1", "postgres"), "CHECKPOINT")
            self._check_alive(deadline, "node2's base backup")
            time.sleep(0.5)
        self.wait_for_primary("node1", standby="node2", deadline=deadline)

    def _tune_monitor(self) -> None:
        import psycopg

        with psycopg.connect(
            f"postgresql://postgres@127.0.0.1:{self.ports['monitor']}/pg_auto_failover", autocommit=True
        ) as conn:
            for name, value in MONITOR_SETTINGS.items():
                conn.execute(f"ALTER SYSTEM SET {name} = {value}")
            conn.execute("SELECT pg_reload_conf()")

    # --- watching -------------------------------------------------------------------------------

    def _query(self, dsn: str, sql: str) -> list[tuple] | None:
        import psycopg

        try:
            with psycopg.connect(dsn, autocommit=True, connect_timeout=2) as conn:
                cur = conn.execute(sql)
                return cur.fetchall() if cur.description else []
        except psycopg.Error:
            return None

    def states(self) -> dict[str, tuple[str, str]]:
        """Each node's (reported state, goal state) as the monitor sees them."""
        rows = self._query(
            self.monitor_url, "SELECT nodename, reportedstate, goalstate FROM pgautofailover.node"
        )
        return {str(name): (str(reported), str(goal)) for name, reported, goal in rows or []}

    def _check_alive(self, deadline: float, what: str) -> None:
        for name, proc in self.procs.items():
            if proc.poll() is not None and name not in self.killed:
                log = (self.base / f"{name}.log").read_text(errors="replace")[-3000:]
                raise RuntimeError(f"pg_autoctl {name} exited with {proc.returncode}:\n{log}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}; states: {self.states()}")

    def _until(self, check, deadline: float, what: str) -> None:  # noqa: ANN001
        while not check():
            self._check_alive(deadline, what)
            time.sleep(0.25)

    def wait_for_primary(
        self, name: str, *, standby: str | None = None, deadline: float | None = None
    ) -> None:
        """Until ``name`` is primary (wait_primary counts: alone, writes go on) and, when given,
        ``standby`` streams as its synchronous secondary."""
        deadline = deadline or time.monotonic() + 120

        def ready() -> bool:
            states = self.states()
            if standby is None:
                return states.get(name, ("", ""))[0] in ("primary", "wait_primary")
            return states.get(name) == ("primary", "primary") and states.get(standby) == (
                "secondary",
                "secondary",
            )

        self._until(ready, deadline, f"{name} to be primary")

    def primary(self) -> str | None:
        """The node the monitor holds as primary, if any."""
        for name, (reported, _goal) in self.states().items():
            if reported in ("primary", "wait_primary"):
                return name
        return None

    # --- stopping -------------------------------------------------------------------------------

    def kill(self, name: str) -> None:
        """The node's machine dies: SIGKILL to its keeper, its postmaster and every backend."""
        self.killed.add(name)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.procs[name].pid, signal.SIGKILL)
        self.procs[name].wait(30)

    def close(self) -> None:
        """Stop everything at once: the data is thrown away (a graceful stop took 10–15 s)."""
        for proc in self.procs.values():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
        end = time.monotonic() + 10
        for proc in self.procs.values():
            try:
                proc.wait(max(0.1, end - time.monotonic()))
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(10)
        self._kill_strays()

    def _kill_strays(self) -> None:
        """Kill what outlived its postmaster: a background worker that does not notice the
        postmaster's death (the monitor's healthcheck worker) keeps itself and the logger alive.
        Every server process works in its data folder, under ``base``."""
        base = str(self.base.resolve())
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                cwd = os.readlink(entry / "cwd")
            except OSError:
                continue
            if cwd == base or cwd.startswith(base + os.sep):
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(int(entry.name), signal.SIGKILL)
