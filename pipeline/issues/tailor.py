"""One variant's view of the week: the default view re-ordered and marked for its readers.

What a variant changes (pipeline/issues/variants.py says which variants exist):

- Salary Pulse: the reader's level row is marked "your level"; tables of the reader's
  region come first, marked "your region".
- Who's Hiring: jobs in the reader's region come first; the rest keep their order.
- Snippets an editor aimed at roles appear only in the variants of those roles (the
  default issue shows untargeted snippets only).

Subject and preheader are the issue's own in every variant.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from pipeline.content.models import Snippet
from pipeline.content.queue import target_roles_of
from pipeline.issues.assemble import Assembly, section_views
from pipeline.issues.variants import Relevance, VariantKey
from pipeline.issues.view import IssueView
from subscribers.profile import LEVEL_LABELS, REGIONS, ROLES


@dataclass(frozen=True)
class Tailoring:
    """What the templates mark for a variant's readers (``None`` in the default issue)."""

    level: str | None = None  # the level as the salary rows spell it, e.g. "Senior"
    region: str | None = None  # ISO code
    region_name: str | None = None
    region_tables: frozenset[str] = frozenset()  # keys of the tables in the reader's region
    region_jobs: int = 0  # how many jobs listed first are in the reader's region
    role_name: str | None = None  # set when the variant shows snippets aimed at a role

    @property
    def summary(self) -> str:
        """``Senior · United Kingdom``: what the footer says the copy is tailored to."""
        return " · ".join(p for p in (self.role_name, self.level, self.region_name) if p)


@dataclass(frozen=True)
class TailoredView:
    """A variant's view, its marks, and the snippets it shows."""

    view: IssueView
    tailoring: Tailoring
    snippets: tuple[Snippet, ...]


def relevance_of(assembly: Assembly) -> Relevance:
    """The profile values that change this week's content (rule 1 of variants.py)."""
    labels = {row.level for table in assembly.view.salary_tables for row in table.rows}
    found = (*assembly.table_regions, *assembly.job_regions)
    regions = {region for region in found if region is not None and region in REGIONS}
    roles = {role for s in assembly.available for role in target_roles_of(s)}
    return Relevance(
        levels=frozenset(code for code, label in LEVEL_LABELS.items() if label in labels),
        regions=frozenset(regions),
        roles=frozenset(roles),
    )


def tailor(assembly: Assembly, key: VariantKey) -> TailoredView:
    """The view readers of ``key`` get; the default key gives the default view unchanged."""
    view = assembly.view
    snippets = assembly.snippets
    if key.role is not None:
        sections, snippets = section_views(assembly.available, assembly.rules, key.role)
        view = replace(view, sections=sections)
    region_tables: frozenset[str] = frozenset()
    region_jobs = 0
    if key.region is not None:
        tables = list(zip(view.salary_tables, assembly.table_regions, strict=True))
        mine = [table for table, region in tables if region == key.region]
        others = [table for table, region in tables if region != key.region]
        jobs = list(zip(view.jobs, assembly.job_regions, strict=True))
        local = [job for job, region in jobs if region == key.region]
        elsewhere = [job for job, region in jobs if region != key.region]
        view = replace(view, salary_tables=(*mine, *others), jobs=(*local, *elsewhere))
        region_tables = frozenset(table.key for table in mine)
        region_jobs = len(local)
    tailoring = Tailoring(
        level=LEVEL_LABELS[key.level] if key.level is not None else None,
        region=key.region,
        region_name=REGIONS[key.region] if key.region is not None else None,
        region_tables=region_tables,
        region_jobs=region_jobs,
        role_name=ROLES[key.role] if key.role is not None else None,
    )
    return TailoredView(view, tailoring, tuple(snippets))
