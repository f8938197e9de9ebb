"""Real ``pulse`` processes for the scale benchmarks, each with its own peak memory and CPU.

Each child is reaped with ``os.wait4``, which returns that child's own CPU seconds (not the
sum over every child, as ``RUSAGE_CHILDREN`` is); its peak memory it writes itself as it
exits (``_peak.py``: its own VmHWM, which fork and exec do not inherit from this process).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from _common import ROOT

PULSE = [sys.executable, str(ROOT / "bench" / "_peak.py")]


@dataclass
class Finished:
    """One child's end: exit code, output, peak memory, CPU and when it ended (Unix time)."""

    name: str
    returncode: int
    stdout: str
    stderr: str
    peak_mb: float
    cpu_seconds: float
    ended_at: float


@dataclass
class Child:
    name: str
    popen: subprocess.Popen[bytes]
    out: tempfile._TemporaryFileWrapper[bytes]
    err: tempfile._TemporaryFileWrapper[bytes]
    peak: Path
    result: list[Finished] = field(default_factory=list)
    reaper: threading.Thread | None = None

    def reap(self) -> None:
        _pid, status, usage = os.wait4(self.popen.pid, 0)
        ended = time.time()
        self.popen.returncode = os.waitstatus_to_exitcode(status)
        self.out.seek(0)
        self.err.seek(0)
        self.result.append(
            Finished(
                name=self.name,
                returncode=self.popen.returncode,
                stdout=self.out.read().decode(errors="replace"),
                stderr=self.err.read().decode(errors="replace"),
                peak_mb=int(self.peak.read_text() or 0) / 1024 if self.peak.exists() else 0.0,
                cpu_seconds=usage.ru_utime + usage.ru_stime,
                ended_at=ended,
            )
        )


def start(name: str, args: list[str], env: dict[str, str]) -> Child:
    """Start ``pulse ARGS`` with ``env``; its output goes to temporary files."""
    out = tempfile.NamedTemporaryFile(prefix=f"{name}-", suffix=".out")  # noqa: SIM115
    err = tempfile.NamedTemporaryFile(prefix=f"{name}-", suffix=".err")  # noqa: SIM115
    peak = Path(tempfile.mkdtemp(prefix="pulse-peak-")) / name
    env = env | {"BENCH_PEAK_FILE": str(peak)}
    popen = subprocess.Popen([*PULSE, *args], cwd=ROOT, env=env, stdout=out, stderr=err)
    child = Child(name, popen, out, err, peak)
    child.reaper = threading.Thread(target=child.reap, daemon=True)
    child.reaper.start()
    return child


def finish(children: list[Child], timeout: float = 3600) -> list[Finished]:
    """Wait for every child; each one's :class:`Finished`, in order."""
    deadline = time.monotonic() + timeout
    for child in children:
        assert child.reaper is not None
        child.reaper.join(max(0.0, deadline - time.monotonic()))
        if child.reaper.is_alive():
            child.popen.kill()
            child.reaper.join()
        child.out.close()
        child.err.close()
    return [child.result[0] for child in children]


def child_env(base: dict[str, str]) -> dict[str, str]:
    """This environment without any PULSE_* setting of the caller's, plus ``base``."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("PULSE_")}
    return env | base
