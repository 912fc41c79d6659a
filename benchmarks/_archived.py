"""A hall's PostgreSQL server with its WAL archived by pgBackRest into two repositories, on a local
port in a temp folder: the set-up of docs/backup.md shrunk onto one machine.

    with ArchivedCluster.started() as cluster:
        cluster.url                       # postgresql://postgres@127.0.0.1:PORT/wt
        cluster.as_owner(["wt", ...])     # a command as the OS user that owns the data and repositories
        cluster.destroy()                 # the server killed and its data folder deleted
        cluster.start()                   # started again (after a restore)

Repository 1 stands for this host's disk, repository 2 for another host's (in a hall: an NFS or SSH
repository; here a second folder). PostgreSQL and pgBackRest refuse to run as root: as root, the
server and every command on its files run as ``postgres``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

try:
    from benchmarks._cluster import _free_ports, pg_bin
except ImportError:  # run as a script from benchmarks/
    from _cluster import _free_ports, pg_bin  # type: ignore[no-redef]

STANZA = "wt"


def unavailable() -> str | None:
    if shutil.which("pgbackrest") is None:
        return "pgbackrest is not installed (Debian: apt-get install pgbackrest)"
    if pg_bin() is None:
        return "no PostgreSQL server binaries under /usr/lib/postgresql"
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        return "running as root without runuser"
    return None


class ArchivedCluster:
    def __init__(self, base: Path, archive_timeout: int = 60) -> None:
        self.base = base
        self.archive_timeout = archive_timeout
        self.data = base / "data"
        self.port = _free_ports(1)[0]
        self.config = base / "pgbackrest.conf"
        self.bin = pg_bin()

    @classmethod
    @contextlib.contextmanager
    def started(cls, archive_timeout: int = 60, **create: str) -> Iterator[ArchivedCluster]:
        reason = unavailable()
        if reason:
            raise RuntimeError(reason)
        base = Path(tempfile.mkdtemp(prefix="wt_archived_"))
        os.chmod(base, 0o755)
        cluster = cls(base, archive_timeout)
        try:
            cluster.create(**create)
            yield cluster
        finally:
            cluster.stop("immediate")
            shutil.rmtree(base, ignore_errors=True)

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/wt"

    def env(self) -> dict[str, str]:
        """The environment of `wt` commands on this hall: its database, its stanza and configuration."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(("WT_", "PG"))}
        env.update(
            WT_DATABASE_URL=self.url,
            WT_PGBACKREST_STANZA=STANZA,
            WT_PGBACKREST_CONFIG=str(self.config),
            WT_DATA_DIR=str(self.base / "wt-data"),
            WT_CONFIG=str(self.base / "none.toml"),
            HOME=str(self.base),
        )
        return env

    def as_owner(self, command: Sequence[str], **kwargs) -> subprocess.CompletedProcess[str]:  # noqa: ANN003
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        kwargs.setdefault("env", self.env())
        kwargs.setdefault("timeout", 600)
        return subprocess.run([*prefix, *command], capture_output=True, text=True, check=False, **kwargs)

    def _must(self, command: Sequence[str]) -> str:
        done = self.as_owner(command)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed: {done.stdout}\n{done.stderr}")
        return done.stdout

    def create(self, extra_conf: str = "", hba: str | None = None) -> None:
        """Initialise, configure (``extra_conf`` appended to postgresql.conf; ``hba`` replacing
        pg_hba.conf), start, and create the stanza and the database ``wt``."""
        for folder in ("repo1", "repo2", "log", "lock", "spool", "sock", "wt-data"):
            (self.base / folder).mkdir()
        self.config.write_text(
            "\n".join(
                [
                    "[global]",
                    f"repo1-path={self.base / 'repo1'}",
                    f"repo2-path={self.base / 'repo2'}",
                    "repo1-retention-full=4",
                    "repo2-retention-full=4",
                    f"log-path={self.base / 'log'}",
                    f"lock-path={self.base / 'lock'}",
                    f"spool-path={self.base / 'spool'}",
                    "log-level-console=warn",
                    "log-level-file=info",
                    "start-fast=y",
                    "",
                    f"[{STANZA}]",
                    f"pg1-path={self.data}",
                    f"pg1-port={self.port}",
                    f"pg1-socket-path={self.base / 'sock'}",
                    "pg1-user=postgres",
                    "",
                ]
            )
        )
        if os.geteuid() == 0:
            for path in [self.base, *self.base.iterdir()]:
                shutil.chown(path, "postgres")
        self._must(
            [str(self.bin / "initdb"), "-D", str(self.data), "--auth=trust", "-U", "postgres", "-E", "UTF8"]
        )
        archive = f"pgbackrest --config={self.config} --stanza={STANZA} archive-push %p"
        with open(self.data / "postgresql.conf", "a") as conf:
            conf.write(
                f"\nport = {self.port}\nlisten_addresses = '127.0.0.1'\n"
                f"unix_socket_directories = '{self.base / 'sock'}'\n"
                "wal_level = replica\narchive_mode = on\n"
                f"archive_command = '{archive}'\n"
                f"archive_timeout = {self.archive_timeout}\nmax_wal_size = 1GB\n{extra_conf}\n"
            )
        if hba is not None:
            (self.data / "pg_hba.conf").write_text(hba)
        self.start()
        self._must(["pgbackrest", f"--config={self.config}", f"--stanza={STANZA}", "stanza-create"])
        self.sql("postgres", "CREATE DATABASE wt")

    def start(self) -> None:
        self._must(
            [
                str(self.bin / "pg_ctl"),
                "-D",
                str(self.data),
                "-l",
                str(self.base / "server.log"),
                "-w",
                "-t",
                "120",
                "start",
            ]
        )
        deadline = time.monotonic() + 120
        while self.sql("postgres", "SELECT pg_is_in_recovery()", quiet=True) != [(False,)]:
            if time.monotonic() > deadline:  # a restored server replays, then promotes itself
                raise RuntimeError("the server did not leave recovery: " + self.log_tail())
            time.sleep(0.3)

    def stop(self, mode: str = "fast") -> None:
        if (self.data / "postmaster.pid").exists():
            self.as_owner([str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop"])

    def destroy(self) -> None:
        """The disk died: the server killed on the spot, its data folder gone."""
        self.stop("immediate")
        shutil.rmtree(self.data)
        self.data.mkdir(mode=0o700)
        if os.geteuid() == 0:
            shutil.chown(self.data, "postgres")

    def switch_wal(self) -> None:
        """Close the current WAL segment and wait until it is archived (as archive_timeout would)."""
        lsn = self.sql("postgres", "SELECT pg_walfile_name(pg_switch_wal())")[0][0]
        deadline = time.monotonic() + 60
        while True:
            done = self.sql("postgres", "SELECT last_archived_wal FROM pg_stat_archiver")[0][0]
            if done is not None and done >= lsn:
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"WAL {lsn} was not archived: " + self.log_tail())
            time.sleep(0.2)

    def sql(self, dbname: str, statement: str, *, quiet: bool = False) -> list[tuple] | None:
        import psycopg

        try:
            with psycopg.connect(  # the local socket: whatever pg_hba.conf asks of TCP clients
                f"postgresql://postgres@/{dbname}?host={self.base / 'sock'}&port={self.port}",
                autocommit=True,
                connect_timeout=5,
            ) as conn:
                cur = conn.execute(statement)
                return cur.fetchall() if cur.description else []
        except psycopg.Error:
            if quiet:
                return None
            raise

    def log_tail(self) -> str:
        path = self.base / "server.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""
