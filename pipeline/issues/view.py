"""What an issue says, independent of how it is rendered (the templates' input)."""

from __future__ import annotations

from dataclasses import dataclass, field

from pipeline.content.models import Section


@dataclass(frozen=True)
class Item:
    """One snippet as the reader sees it."""

    title: str
    body_html: str
    body_text: str
    link: str | None


@dataclass(frozen=True)
class SalaryCell:
    """A compensation range for one role at one level, or the reason it is not shown."""

    text: str
    trend: str = ""


@dataclass(frozen=True)
class SalaryRow:
    level: str
    cells: tuple[SalaryCell, ...]


@dataclass(frozen=True)
class SalaryTable:
    """A comparison such as "Level | AI SE total comp | MLE total comp"."""

    title: str
    columns: tuple[str, ...]
    rows: tuple[SalaryRow, ...]
    source: str


@dataclass(frozen=True)
class Job:
    company: str
    title: str
    where: str
    comp: str | None
    url: str


@dataclass(frozen=True)
class SectionView:
    section: Section
    title: str
    items: tuple[Item, ...] = ()


@dataclass(frozen=True)
class IssueView:
    """Everything the templates need to render one issue."""

    week_key: str
    number: int
    subject: str
    preheader: str
    sections: tuple[SectionView, ...]
    salary_tables: tuple[SalaryTable, ...] = ()
    jobs: tuple[Job, ...] = ()
    extra: dict[str, str] = field(default_factory=dict)
