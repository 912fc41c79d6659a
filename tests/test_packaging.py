"""The wheel carries what a non-editable `pip install .` needs: migrations, styles, the demo hall."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_the_wheel_ships_the_demo_hall_the_migrations_and_the_styles(tmp_path: Path) -> None:
    # Built from a clean copy: setuptools builds in the source tree and would reuse a stale build/.
    source = tmp_path / "source"
    junk = shutil.ignore_patterns(
        ".git", ".venv", "build", "*.egg-info", "__pycache__", "tests", "benchmarks"
    )
    shutil.copytree(REPO, source, ignore=junk)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "-q",
            "-w",
            str(tmp_path),
            str(source),
        ],
        check=True,
        capture_output=True,
        cwd=tmp_path,
    )
    (wheel,) = tmp_path.glob("window_terminal-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    queue = sorted(p.relative_to(REPO / "queue").as_posix() for p in (REPO / "queue").rglob("*.toml"))
    assert queue and all(f"window_terminal/demo_hall/{name}" in names for name in queue)
    versions = sorted(p.name for p in (REPO / "window_terminal/db/migrations/versions").glob("*.py"))
    assert all(f"window_terminal/db/migrations/versions/{name}" in names for name in versions)
    assert {"window_terminal/db/migrations/env.py", "window_terminal/db/migrations/script.py.mako"} <= names
    styles = sorted(p.relative_to(REPO).as_posix() for p in (REPO / "window_terminal").rglob("*.tcss"))
    assert styles and set(styles) <= names
    page = sorted(p.relative_to(REPO).as_posix() for p in (REPO / "window_terminal/web/static").iterdir())
    assert len(page) >= 3 and set(page) <= names  # the hall TV page: html, css, js
    assert not any("__pycache__" in name for name in names)
