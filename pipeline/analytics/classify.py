"""Human or machine: the rules, as one pure function over a delivery's clicks and opens.

Security gateways (Safe Links, Proofpoint, Mimecast…) fetch every link of a message seconds
after it arrives; Apple Mail Privacy Protection fetches every image. Each rule below names a
sign of that; a click or open showing any of them counts as a machine's, and the rule names
are kept as its reasons. The whole delivery is reclassified on every new click, because
later clicks can reveal earlier ones (a burst, a decoy hit).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

# A reader rarely opens and clicks within this many seconds of the message being sent.
FAST_SECONDS = 10.0
# This many different links of one delivery within one second is a program, not a hand.
BURST_LINKS = 3
BURST_SECONDS = 1.0
# Clicks this close to a click on the hidden decoy come from the same scanner pass.
DECOY_SECONDS = 60.0

# The rule names, as stored in ``engagements.reasons`` and shown on reports.
HEAD = "head-request"
PREFETCH = "prefetch"
AGENT = "machine-agent"
APPLE = "apple-privacy-proxy"
FAST = "seconds-after-delivery"
BURST = "same-second-burst"
DECOY = "decoy-link"
NEAR_DECOY = "near-decoy-click"
# A provider's own verdict on an open/click it reports (see analytics.provider_events).
PROVIDER_FLAGGED = "provider-flagged"
RULES = (HEAD, PREFETCH, AGENT, APPLE, FAST, BURST, DECOY, NEAR_DECOY, PROVIDER_FLAGGED)

MACHINE_AGENTS = ("empty", "program")


@dataclass(frozen=True)
class Fact:
    """What was recorded about one click or open (see ``Engagement``)."""

    at: datetime
    method: str
    prefetch: bool
    agent: str
    position: int | None  # None for an open
    decoy: bool = False


def classify(facts: Sequence[Fact], sent_at: datetime | None) -> list[tuple[str, ...]]:
    """The machine reasons for each fact, in order; an empty tuple means a human's."""
    verdicts: list[tuple[str, ...]] = []
    decoy_times = [f.at for f in facts if f.decoy]
    for fact in facts:
        reasons: list[str] = []
        if fact.method.upper() != "GET":
            reasons.append(HEAD)
        if fact.prefetch:
            reasons.append(PREFETCH)
        if fact.agent in MACHINE_AGENTS or fact.agent.startswith("scanner:"):
            reasons.append(AGENT)
        if fact.agent == "apple-mpp":
            reasons.append(APPLE)
        if sent_at is not None and (fact.at - sent_at).total_seconds() < FAST_SECONDS:
            reasons.append(FAST)
        if fact.position is not None and _in_burst(fact, facts):
            reasons.append(BURST)
        if fact.decoy:
            reasons.append(DECOY)
        elif any(abs((fact.at - t).total_seconds()) <= DECOY_SECONDS for t in decoy_times):
            reasons.append(NEAR_DECOY)
        verdicts.append(tuple(reasons))
    return verdicts


def _in_burst(fact: Fact, facts: Sequence[Fact]) -> bool:
    links = {
        other.position
        for other in facts
        if other.position is not None and abs((other.at - fact.at).total_seconds()) < BURST_SECONDS
    }
    return len(links) >= BURST_LINKS
