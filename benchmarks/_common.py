"""Shared helpers for the benchmarks: scratch databases that clean up after themselves, the demo hall.

PostgreSQL comes from ``WT_TEST_POSTGRES_URL`` (default: the local server's ``test`` database); each
benchmark creates its own scratch database next to it and drops it at the end, even on failure.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, text
from sqlalchemy.engine import URL, make_url

REPO = Path(__file__).resolve().parents[1]
DEMO_QUEUE = REPO / "queue"  # the demo hall as shipped: open 09:00-17:00 on working days
ALWAYS_OPEN = '[hours]\nopen = ["00:00-24:00"]\ndays = "every_day"\n\n'


def open_at_every_hour(folder: Path) -> Path:
    """Make the hall of a copied definition open at every hour of every day (its ``[hours]``
    replaced): a benchmark or a test measures the hall at work whatever hour it runs at."""
    hall_toml = folder / "hall.toml"
    source = hall_toml.read_text(encoding="utf-8")
    start, end = source.index("[hours]"), source.index("[thresholds]")
    hall_toml.write_text(source[:start] + ALWAYS_OPEN + source[end:], encoding="utf-8")
    return folder


def always_open_queue() -> Path:
    """A copy of the demo hall open at every hour, removed when the process ends."""
    import atexit

    folder = Path(tempfile.mkdtemp(prefix="wt-hall-")) / "queue"
    shutil.copytree(DEMO_QUEUE, folder)
    atexit.register(shutil.rmtree, folder.parent, ignore_errors=True)
    return open_at_every_hour(folder)


QUEUE = always_open_queue()  # what the benchmarks load
DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/test"

if str(REPO) not in sys.path:  # run as `python benchmarks/x.py` from anywhere
    sys.path.insert(0, str(REPO))


def pg_admin_url() -> str:
    from window_terminal.config import normalize_database_url

    return normalize_database_url(os.environ.get("WT_TEST_POSTGRES_URL", DEFAULT_PG))


def _admin_execute(sql: str) -> None:
    from window_terminal.db.engine import make_engine

    admin = make_engine(pg_admin_url()).execution_options(isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(sql))
    finally:
        admin.dispose()


@contextmanager
def scratch_postgres(prefix: str = "wt_bench") -> Iterator[str]:
    """A new, empty PostgreSQL database on the benchmark server; dropped afterwards."""
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    _admin_execute(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(pg_admin_url()).set(database=name).render_as_string(hide_password=False)
    finally:
        _admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def scratch_sqlite() -> Iterator[str]:
    """A new SQLite file in a temporary folder; removed afterwards."""
    folder = tempfile.mkdtemp(prefix="wt_bench_")
    try:
        yield f"sqlite:///{folder}/hall.sqlite3"
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def queue_folder_with_windows(target: Path, windows: int) -> Path:
    """A copy of queue/ whose windows.toml has ``windows`` windows (extra ones serve the lines in turn)."""
    import tomllib

    folder = target / "queue"
    shutil.copytree(QUEUE, folder)
    existing = tomllib.loads((QUEUE / "windows.toml").read_text(encoding="utf-8"))["window"]
    lines = tomllib.loads((QUEUE / "lines.toml").read_text(encoding="utf-8"))["line"]
    codes = [line["code"] for line in lines]
    extra = []
    for number in range(len(existing) + 1, windows + 1):
        code = codes[number % len(codes)]
        extra.append(
            f'\n[[window]]\nnumber = {number}\nname = "{number}号窗口"\nlines = [{{ code = "{code}", weight = 1 }}]\n'
        )
    with open(folder / "windows.toml", "a", encoding="utf-8") as f:
        f.write("".join(extra))
    return folder


def prepare_hall(url: str, *, windows: int | None = None) -> tuple[Engine, int]:
    """Migrate the database and load the demo hall (optionally with more windows); (engine, hall id)."""
    from window_terminal.core.hall import load_hall, resolve_hall
    from window_terminal.db.engine import make_engine
    from window_terminal.db.migrate import upgrade

    engine = make_engine(url)
    upgrade(engine)
    if windows is None:
        load_hall(engine, QUEUE)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            load_hall(engine, queue_folder_with_windows(Path(tmp), windows))
    return engine, resolve_hall(engine, None).id


def sign_in_on_this_pc(url: str, data_dir: Path, code: str, pin: str = "246813") -> None:
    """What `wt pin change` then `wt login CODE` leave behind, for `wt` processes run with
    ``WT_DATA_DIR=data_dir``: the initial PIN changed and a session kept in ``data_dir/session``."""
    from window_terminal.core.hall import resolve_hall
    from window_terminal.core.sessions import open_session
    from window_terminal.core.staff import change_pin
    from window_terminal.db.engine import make_engine
    from window_terminal.errors import DomainError

    engine = make_engine(url)
    try:
        hall = resolve_hall(engine, None)
        try:
            change_pin(engine, hall.id, code, "1234", pin)
        except DomainError:
            pass  # changed before
        open_session(engine, hall.id, Path(data_dir) / "session", code, pin)
    finally:
        engine.dispose()


def libpq_env(url: str) -> dict[str, str]:
    """PGHOST/PGPORT/PGUSER/PGPASSWORD/PGDATABASE for command-line tools (pgbench, psql)."""
    parsed: URL = make_url(url)
    env = dict(os.environ)
    for key, value in (
        ("PGHOST", parsed.host),
        ("PGPORT", parsed.port),
        ("PGUSER", parsed.username),
        ("PGPASSWORD", parsed.password),
        ("PGDATABASE", parsed.database),
    ):
        if value is not None:
            env[key] = str(value)
    return env


def percentile(values: Sequence[float], p: float) -> float:
    """The ``p``-th percentile (0–100) of ``values``: THE percentile of every benchmark here.

    Linear interpolation between the two nearest ranks of the sorted values (NumPy's default,
    Hyndman & Fan type 7, and PostgreSQL's ``percentile_cont``): rank ``(n - 1) · p / 100``, so
    ``p = 50`` is the median and ``p = 100`` the maximum. With fewer than 100 values a p99 is little
    more than the maximum: ``measure.latency_figures`` reports a p99 only from 200 samples or more.
    NaN for no values.
    """
    if not values:
        return float("nan")
    if not 0 <= p <= 100:
        raise ValueError(f"a percentile is between 0 and 100, not {p}")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * p / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


# --- the hall TV server as its own process (display_browser.py and tests/test_tv_browser.py) -------


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class TvServer:
    """``wt serve display`` as its own process: started, killed, restarted, frozen.

    It runs with no ``WT_*`` settings of the caller's, its data in ``data``, on a free port.
    """

    def __init__(self, url: str, data: Path) -> None:
        self.url = url
        self.port = free_port()
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("WT_")}
        self.env.update(WT_DATA_DIR=str(data), WT_CONFIG=str(data / "none.toml"))
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def address(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def launch(self) -> None:
        """Start the process without waiting for it to answer (a benchmark times that)."""
        command = [sys.executable, "-m", "window_terminal.cli", "--db", self.url]
        command += ["serve", "display", "--port", str(self.port)]
        self.process = subprocess.Popen(
            command, env=self.env, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )

    def wait(self, timeout: float = 30.0) -> None:
        """Until ``/healthz`` answers 200."""
        import urllib.request

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{self.address}/healthz", timeout=1) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"wt serve display did not answer within {timeout:.0f} s")

    def start(self) -> None:
        self.launch()
        self.wait()

    def kill(self) -> None:
        assert self.process is not None
        self.process.kill()
        self.process.wait(timeout=10)

    def signal(self, sig: int) -> None:
        assert self.process is not None
        os.kill(self.process.pid, sig)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGCONT)  # a frozen server cannot take SIGTERM
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
