"""Jinja2 → MJML → HTML, once per issue, plus the plain-text part from the same view."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import mjml
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from pipeline.errors import IssueError
from pipeline.issues.links import LinkRegistry, TrackedLink
from pipeline.issues.markdown import strip_controls
from pipeline.issues.merge import MERGE_FIELDS, MergeTemplate, placeholder
from pipeline.issues.plaintext import salary_text, wrap_text
from pipeline.issues.view import IssueView
from pipeline.resources import templates_dir

__all__ = [
    "Footer",
    "RenderedIssue",
    "compile_mjml",
    "environment",
    "render_issue_once",
]

@dataclass(frozen=True)
class Footer:
    """What every email's footer needs besides the per-recipient links."""

    base_url: str
    postal_address: str
    # PULSE_TRACK_CLICKS: links become per-recipient click URLs and the footer says so.
    track_clicks: bool = False
    # PULSE_TRACK_OPENS: a 1×1 pixel per recipient (machine opens are flagged, see analytics).
    track_opens: bool = False
    # Each reader's personal referral link (subscribers.referrals) in the footer.
    referral_link: bool = False
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
    links: tuple[TrackedLink, ...] = ()

    def html_template(self) -> MergeTemplate:
        return MergeTemplate.parse(self.html)

    def text_template(self) -> MergeTemplate:
        return MergeTemplate.parse(self.text)


def _trusted_html(value: str) -> Markup:
    """Mark HTML as safe; only for output of :func:`markdown_to_html` (already sanitised)."""
    return Markup(value)  # noqa: S704 - callers pass nh3-sanitised HTML only


def _clean_output(value: object) -> object:
    """Every value a template prints loses control characters (MJML's parser rejects some)."""
    if isinstance(value, Markup):
        return Markup(strip_controls(str(value)))  # noqa: S704 - stays as safe as it was
    if isinstance(value, str):
        return strip_controls(value)
    return value


def environment(folder: Path | None = None) -> Environment:
    """The Jinja2 environment for ``folder`` (default: the templates in use)."""
    return _environment(folder if folder is not None else templates_dir())


@lru_cache(maxsize=4)
def _environment(folder: Path) -> Environment:
    """Autoescape on for markup templates, strict undefined."""
    env = Environment(
        loader=FileSystemLoader(str(folder)),
        autoescape=select_autoescape(enabled_extensions=("html", "mjml", "xml")),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        finalize=_clean_output,
    )
    env.filters["wrap"] = wrap_text
    env.filters["safe_html"] = _trusted_html
    env.filters["salary_text"] = salary_text
    return env


def issue_url(base_url: str, week_key: str) -> str:
    return f"{base_url}/issues/{week_key}"


def _context(
    view: IssueView, footer: Footer, links: LinkRegistry, tailoring: object
) -> dict[str, Any]:
    return {
        "issue": view,
        "tailoring": tailoring,
        "footer": Footer(
            base_url=footer.base_url,
            postal_address=strip_controls(footer.postal_address),
            track_clicks=footer.track_clicks,
            track_opens=footer.track_opens,
            referral_link=footer.referral_link,
            reason=footer.reason,
        ),
        "track": links.track,
        "track_body": links.track_body,
        "decoy": links.decoy,
        "web_url": issue_url(footer.base_url, view.week_key),
        "merge": {name: placeholder(name) for name in MERGE_FIELDS},
    }


def compile_mjml(source: str) -> str:
    """Compile MJML to HTML, turning the compiler's complaint into an :class:`IssueError`."""
    try:
        compiled: str = mjml.mjml2html(source)
    except ValueError as err:  # the binding raises ValueError with MRML's message
        raise IssueError(f"MJML did not compile: {err}") from err
    return compiled


def render_issue_once(
    view: IssueView,
    footer: Footer,
    *,
    tailoring: object = None,
    links: LinkRegistry | None = None,
) -> RenderedIssue:
    """Render the issue's MJML, compile it to HTML once, and write the text part.

    A variant passes its ``tailoring`` (pipeline/issues/tailor.py; ``None`` renders the
    default issue) and the default's ``links`` registry, so a link every variant carries
    keeps one number and the issue's stored links cover every variant.
    """
    env = environment()
    links = links if links is not None else LinkRegistry(tracking=footer.track_clicks)
    context = _context(view, footer, links, tailoring)
    mjml_source = env.get_template("email/issue.mjml").render(context)
    html = compile_mjml(mjml_source)
    text = env.get_template("email/issue.txt").render(context)
    return RenderedIssue(mjml=mjml_source, html=html, text=text, links=links.links)
