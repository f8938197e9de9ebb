"""Waiting on a real server's work after its answer (no clock seam reaches another thread)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def eventually(
    probe: Callable[[], T], *, timeout: float = 20.0, poll: float = 0.05, what: str = "it"
) -> T:
    """``probe()``'s first truthy value, polling until ``timeout``; fails naming ``what``.

    For work a live server does after it has answered (the signup mail is sent after the
    response), where only real time passes.
    """
    deadline = time.monotonic() + timeout
    while True:
        found = probe()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {timeout:g} s")
        time.sleep(poll)
