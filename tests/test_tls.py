"""Encrypted links (issue 29): a hall's PostgreSQL with TLS on and a certificate from the hall's CA.

A real server with ``ssl = on`` that admits TCP clients over TLS only. Every connection the program
holds (the pool's, the counters' direct ones, the feed's LISTEN) speaks TLS and verifies the server
against the hall CA (``sslmode=verify-full``); a server with another CA's certificate — someone in the
middle — is refused at once, named, and never waited on; a client without TLS is turned away.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks._archived import ArchivedCluster, unavailable
from tests.conftest import QUEUE
from window_terminal.core import queueing as q
from window_terminal.core.hall import load_hall, resolve_hall
from window_terminal.db.engine import make_engine
from window_terminal.db.feed import Feed
from window_terminal.db.migrate import upgrade

pytestmark = pytest.mark.postgres

HBA = """local all all trust
hostssl all all 127.0.0.1/32 trust
hostnossl all all 0.0.0.0/0 reject
"""


def openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def make_ca(folder: Path, name: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt",
            "-days", "3", "-subj", f"/CN={name}", cwd=folder)  # fmt: skip
    return folder


def server_certificate(ca: Path, folder: Path) -> tuple[Path, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr",
            "-subj", "/CN=hall-db", cwd=folder)  # fmt: skip
    (folder / "san.ext").write_text("subjectAltName=IP:127.0.0.1\n")
    openssl("x509", "-req", "-in", "server.csr", "-CA", str(ca / "ca.crt"), "-CAkey", str(ca / "ca.key"),
            "-CAcreateserial", "-out", "server.crt", "-days", "3", "-extfile", "san.ext", cwd=folder)  # fmt: skip
    return folder / "server.crt", folder / "server.key"


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory):
    reason = unavailable()
    if reason:
        if os.environ.get("WT_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"the TLS test cannot start a server: {reason}")
        pytest.skip(reason)
    if shutil.which("openssl") is None:
        pytest.fail("openssl is missing (Debian: apt-get install openssl)")
    base = tmp_path_factory.mktemp("tls")
    hall_ca = make_ca(base / "hall-ca", "Hall CA")
    keys = Path("/tmp") / f"wt-tls-{os.getpid()}"  # readable by the server's OS user
    crt, key = server_certificate(hall_ca, keys)
    if os.geteuid() == 0:
        for path in (keys, crt, key):
            shutil.chown(path, "postgres")
    os.chmod(key, 0o600)
    conf = f"ssl = on\nssl_cert_file = '{crt}'\nssl_key_file = '{key}'\n"
    with ArchivedCluster.started(extra_conf=conf, hba=HBA) as cluster:
        yield cluster, hall_ca / "ca.crt", make_ca(base / "other-ca", "Someone Else") / "ca.crt"
    shutil.rmtree(keys, ignore_errors=True)


def url(cluster, ca: Path, mode: str = "verify-full") -> str:
    return f"postgresql://postgres@127.0.0.1:{cluster.port}/wt?sslmode={mode}&sslrootcert={ca}"


def wt(db_url: str, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WT_", "PG"))}
    env.update(
        WT_DATABASE_URL=db_url, WT_DATA_DIR=str(tmp_path / "data"), WT_CONFIG=str(tmp_path / "none.toml")
    )
    env["WT_DB_WAIT_S"] = "20"
    return subprocess.run([sys.executable, "-m", "window_terminal.cli", *args], env=env,
                          capture_output=True, text=True, timeout=120)  # fmt: skip


def test_every_connection_speaks_tls_verified_against_the_hall_ca(tls_server, tmp_path):
    cluster, hall_ca, _ = tls_server
    engine = make_engine(url(cluster, hall_ca))
    upgrade(engine)
    load_hall(engine, QUEUE)
    hall = resolve_hall(engine, None)
    feed = Feed(engine, hall.id)
    try:
        feed.fetch()
        q.set_window_status(engine, hall.id, 2, "open", actor="C002")
        q.take_ticket(engine, hall.id, "BIZ", actor="M001")
        assert q.call_next(engine, hall.id, 2, actor="C002") is not None  # the counters' direct path
        assert feed.poll(timeout=5)  # the LISTEN connection woke
        rows = cluster.sql(
            "postgres",
            "SELECT a.application_name, s.ssl FROM pg_stat_activity a JOIN pg_stat_ssl s USING (pid) "
            "WHERE a.datname = 'wt' AND a.backend_type = 'client backend'",
        )
        assert rows and all(ssl for _, ssl in rows), rows  # pool, direct and LISTEN: all over TLS
    finally:
        feed.close()
        engine.dispose()
    done = wt(url(cluster, hall_ca), tmp_path, "queue", "status", "--json")
    assert done.returncode == 0, done.stderr


def test_a_server_with_another_cas_certificate_is_refused_and_named_at_once(tls_server, tmp_path):
    cluster, _, other_ca = tls_server
    done = wt(url(cluster, other_ca), tmp_path, "--lang", "en", "queue", "status")
    assert done.returncode == 2
    assert "not signed by the hall's CA" in done.stderr and "sslrootcert" in done.stderr, done.stderr
    assert "after waiting" not in done.stderr  # never waited on: waiting will not fix it


def test_a_client_without_tls_is_turned_away(tls_server, tmp_path):
    cluster, hall_ca, _ = tls_server
    done = wt(url(cluster, hall_ca, mode="disable"), tmp_path, "queue", "status")
    assert done.returncode == 2
    assert "pg_hba.conf" in done.stderr, done.stderr
