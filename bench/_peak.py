"""Run ``pulse`` and, as it exits, write its peak resident memory (VmHWM, kB) to a file.

``ru_maxrss`` of a child is no good here: Linux carries the parent's high-water mark into a
child across fork and exec, so every child of a big benchmark process would report at
least the parent's size. VmHWM belongs to the process's own address space, made at exec.

    BENCH_PEAK_FILE=/tmp/peak python bench/_peak.py issue send ...
"""

from __future__ import annotations

import atexit
import os
import sys
from pathlib import Path


def _write_peak() -> None:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            Path(os.environ["BENCH_PEAK_FILE"]).write_text(line.split()[1])


if __name__ == "__main__":
    atexit.register(_write_peak)
    sys.argv[0] = "pulse"
    from pipeline.cli import main

    main()
