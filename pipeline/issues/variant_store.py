"""Rendering an issue's variants once each at build, storing them, and reading them back.

The build counts readers per profile (one GROUP BY over the list), plans the variants
(variants.py), tailors and renders each once, and stores them in ``issue_variants``. The
send reads them back as templates (:func:`variant_bodies`); no reader's copy is ever
rendered on its own.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from pipeline.content.models import Snippet
from pipeline.issues.assemble import Assembly
from pipeline.issues.links import LinkRegistry
from pipeline.issues.models import IssueVariant
from pipeline.issues.render import Footer, RenderedIssue, render_issue_once
from pipeline.issues.tailor import relevance_of, tailor
from pipeline.issues.variants import (
    ProfileTriple,
    Variant,
    VariantKey,
    VariantPlan,
    plan_variants,
)
from subscribers.models import Subscriber, SubscriberStatus


@dataclass(frozen=True)
class RenderedVariant:
    """One variant rendered, and the snippets it shows."""

    variant: Variant
    rendered: RenderedIssue
    snippets: tuple[Snippet, ...]


@dataclass(frozen=True)
class VariantBody:
    """A stored variant's compiled HTML and text, still holding merge placeholders."""

    html: str
    text: str


def count_readers(session: Session) -> dict[ProfileTriple, int]:
    """Active readers per (role, level, region): a handful of groups however long the list."""
    query = (
        select(Subscriber.role, Subscriber.level, Subscriber.region, func.count())
        .where(Subscriber.status == SubscriberStatus.ACTIVE)
        .group_by(Subscriber.role, Subscriber.level, Subscriber.region)
    )
    return {(role, level, region): int(n) for role, level, region, n in session.execute(query)}


def render_variants(
    session: Session, assembly: Assembly, footer: Footer, links: LinkRegistry, limit: int
) -> tuple[VariantPlan, list[RenderedVariant]]:
    """Plan this week's variants and render each once (after the default, sharing ``links``)."""
    plan = plan_variants(count_readers(session), relevance_of(assembly), limit)
    rendered = []
    for variant in plan.variants:
        tailored = tailor(assembly, variant.key)
        output = render_issue_once(
            tailored.view, footer, tailoring=tailored.tailoring, links=links
        )
        rendered.append(RenderedVariant(variant, output, tailored.snippets))
    return plan, rendered


def store_variants(session: Session, issue_id: int, rendered: list[RenderedVariant]) -> None:
    """Replace the issue's stored variants (a rebuild re-plans them from scratch)."""
    session.execute(delete(IssueVariant).where(IssueVariant.issue_id == issue_id))
    for item in rendered:
        key = item.variant.key
        session.add(
            IssueVariant(
                issue_id=issue_id,
                key=key.text,
                level=key.level,
                region=key.region,
                role=key.role,
                rank=item.variant.rank,
                readers=item.variant.readers,
                mjml=item.rendered.mjml,
                html=item.rendered.html,
                text=item.rendered.text,
            )
        )
    session.flush()


def stored_variants(session: Session, issue_id: int) -> list[IssueVariant]:
    """The issue's variants in rank order (the order readers are matched in)."""
    query = select(IssueVariant).where(IssueVariant.issue_id == issue_id)
    return list(session.scalars(query.order_by(IssueVariant.rank)))


def stored_plan(session: Session, issue_id: int, default_readers: int = 0) -> VariantPlan:
    """The stored variants as a plan, to match a profile the way deliveries are matched."""
    return VariantPlan(
        variants=tuple(
            Variant(VariantKey(row.level, row.region, row.role), row.rank, row.readers)
            for row in stored_variants(session, issue_id)
        ),
        default_readers=default_readers,
    )


def variant_bodies(session: Session, issue_id: int) -> dict[str, VariantBody]:
    """Each stored variant's templates by key, for the send (the default is the issue's own)."""
    rows = session.execute(
        select(IssueVariant.key, IssueVariant.html, IssueVariant.text).where(
            IssueVariant.issue_id == issue_id
        )
    ).all()
    return {key: VariantBody(html, text) for key, html, text in rows}

