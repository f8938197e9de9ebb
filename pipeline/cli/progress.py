"""Watching a send: a rich progress bar on a terminal, a log line now and then otherwise."""

from __future__ import annotations

import time
from collections import Counter
from types import TracebackType

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
)


class SendProgress:
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

    def __enter__(self) -> SendProgress:
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
