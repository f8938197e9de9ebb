"""Jinja2 → MJML → HTML, once per issue, plus the plain-text part from the same view."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import mjml
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from pipeline.errors import IssueError
from pipeline.issues.merge import MERGE_FIELDS, MergeTemplate, placeholder
from pipeline.issues.view import IssueView, SalaryTable

TEMPLATES_DIR = Path(__file__).resolve().parent.parent.parent / "templates"
TEXT_WIDTH = 78


@dataclass(frozen=True)
class Footer:
    """What every email's footer needs besides the per-recipient links."""

    base_url: str
    postal_address: str
    reason: str = (
        "You get this email because you subscribed to AISE Pulse Brief, weekly career "
        "intelligence for AI Sales Engineers."
    )


@dataclass(frozen=True)
class RenderedIssue:
    """An issue compiled once; ``html`` and ``text`` still hold merge placeholders."""

    mjml: str
    html: str
    text: str

    def html_template(self) -> MergeTemplate:
        return MergeTemplate.parse(self.html)

    def text_template(self) -> MergeTemplate:
        return MergeTemplate.parse(self.text)


def wrap_text(value: str, width: int = TEXT_WIDTH, indent: str = "") -> str:
    """Wrap each paragraph to ``width``; long unbreakable words such as URLs stay whole."""
    paragraphs = str(value).split("\n")
    wrapped = [
        textwrap.fill(
            paragraph,
            width=width,
            initial_indent=indent,
            subsequent_indent=indent,
            break_long_words=False,
            break_on_hyphens=False,
        )
        if paragraph.strip()
        else ""
        for paragraph in paragraphs
    ]
    return "\n".join(wrapped)


def salary_text(table: SalaryTable) -> str:
    """A salary table as aligned plain-text columns."""
    rows = [list(table.columns)]
    rows += [[row.level, *(f"{c.text} {c.trend}".strip() for c in row.cells)] for row in table.rows]
    widths = [max(len(row[i]) for row in rows) for i in range(len(table.columns))]
    lines = [
        "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in rows
    ]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


@lru_cache(maxsize=4)
def environment(templates_dir: Path = TEMPLATES_DIR) -> Environment:
    """The Jinja2 environment: autoescape on for markup templates, strict undefined."""
    env = Environment(
        loader=FileSystemLoader(str(templates_dir)),
        autoescape=select_autoescape(enabled_extensions=("html", "mjml", "xml")),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["wrap"] = wrap_text
    env.filters["safe_html"] = Markup
    env.filters["salary_text"] = salary_text
    return env


def _context(view: IssueView, footer: Footer) -> dict[str, Any]:
    return {
        "issue": view,
        "footer": footer,
        "web_url": f"{footer.base_url}/issues/{view.week_key}",
        "merge": {name: placeholder(name) for name in MERGE_FIELDS},
    }


def compile_mjml(source: str) -> str:
    """Compile MJML to HTML, turning the compiler's complaint into an :class:`IssueError`."""
    try:
        compiled: str = mjml.mjml2html(source)
    except Exception as err:  # the binding raises plain exceptions with MRML's message
        raise IssueError(f"MJML did not compile: {err}") from err
    return compiled


def render_issue_once(view: IssueView, footer: Footer) -> RenderedIssue:
    """Render the issue's MJML, compile it to HTML once, and write the text part."""
    env = environment()
    context = _context(view, footer)
    mjml_source = env.get_template("email/issue.mjml").render(context)
    html = compile_mjml(mjml_source)
    text = env.get_template("email/issue.txt").render(context)
    return RenderedIssue(mjml=mjml_source, html=html, text=text)
