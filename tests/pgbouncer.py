"""Debian's PgBouncer in transaction mode in front of a test database, on a free local port.

    with PgBouncer(("127.0.0.1", 5432), "wt_t_abc") as bouncer:   # clients connect to bouncer.port
        url = f"postgresql://postgres@127.0.0.1:{bouncer.port}/wt_t_abc?pgbouncer=true"

It refuses to run as root: as root, it runs as ``postgres``. Trust authentication, as the test server.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path


def unavailable() -> str | None:
    if shutil.which("pgbouncer") is None:
        return "pgbouncer is not installed (Debian: apt-get install pgbouncer)"
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        return "running as root without runuser"
    return None


class PgBouncer:
    def __init__(self, upstream: tuple[str, int], dbname: str) -> None:
        self.upstream = upstream
        self.dbname = dbname
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.folder = Path(tempfile.mkdtemp(prefix="wt_pgbouncer_"))
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> PgBouncer:
        host, port = self.upstream
        (self.folder / "users.txt").write_text('"postgres" ""\n')
        ini = self.folder / "pgbouncer.ini"
        ini.write_text(
            "[databases]\n"
            f"{self.dbname} = host={host} port={port} dbname={self.dbname}\n"
            "[pgbouncer]\n"
            f"listen_addr = 127.0.0.1\nlisten_port = {self.port}\nunix_socket_dir =\n"
            f"auth_type = trust\nauth_file = {self.folder / 'users.txt'}\n"
            "pool_mode = transaction\nmax_client_conn = 200\ndefault_pool_size = 10\n"
            f"logfile = {self.folder / 'pgbouncer.log'}\n"
        )
        if os.geteuid() == 0:
            for path in (self.folder, *self.folder.iterdir()):
                shutil.chown(path, "postgres")
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        self.process = subprocess.Popen([*prefix, "pgbouncer", str(ini)], stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL)  # fmt: skip
        deadline = time.monotonic() + 20
        while True:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    return self
            if self.process.poll() is not None or time.monotonic() > deadline:
                log = self.folder / "pgbouncer.log"
                raise RuntimeError("pgbouncer did not start: " + (log.read_text() if log.exists() else ""))
            time.sleep(0.1)

    def __exit__(self, *_: object) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
        shutil.rmtree(self.folder, ignore_errors=True)
