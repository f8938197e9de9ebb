"""The circuit breaker: pause a send whose bounce or complaint rate says something is wrong.

Rates are measured over this issue's messages the provider accepted, from the events the
webhooks recorded (``provider_events`` rows matched to this issue's deliveries, counted by
the events side and read through the send store's ``health``). A minimum number of sent
messages keeps one early bounce from stopping a send.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class BreakerThresholds:
    """When to pause: rates are fractions (0.05 = 5%)."""

    hard_bounce_rate: float = 0.05
    complaint_rate: float = 0.001
    min_sent: int = 100


@dataclass(frozen=True)
class EventFigures:
    """What the webhooks reported about one issue: distinct deliveries affected.

    Counted on the events side (``pipeline.events.send_health``), which imports delivery and
    not the other way round; the send store is handed the function that counts them.
    """

    hard_bounces: int = 0
    complaints: int = 0


@dataclass(frozen=True)
class SendHealth:
    """Messages the provider accepted so far, and how many of them went wrong."""

    sent: int
    hard_bounces: int
    complaints: int


def sent_that_matters(figures: EventFigures, limits: BreakerThresholds) -> int:
    """How far the sent messages need counting to judge ``figures`` against ``limits``.

    A rate is above its threshold only while ``sent < bad / threshold``; beyond that (and
    beyond ``min_sent``) more sent messages change nothing. Counting every sent row of a
    million-recipient send once a second would cost more with every message sent; counting
    up to this bound costs as much as the bounces make it (nothing while there are none).
    """
    bound = limits.min_sent
    if figures.hard_bounces:
        bound = max(bound, math.floor(figures.hard_bounces / limits.hard_bounce_rate) + 1)
    if figures.complaints:
        bound = max(bound, math.floor(figures.complaints / limits.complaint_rate) + 1)
    return bound


def trip_reason(health: SendHealth, limits: BreakerThresholds) -> str | None:
    """Why the send must pause, or None while the rates are healthy."""
    if health.sent < limits.min_sent:
        return None
    bounce_rate = health.hard_bounces / health.sent
    if bounce_rate > limits.hard_bounce_rate:
        return (
            f"hard bounce rate {bounce_rate:.1%} ({health.hard_bounces} of {health.sent} sent) "
            f"is above {limits.hard_bounce_rate:.1%}; check the list's quality, then "
            "`pulse issue resume`"
        )
    complaint_rate = health.complaints / health.sent
    if complaint_rate > limits.complaint_rate:
        return (
            f"complaint rate {complaint_rate:.2%} ({health.complaints} of {health.sent} sent) "
            f"is above {limits.complaint_rate:.2%}; check the content and consent, then "
            "`pulse issue resume`"
        )
    return None
