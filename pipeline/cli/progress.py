"""Watching a send: a rich progress bar on a terminal, a log line now and then otherwise."""

from __future__ import annotations

import time
from collections import Counter
from types import TracebackType
from typing import Self

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
)


class _LiveBar:
    """A rich bar while on a terminal (``bar``; None elsewhere), shown for a ``with`` block."""

    bar: Progress | None

    def __enter__(self) -> Self:
        if self.bar is not None:
            self.bar.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self.bar is not None:
            self.bar.stop()


class SendProgress(_LiveBar):
    """Call the instance with the running outcome counts after each batch."""

    def __init__(self, console: Console, label: str, total: int, *, interval: float) -> None:
        self.console = console
        self.label = label
        self.total = total
        self.interval = interval
        self.started = time.monotonic()
        self.last_line = self.started
        self.bar: Progress | None = None
        if console.is_terminal:
            self.bar = Progress(
                TextColumn("sending {task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[rate]:.0f}/s"),
                TimeRemainingColumn(),
                console=console,
            )
            self.task = self.bar.add_task(label, total=total or None, rate=0.0)

    def __call__(self, outcome: Counter[str]) -> None:
        done = outcome["sent"] + outcome["failed"]
        now = time.monotonic()
        rate = done / max(now - self.started, 1e-9)
        if self.bar is not None:
            self.bar.update(self.task, completed=done, rate=rate)
            return
        if now - self.last_line < self.interval:
            return
        self.last_line = now
        left = max(self.total - done, 0)
        eta = f", about {left / rate:.0f}s left" if rate > 0 and self.total else ""
        self.console.print(
            f"{self.label}: sent {outcome['sent']}, failed {outcome['failed']} "
            f"of {self.total} ({rate:.0f}/s{eta})",
            markup=False,
        )


class ReadProgress(_LiveBar):
    """Reading a large import file: a bar by bytes on a terminal, a line now and then otherwise.

    Call the instance with the bytes read so far and the rows seen.
    """

    def __init__(self, console: Console, label: str, total: int, *, interval: float) -> None:
        self.console = console
        self.label = label
        self.total = total
        self.interval = interval
        self.last_line = time.monotonic()
        self.bar: Progress | None = None
        if console.is_terminal:
            self.bar = Progress(
                TextColumn("reading {task.description}"),
                BarColumn(),
                TextColumn("{task.fields[rows]} rows"),
                TimeRemainingColumn(),
                console=console,
            )
            self.task = self.bar.add_task(label, total=total or None, rows=0)

    def __call__(self, done: int, rows: int) -> None:
        if self.bar is not None:
            self.bar.update(self.task, completed=done, rows=rows)
            return
        now = time.monotonic()
        if now - self.last_line < self.interval:
            return
        self.last_line = now
        share = f" ({100 * done // self.total}%)" if self.total else ""
        self.console.print(f"{self.label}: {rows} rows read{share}", markup=False)
