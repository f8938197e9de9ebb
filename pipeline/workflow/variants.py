"""An issue's tailored variants for people: which exist, who gets them, what a profile gets.

Shared by ``pulse issue variants``, ``pulse issue preview --variant`` and the desk's
preview picker, so all three read the variants and match a profile the same way the send
does (pipeline/issues/variants.py).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pipeline.delivery.models import Delivery
from pipeline.issues.build import get_issue
from pipeline.issues.models import Issue
from pipeline.issues.variant_store import count_readers, stored_plan
from pipeline.issues.variants import DEFAULT_KEY, VariantKey, parse_variant
from pipeline.wiring import Pulse
from pulse_core.database import transaction


@dataclass(frozen=True)
class VariantLine:
    """One variant of an issue: its key, the active readers it matches now, deliveries so far."""

    key: VariantKey
    readers: int
    deliveries: int | None  # None before the send created any


@dataclass(frozen=True)
class Resolved:
    """The variant a profile asked about gets (a coarser one, or the default, if its own
    did not make the cut)."""

    asked: VariantKey
    got: VariantKey


def variant_lines(pulse: Pulse, week: str) -> tuple[Issue, list[VariantLine]]:
    """The default first, then each variant in the order readers are matched to them."""
    with transaction(pulse.db.sessions) as session:
        issue = get_issue(session, week)
        counts = dict(
            session.execute(
                select(Delivery.variant, func.count())
                .where(Delivery.issue_id == issue.id)
                .group_by(Delivery.variant)
            ).all()
        )
        plan = stored_plan(session, issue.id)
        readers: Counter[VariantKey] = Counter()
        for (role, level, region), count in count_readers(session).items():
            readers[plan.variant_for(role, level, region)] += count
    sent = bool(counts)
    keys = [DEFAULT_KEY, *(variant.key for variant in plan.variants)]
    lines = [
        VariantLine(key, readers[key], int(counts.get(key.stored, 0)) if sent else None)
        for key in keys
    ]
    return issue, lines


def resolve_variant(session: Session, issue: Issue, raw: str) -> Resolved:
    """What a reader with the profile ``raw`` (``level=senior,region=US``) gets of ``issue``."""
    asked = parse_variant(raw)
    plan = stored_plan(session, issue.id)
    return Resolved(asked, plan.variant_for(asked.role, asked.level, asked.region))
