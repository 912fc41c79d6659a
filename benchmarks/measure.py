"""The measuring kit of the latency benchmarks: what a person waits for, timed the same way everywhere.

- **One clock**: ``now()`` is ``time.monotonic()``, which on Linux is CLOCK_MONOTONIC, the same in
  every process of the machine, so a moment noted in one process can be compared with one noted in
  another (it never jumps with the wall clock, as ``time.time()`` can).
- **Painted frames**: ``FrameClock`` makes an app under ``run_test`` render every update to terminal
  bytes as it does on a real terminal (Textual's ``HeadlessDriver`` skips that) and notes the moment
  each frame's bytes are handed to the driver, with what a ``look`` function reads off the screen
  right then — on the app's thread, after the frame was drawn and before anything else can change,
  so what it reads is what that frame shows. A latency ends at the first frame that shows the thing.
- **Both bounds of a commit**: a change made in another process is stamped before the call
  (``start``) and after it returned (``returned``); the commit lies in between. ``start → seen`` can
  only overstate the wait and is the figure; ``returned → seen`` can only understate it and is
  reported beside it (it may be negative: the other process can see the change before the caller's
  process gets the CPU back to stamp it).
- **Honest percentiles**: ``_common.percentile`` is the one percentile; a p99 needs at least 200
  samples (``MIN_P99_SAMPLES``), otherwise it is reported as ``None``; the count and the maximum
  always go beside it; a negative latency (from ``start``) or a change never seen fails the run.
- **Targets in the output**: ``Report`` prints each target with its figure and a pass/fail flag,
  then the last line, one JSON object with the figures, ``targets``, ``passed`` and ``all_passed``.
"""

from __future__ import annotations

import asyncio
import bisect
import json
import math
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))  # run as a script, or imported by the tests
from _common import percentile  # noqa: E402

MIN_P99_SAMPLES = 200

now = time.monotonic


class RunFailed(SystemExit):
    """The measurement itself is wrong (a negative latency, a change never seen): no figures."""

    def __init__(self, message: str) -> None:
        super().__init__(f"benchmark run failed: {message}")


def ms(seconds: float) -> float:
    return seconds * 1000.0


def latency_figures(
    prefix: str, samples_ms: Sequence[float], *, lower_bounds_ms: Sequence[float] | None = None
) -> dict[str, Any]:
    """``{prefix}_p50_ms``, ``_p99_ms`` (None under 200 samples), ``_max_ms``, ``_samples``.

    ``samples_ms`` are the latencies from the start of the action; a negative one fails the run.
    ``lower_bounds_ms`` (from the moment the action returned) adds ``{prefix}_from_return_p50_ms``
    and ``_p99_ms``.
    """
    if not samples_ms:
        raise RunFailed(f"{prefix}: no samples")
    negative = [s for s in samples_ms if s < 0]
    if negative:
        raise RunFailed(f"{prefix}: {len(negative)} negative latencies (min {min(negative):.2f} ms)")
    enough = len(samples_ms) >= MIN_P99_SAMPLES
    figures: dict[str, Any] = {
        f"{prefix}_p50_ms": round(percentile(samples_ms, 50), 2),
        f"{prefix}_p99_ms": round(percentile(samples_ms, 99), 2) if enough else None,
        f"{prefix}_max_ms": round(max(samples_ms), 2),
        f"{prefix}_samples": len(samples_ms),
    }
    if lower_bounds_ms:
        figures[f"{prefix}_from_return_p50_ms"] = round(percentile(lower_bounds_ms, 50), 2)
        figures[f"{prefix}_from_return_p99_ms"] = (
            round(percentile(lower_bounds_ms, 99), 2) if enough else None
        )
    return figures


def seconds_figures(prefix: str, runs_s: Sequence[float]) -> dict[str, Any]:
    """``{prefix}_s`` (the median of the runs), ``_max_s`` and ``_runs``: for start-up times."""
    return {
        f"{prefix}_s": round(statistics.median(runs_s), 3),
        f"{prefix}_max_s": round(max(runs_s), 3),
        f"{prefix}_runs": len(runs_s),
    }


class Report:
    """Figures and targets of one benchmark; ``finish()`` prints them, the JSON object last."""

    def __init__(self, benchmark: str) -> None:
        self.figures: dict[str, Any] = {"benchmark": benchmark}
        self.targets: dict[str, str] = {}
        self.passed: dict[str, bool | None] = {}

    def add(self, figures: dict[str, Any]) -> None:
        self.figures.update(figures)

    def target(self, key: str, below: float) -> None:
        """``key`` must be under ``below``; a figure that could not be measured (None) passes not."""
        value = self.figures.get(key)
        self.targets[key] = f"< {below:g}"
        self.passed[key] = None if value is None else bool(value < below)

    def finish(self) -> dict[str, Any]:
        for key, limit in self.targets.items():
            value, ok = self.figures.get(key), self.passed[key]
            flag = "PASS" if ok else ("FAIL" if ok is not None else "NOT MEASURED (too few samples)")
            print(f"target {key} {limit}: {value} → {flag}", flush=True)
        verdicts = list(self.passed.values())
        result = {
            **self.figures,
            "targets": self.targets,
            "passed": self.passed,
            "all_passed": all(v is True for v in verdicts),
        }
        print(json.dumps(result, ensure_ascii=False), flush=True)
        return result


# --- painted frames ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Frame:
    at: float  # now() right after the frame's bytes were written
    seen: Any  # what ``look()`` read off the screen then
    size: int  # bytes (characters) written: a full repaint is large, a changed cell small


class FrameClock:
    """Every frame an app paints under ``run_test(headless=False)``, with when and what it showed.

        clock = FrameClock(app, look=lambda: app.screen.query_one("#current").render())
        async with app.run_test(headless=False, size=(120, 36)) as pilot: ...

    The app's driver becomes a headless one that says it is not headless: Textual then renders each
    update to the terminal sequence a real terminal would get (the work ``_display`` does) and hands
    it to ``write``, which notes the moment and calls ``look`` (errors in ``look`` read as None, e.g.
    before the screen is mounted). Nothing reaches the real terminal.
    """

    def __init__(self, app: Any, look: Callable[[], Any] = lambda: None) -> None:
        from textual.drivers.headless_driver import HeadlessDriver

        self.frames: list[Frame] = []
        self.look = look
        clock = self

        class PaintingDriver(HeadlessDriver):
            @property
            def is_headless(self) -> bool:
                return False

            def write(self, data: str) -> None:
                clock._written(data)

            def flush(self) -> None:
                pass

        app.driver_class = PaintingDriver

    def _written(self, data: str) -> None:
        at = now()
        try:
            seen = self.look()
        except Exception:  # the screen is not mounted yet, or is changing
            seen = None
        self.frames.append(Frame(at, seen, len(data)))

    def first(self, where: Callable[[Any], bool], *, after: float) -> Frame | None:
        """The first frame painted after ``after`` whose ``seen`` satisfies ``where``."""
        for frame in self.frames[bisect.bisect_left(self.frames, after, key=lambda f: f.at) :]:
            if where(frame.seen):
                return frame
        return None

    async def wait(self, where: Callable[[Any], bool], *, after: float, timeout: float = 10.0) -> float:
        """The moment of the first frame after ``after`` showing ``where``; waits for it to be painted."""
        deadline = now() + timeout
        while True:
            frame = self.first(where, after=after)
            if frame is not None:
                return frame.at
            if now() > deadline:
                last = self.frames[-1].seen if self.frames else "no frame at all"
                raise RunFailed(f"no frame showed the change within {timeout:g} s; the last showed {last!r}")
            await asyncio.sleep(0.001)


PROBE = r"""
import sys, time
late = []
end = time.monotonic() + float(sys.argv[1])
while time.monotonic() < end and not sys.stdin.closed:
    start = time.monotonic()
    time.sleep(0.01)
    late.append((time.monotonic() - start - 0.01) * 1000)
    if len(late) % 50 == 0:
        print(" ".join(f"{x:.2f}" for x in late), flush=True)
        late = []
"""


class MachineProbe:
    """How late a process that only sleeps 10 ms at a time wakes up, while a benchmark runs.

    On a shared machine the slowest frames are often the machine's, not the program's: this is the
    reference for them. ``figures()`` gives ``machine_wakeup_p50_ms`` / ``_p99_ms`` / ``_max_ms``.
    """

    def __enter__(self) -> MachineProbe:
        import subprocess

        self.process = subprocess.Popen(
            [sys.executable, "-c", PROBE, "86400"], stdout=subprocess.PIPE, stdin=subprocess.PIPE, text=True
        )
        return self

    def __exit__(self, *exc: object) -> None:
        self.process.kill()
        out, _ = self.process.communicate(timeout=10)
        self.late = [float(x) for x in out.split()]

    def figures(self) -> dict[str, Any]:
        late = self.late or [math.nan]
        return {
            "machine_wakeup_p50_ms": round(percentile(late, 50), 2),
            "machine_wakeup_p99_ms": round(percentile(late, 99), 2),
            "machine_wakeup_max_ms": round(max(late), 2),
        }


def describe_machine() -> dict[str, Any]:
    """The load the machine was under: benchmarks on a shared machine say so beside their figures."""
    import os

    try:
        load1, _, _ = os.getloadavg()
    except OSError:
        load1 = math.nan
    return {"cpus": os.cpu_count(), "load_1min": round(load1, 2), "python": sys.version.split()[0]}
