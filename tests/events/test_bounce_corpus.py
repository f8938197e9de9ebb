"""Bounces from many MTAs: the mailbox parser against a corpus of real-world messages."""

from __future__ import annotations

import json
from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest

from pipeline.events.mailbox import parse_message
from pipeline.events.models import BounceKind, EventType
from pipeline.events.normalised import NormalisedEvent
from subscribers.tokens import TokenSigner

CORPUS = Path(__file__).parent / "bounces"
EXPECTED: dict[str, dict[str, list[str]]] = json.loads(
    (CORPUS / "expected.json").read_text(encoding="utf-8")
)
SIGNER = TokenSigner(["corpus-key"], "aise-pulse-brief.example.com")


def events_of(name: str) -> list[NormalisedEvent]:
    raw = (CORPUS / name).read_bytes()
    message = BytesParser(policy=policy.compat32).parsebytes(raw)
    events, _why_not = parse_message(message, raw, SIGNER)
    return events


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_bounce_names_exactly_its_failed_recipients(name: str) -> None:
    expected = EXPECTED[name]
    permanent = {a.lower() for a in expected["permanent"]}
    delayed = {a.lower() for a in expected["temporary"]}
    events = events_of(name)
    bounced = {e.recipient.lower() for e in events if e.recipient and e.type is EventType.BOUNCED}
    deferred = {e.recipient.lower() for e in events if e.recipient and e.type is EventType.DEFERRED}
    assert bounced == permanent  # every permanent failure, and no one else
    assert deferred <= delayed  # a warning is never taken for a bounce
    assert not (bounced & delayed)
    assert all(e.needs_proof for e in events)  # nobody is suppressed on the report's word


def test_the_whole_corpus_is_recognised() -> None:
    """The figure the issue measured: 2 of 122 before, all of them now."""
    found = wanted = 0
    for name, expected in EXPECTED.items():
        permanent = {a.lower() for a in expected["permanent"]}
        wanted += len(permanent)
        found += len(
            {
                e.recipient.lower()
                for e in events_of(name)
                if e.recipient and e.type is EventType.BOUNCED
            }
            & permanent
        )
    assert wanted == 122
    assert found == wanted


def test_dsn_status_codes_decide_hard_or_soft() -> None:
    # dsn_01 is a 5.x.x failure from a Sendmail DSN.
    [event] = events_of("dsn_01.txt")
    assert event.bounce_kind is BounceKind.HARD and event.detail and event.detail.startswith("5.")
