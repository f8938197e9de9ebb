"""Exponential backoff with jitter, never shorter than the provider's own hint."""

from __future__ import annotations

import random


def backoff_delay(
    attempt: int,
    *,
    base: float,
    cap: float,
    hint: float | None = None,
    rng: random.Random | None = None,
) -> float:
    """Seconds to wait before retry number ``attempt`` (0 for the first retry).

    Jitter (a uniform draw between half and all of the exponential bound) spreads workers'
    retries apart; a ``Retry-After`` / ``X-RateLimit-Reset`` hint is a floor, since sending
    earlier would only be refused again.
    """
    bound = min(cap, base * (2**attempt))
    delay = (rng or random).uniform(bound / 2, bound)
    if hint is not None:
        delay = max(delay, hint)
    return delay
