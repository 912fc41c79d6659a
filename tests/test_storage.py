"""The hall's SQLite file as storage (issue 29): damaged, truncated, on a full disk, copied and put back.

Every fault here is real: bytes flipped in the real file, the file cut short, a real filesystem
(tmpfs, mounted by the test) filled to the last byte. What a person would notice if one failed: a
command that goes on writing into a damaged file, a traceback, "check that the server is running"
for a file that is gone, "connection lost" for a full disk, a backup that cannot be restored.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import sqlite3
import stat
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.conftest import sign_in, signed_out_env
from window_terminal.core import backups
from window_terminal.core import queueing as q
from window_terminal.core.hall import resolve_hall
from window_terminal.db.engine import make_engine, read_session
from window_terminal.db.models import Event, Ticket
from window_terminal.db.storage import StorageFault, check_integrity

WT = [sys.executable, "-m", "window_terminal.cli"]


def wt(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*WT, *args], env=env, capture_output=True, text=True, timeout=120)


def db_path(url: str) -> Path:
    return Path(url.removeprefix("sqlite:///"))


def counts(url: str) -> tuple[int, int]:
    engine = make_engine(url)
    try:
        with read_session(engine) as s:
            return (
                s.execute(select(func.count()).select_from(Ticket)).scalar_one(),
                s.execute(select(func.count()).select_from(Event)).scalar_one(),
            )
    finally:
        engine.dispose()


def busy(url: str, tickets: int = 6) -> None:
    """A few tickets taken and called, everything checkpointed into the main file."""
    engine = make_engine(url)
    hall = resolve_hall(engine, None)
    for _ in range(tickets):
        q.take_ticket(engine, hall.id, "BIZ", actor="M001")
    q.set_window_status(engine, hall.id, 2, "open", actor="C002")
    q.call_next(engine, hall.id, 2, actor="C002")
    with engine.connect() as c:
        c.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()


def flip(path: Path, at: int, count: int = 256) -> None:
    with open(path, "r+b") as f:
        f.seek(at)
        data = bytearray(f.read(count))
        f.seek(at)
        f.write(bytes(b ^ 0xFF for b in data))


def event_page_offset(path: Path) -> int:
    """Where the event table's first page lies in the file (its root page): damage that any read of the
    log, and the integrity check, meets."""
    with sqlite3.connect(path) as c:
        page_size = c.execute("PRAGMA page_size").fetchone()[0]
        root = c.execute("SELECT rootpage FROM sqlite_master WHERE name = 'event'").fetchone()[0]
    return root * page_size - 256  # the page's last bytes: its cells (the free space lies before them)


def test_the_hall_file_is_written_with_synchronous_full(sqlite_url):
    engine = make_engine(sqlite_url)
    with engine.connect() as c:
        assert c.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL: a commit is on the disk
    engine.dispose()


@pytest.mark.parametrize(
    "command",
    [
        ["ticket", "take", "BIZ"],
        ["call", "next", "--window", "2"],
        ["report", "daily"],
        ["audit", "verify"],
        ["queue", "status"],
    ],
)
def test_a_damaged_file_is_refused_and_named_with_the_restore_command(sqlite_url, tmp_path, command):
    env = signed_out_env(sqlite_url, tmp_path)
    sign_in(env, "M001")
    busy(sqlite_url)
    path = db_path(sqlite_url)
    before = path.read_bytes()
    flip(path, event_page_offset(path))
    damaged = path.read_bytes()
    result = wt(env, *command)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    assert "数据库文件已损坏" in result.stderr and "wt db restore" in result.stderr
    assert "服务器" not in result.stderr  # not "check that the server is running"
    assert path.read_bytes() == damaged != before  # nothing more was written into it


def test_a_truncated_file_is_named_as_damaged_not_as_an_unreachable_server(sqlite_url, tmp_path):
    env = signed_out_env(sqlite_url, tmp_path)
    sign_in(env, "M001")
    path = db_path(sqlite_url)
    with open(path, "r+b") as f:
        f.truncate(50)  # the header cut in the middle
    result = wt(env, "--lang", "en", "ticket", "take", "BIZ")
    assert result.returncode == 2, result.stderr
    assert "the database file is damaged" in result.stderr and "wt db restore" in result.stderr
    assert "server is running" not in result.stderr


def test_check_integrity_tells_a_sound_file_from_a_damaged_one(sqlite_url):
    busy(sqlite_url)
    engine = make_engine(sqlite_url)
    check_integrity(engine, full=True)
    engine.dispose()
    path = db_path(sqlite_url)
    flip(path, event_page_offset(path))
    engine = make_engine(sqlite_url)
    with pytest.raises(StorageFault) as caught:
        check_integrity(engine)
    assert caught.value.kind == "damaged"
    engine.dispose()


# --- a full disk ---------------------------------------------------------------------------------


@pytest.fixture
def small_disk(tmp_path):
    """A real 3 MB filesystem (tmpfs; the test runs as root, as CI does)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=3m,mode=0700", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        if os.environ.get("CI"):
            pytest.fail(f"cannot mount a small filesystem for the full-disk test: {done.stderr}")
        pytest.skip(f"mount needs root: {done.stderr.strip()}")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(folder: Path) -> Path:
    """Write zeros until the filesystem refuses another byte."""
    filler = folder / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        for size in (1 << 16, 4096, 512, 1):
            try:
                while True:
                    os.write(fd, b"\0" * size)
            except OSError:
                pass
    finally:
        os.close(fd)
    return filler


def test_a_full_disk_is_named_and_nothing_is_half_written(sqlite_url, tmp_path, small_disk):
    busy(sqlite_url, tickets=2)
    path = small_disk / "hall.sqlite3"
    shutil.copy(db_path(sqlite_url), path)
    url = f"sqlite:///{path}"
    env = signed_out_env(url, tmp_path)
    sign_in(env, "M001")
    before = counts(url)
    filler = fill(small_disk)
    results = [wt(env, "ticket", "take", "BIZ") for _ in range(3)]
    filler.unlink()
    for result in results:
        assert result.returncode == 2, (result.stdout, result.stderr)
        assert "Traceback" not in result.stderr
        assert "磁盘已满" in result.stderr, result.stderr
        assert "连接" not in result.stderr  # never "connection lost"
    assert counts(url) == before  # nothing of the refused commands was written
    assert wt(env, "ticket", "take", "BIZ").returncode == 0  # space freed: the hall works on
    assert counts(url)[0] == before[0] + 1


def test_the_counter_says_the_disk_is_full_not_connection_lost(sqlite_url, tmp_path, small_disk, monkeypatch):
    from textual.widgets import Static

    from tests.test_counter_screen import counter_app, press, settle
    from window_terminal.config import Settings

    busy(sqlite_url, tickets=3)
    path = small_disk / "hall.sqlite3"
    shutil.copy(db_path(sqlite_url), path)
    url = f"sqlite:///{path}"
    monkeypatch.setenv("TEXTUAL_ANIMATIONS", "none")
    engine = make_engine(url)
    hall = resolve_hall(engine, None)
    settings = Settings(database_url=url, drafts_dir=str(tmp_path / "drafts"))
    q.set_window_status(engine, hall.id, 3, "open", actor="C003")
    app = counter_app((engine, hall, settings), window=3, staff_code="C003")

    async def inner() -> str:
        async with app.run_test(size=(120, 36)) as pilot:
            await settle(pilot)
            filler = fill(small_disk)
            try:
                await press(pilot, "f2")
                await settle(pilot)
                return str(app.screen.query_one("#message", Static).render())
            finally:
                filler.unlink()

    shown = asyncio.run(inner())
    engine.dispose()
    assert "磁盘已满" in shown, shown
    assert "连接中断" not in shown


# --- backups ---------------------------------------------------------------------------------------


def test_a_backup_is_private_verified_rotated_and_restores_every_event(sqlite_url, tmp_path):
    env = signed_out_env(sqlite_url, tmp_path)
    sign_in(env, "M001")
    folder = tmp_path / "copies"
    busy(sqlite_url)
    for _ in range(3):
        result = wt(env, "db", "backup", "--to", str(folder), "--keep", "2", "--json")
        assert result.returncode == 0, result.stderr
        made = json.loads(result.stdout)
        assert made["halls"] and made["events"] == counts(sqlite_url)[1]
        assert stat.S_IMODE(os.stat(made["path"]).st_mode) == 0o600  # it holds citizens' data
        import time

        time.sleep(1.1)  # copies are named by the second
    assert len(list(folder.glob("wt-*.sqlite3"))) == 2  # the oldest rotated away
    assert stat.S_IMODE(os.stat(folder).st_mode) == 0o700
    kept = counts(sqlite_url)

    path = db_path(sqlite_url)
    flip(path, event_page_offset(path))  # the disk goes bad
    assert wt(env, "ticket", "take", "BIZ").returncode == 2
    refused = wt(env, "db", "restore", "--in", str(folder))
    assert refused.returncode == 2 and "--yes" in refused.stderr  # never replaces the file unasked
    restored = wt(env, "db", "restore", "--in", str(folder), "--yes", "--json")
    assert restored.returncode == 0, restored.stderr
    said = json.loads(restored.stdout)
    assert Path(said["replaced_file_kept_as"]).exists()  # the damaged file kept as evidence
    assert counts(sqlite_url) == kept  # every committed event back
    verify = wt(env, "audit", "verify")
    assert verify.returncode == 0, verify.stderr
    assert wt(env, "ticket", "take", "BIZ").returncode == 0  # and the hall works on


def test_a_damaged_copy_is_never_counted_and_restore_skips_it(sqlite_url, tmp_path):
    busy(sqlite_url)
    engine = make_engine(sqlite_url)
    folder = tmp_path / "copies"
    first = backups.backup(engine, folder)
    import time

    time.sleep(1.1)
    second = backups.backup(engine, folder)
    flip(Path(second["path"]), event_page_offset(Path(second["path"])))  # the newest copy rots on its disk
    with pytest.raises(Exception) as caught:
        backups.verify(Path(second["path"]))
    assert "damaged" in str(caught.value) or "fails the audit" in str(caught.value)
    result = backups.restore(engine, folder)
    assert result["path"] == first["path"]  # the newest copy that verifies
    assert result["skipped_bad_copies"]
    engine.dispose()


def test_a_backup_of_a_damaged_database_is_refused_and_the_good_copies_stay(sqlite_url, tmp_path):
    busy(sqlite_url)
    engine = make_engine(sqlite_url)
    folder = tmp_path / "copies"
    good = backups.backup(engine, folder, keep=1)
    engine.dispose()
    path = db_path(sqlite_url)
    flip(path, event_page_offset(path))
    engine = make_engine(sqlite_url)
    with pytest.raises(StorageFault):
        backups.backup(engine, folder, keep=1)
    engine.dispose()
    assert [p.name for p in folder.glob("wt-*.sqlite3")] == [Path(good["path"]).name]


def test_drafts_reach_the_disk_before_they_replace_the_old_one(tmp_path, monkeypatch):
    """write_private_file syncs the new file before the rename and the folder after it."""
    from window_terminal.core import privacy

    synced: list[str] = []
    real_fsync = os.fsync

    def watching_fsync(fd: int) -> None:
        synced.append(os.readlink(f"/proc/self/fd/{fd}"))
        real_fsync(fd)

    monkeypatch.setattr(privacy.os, "fsync", watching_fsync)
    target = tmp_path / "drafts" / f"d-{uuid.uuid4().hex}.json"
    privacy.write_private_file(target, "{}")
    assert any(".tmp" in p for p in synced)  # the new content, before the rename
    assert str(target.parent) in synced  # the rename itself


def test_the_hall_file_and_its_journal_are_readable_by_their_os_user_only(tmp_path):
    url = f"sqlite:///{tmp_path / 'new' / 'hall.sqlite3'}"
    engine = make_engine(url)
    from window_terminal.db.migrate import upgrade

    upgrade(engine)
    with engine.connect() as c:  # a reader keeps the -wal and -shm files open
        c.exec_driver_sql("SELECT 1")
        for name in ("hall.sqlite3", "hall.sqlite3-wal", "hall.sqlite3-shm"):
            path = tmp_path / "new" / name
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, name
    engine.dispose()
    loose = tmp_path / "old.sqlite3"
    loose.touch(mode=0o644)
    os.chmod(loose, 0o644)  # a file from before this rule, or copied in by hand
    make_engine(f"sqlite:///{loose}").dispose()
    assert stat.S_IMODE(loose.stat().st_mode) == 0o600


def test_damage_found_once_is_refused_at_once_until_restored(sqlite_url, tmp_path):
    """A big file is not checked on every command (a year's check takes seconds): damage found once
    is noted beside it, and every later command refuses at once, before reading anything."""
    env = signed_out_env(sqlite_url, tmp_path)
    sign_in(env, "M001")
    busy(sqlite_url)
    folder = tmp_path / "copies"
    assert wt(env, "db", "backup", "--to", str(folder)).returncode == 0
    assert wt(env, "queue", "status").returncode == 0  # checked sound: noted for ten minutes
    path = db_path(sqlite_url)
    flip(path, event_page_offset(path))
    first = wt(env, "audit", "verify")  # meets the damage while reading the log
    assert first.returncode == 2 and "数据库文件已损坏" in first.stderr, first.stderr
    later = wt(env, "--lang", "en", "queue", "status")  # reads nothing damaged, and still refuses
    assert later.returncode == 2 and "found damaged earlier" in later.stderr, later.stderr
    assert wt(env, "db", "restore", "--in", str(folder), "--yes").returncode == 0
    assert wt(env, "queue", "status").returncode == 0


def test_only_a_slow_sound_check_stands_in_for_the_next_and_only_for_ten_minutes(tmp_path):
    from window_terminal.db import storage

    where = str(tmp_path / "hall.sqlite3")
    noted = tmp_path / "hall.sqlite3-checked"
    assert not storage._sound_recently(where)  # never checked
    noted.write_text("0.010")
    assert not storage._sound_recently(where)  # a cheap check is simply run again
    noted.write_text("1.900")
    assert storage._sound_recently(where)  # a year's file: trusted for a while
    old = noted.stat().st_mtime - storage.CHECK_EVERY_S - 1
    os.utime(noted, (old, old))
    assert not storage._sound_recently(where)
