"""Checks an issue must pass before it is sent; each returns plain-language problems."""

from __future__ import annotations

import re
from dataclasses import dataclass
from html import unescape
from html.parser import HTMLParser
from urllib.parse import urlsplit

from sqlalchemy import or_, select
from sqlalchemy.orm import object_session

from pipeline.content.models import JobListing
from pipeline.errors import IssueError
from pipeline.issues.assemble import PREHEADER_MAX, SUBJECT_MAX
from pipeline.issues.links import direct_values, links_from_json
from pipeline.issues.markdown import strip_controls
from pipeline.issues.merge import MergeTemplate, html_values
from pipeline.issues.mjml_check import mjml_warnings
from pipeline.issues.models import Issue, IssueVariant
from pipeline.issues.plaintext import TEXT_WIDTH
from pipeline.issues.render import compile_mjml
from pipeline.issues.view import view_from_json
from pulse_core.database import utcnow

GMAIL_CLIP_BYTES = 102 * 1024
# Jinja2 and MJML syntax that should never survive rendering.
_TEMPLATE_SYNTAX = re.compile(r"\{\{|\}\}|\{%|%\}|\{#|#\}|</?mj-[a-z]|%%pulse:")
LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")


@dataclass(frozen=True)
class LintConfig:
    """What lint needs to know: the site's base URL and the postal address readers see."""

    base_url: str
    postal_address: str
    # The example address shipped in the defaults: an issue carrying it must not go out.
    placeholder_address: str = ""


def sample_values(config: LintConfig) -> dict[str, str]:
    """Merge values as long as real ones, so size and link checks see the real thing."""
    token = "x" * 96
    return {
        "unsubscribe_url": f"{config.base_url}/u/{token}",
        "preferences_url": f"{config.base_url}/preferences/{token}",
        "first_name": "Alexandra",
        "open_url": f"{config.base_url}/o/{token}.gif",
        "referral_url": f"{config.base_url}/?ref={'x' * 12}",
    }


class _Links(HTMLParser):
    """Collects links and images from compiled HTML."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.hrefs: list[str] = []
        self.images_without_alt: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag in ("a", "area") and values.get("href") is not None:
            self.hrefs.append(values["href"] or "")
        if tag == "img" and values.get("alt") is None:
            self.images_without_alt.append(values.get("src") or "(no src)")


def is_local_base(url: str, config: LintConfig) -> bool:
    """Links into a local-development base URL are allowed to be plain http."""
    base = urlsplit(config.base_url)
    return base.hostname in LOCAL_HOSTS and url.startswith(config.base_url + "/")


def link_problem(url: str, config: LintConfig) -> str | None:
    if url.startswith("mailto:"):
        return None
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return None
    if is_local_base(url, config):
        return None
    return f"link is not an absolute https URL: {url[:120]}"


def _syntax_problems(label: str, body: str) -> list[str]:
    match = _TEMPLATE_SYNTAX.search(body)
    if match is None:
        return []
    around = body[max(match.start() - 20, 0) : match.end() + 20].replace("\n", " ")
    return [f"{label} contains unrendered template syntax near {around!r}"]


def _text_problems(text: str) -> list[str]:
    problems = []
    for number, line in enumerate(text.splitlines(), start=1):
        if len(line) <= TEXT_WIDTH:
            continue
        # Only a link may push a line past 78 columns: breaking it would break the link.
        longest_link = max((len(w) for w in line.split() if "://" in w), default=0)
        if len(line) - longest_link > TEXT_WIDTH:
            problems.append(f"text line {number} is {len(line)} characters (max {TEXT_WIDTH})")
    return problems


def lint_issue(issue: Issue, config: LintConfig) -> list[str]:
    """Every reason the issue must not go out; an empty list means it is clean."""
    problems: list[str] = []
    if len(issue.subject) > SUBJECT_MAX:
        problems.append(f"subject is {len(issue.subject)} characters (max {SUBJECT_MAX})")
    if "{{" in issue.subject or "}}" in issue.subject:
        # Template markers: SES renders the subject as a template and silently drops the
        # message when it cannot ("Rendering Failure"); other providers would show them.
        problems.append("subject contains a template marker ({{ or }})")
    if len(issue.preheader) > PREHEADER_MAX:
        problems.append(f"preheader is {len(issue.preheader)} characters (max {PREHEADER_MAX})")
    default = body_problems(issue.mjml, issue.html, issue.text, issue.links_json, config)
    problems += default
    for variant in _variants_of(issue):
        found = body_problems(variant.mjml, variant.html, variant.text, issue.links_json, config)
        # A problem the default has too (the postal address, say) is said once.
        problems += [f"variant {variant.key}: {p}" for p in found if p not in default]
    problems += closed_job_problems(issue)
    return problems


def _variants_of(issue: Issue) -> list[IssueVariant]:
    """A stored issue's tailored variants: each is mailed, so each is linted."""
    session = object_session(issue)
    if session is None or issue.id is None:
        return []
    query = select(IssueVariant).where(IssueVariant.issue_id == issue.id)
    return list(session.scalars(query.order_by(IssueVariant.rank)))


def body_problems(
    mjml: str, raw_html: str, raw_text: str, links_json: str | None, config: LintConfig
) -> list[str]:
    """What is wrong with one rendered body (the default issue's or a variant's)."""
    problems: list[str] = []
    try:
        compile_mjml(mjml)
    except IssueError as err:
        problems.append(str(err))
    problems += mjml_warnings(mjml)
    try:
        html_template = MergeTemplate.parse(raw_html)
        text_template = MergeTemplate.parse(raw_text)
    except ValueError as err:
        return [*problems, f"issue has an unknown merge field: {err}"]
    for label, template in (("HTML", html_template), ("text part", text_template)):
        if "unsubscribe_url" not in template.fields:
            problems.append(f"{label} has no unsubscribe link")
    # Tracked links are checked where they lead: the reader's click URL only redirects there.
    values = {**sample_values(config), **direct_values(links_from_json(links_json))}
    html = html_template.merge(html_values(values))
    text = text_template.merge(values)
    size = len(html.encode("utf-8"))
    if size >= GMAIL_CLIP_BYTES:
        problems.append(f"HTML is {size / 1024:.1f} KB; Gmail clips messages from 102 KB")
    problems += _syntax_problems("HTML", html) + _syntax_problems("text part", text)
    links = _Links()
    links.feed(html)
    links.close()
    for url in dict.fromkeys(links.hrefs):
        problem = link_problem(url, config)
        if problem:
            problems.append(problem)
        elif url not in text:
            problems.append(f"text part lacks the link {url[:120]}")
    problems += [f"image without alt text: {src[:120]}" for src in links.images_without_alt]
    problems += _postal_problems(html, text, config)
    problems += _text_problems(text)
    return problems


def closed_job_problems(issue: Issue) -> list[str]:
    """Listings in a stored issue whose job has closed or expired since it was built."""
    session = object_session(issue)
    if session is None or not issue.view_json:
        return []  # a candidate issue: assembly already left closed jobs out
    urls = [job.url for job in view_from_json(issue.view_json).jobs]
    if not urls:
        return []
    today = utcnow().date()
    closed = session.scalars(
        select(JobListing)
        .where(JobListing.url.in_(urls))
        .where(or_(JobListing.closed_on.is_not(None), JobListing.expires_on < today))
        .order_by(JobListing.id)
    )
    return [
        f"lists a job that is no longer live: {job.company} — {job.title} ({job.url[:120]}); "
        "rebuild with `pulse issue build --rebuild`"
        for job in closed
    ]


def _postal_problems(html: str, text: str, config: LintConfig) -> list[str]:
    address = " ".join(strip_controls(config.postal_address).split())
    placeholder = " ".join(config.placeholder_address.split())
    if not address or address == placeholder:
        return [
            "postal address is the placeholder; set PULSE_POSTAL_ADDRESS to your mailing "
            'address (CAN-SPAM), e.g. a line PULSE_POSTAL_ADDRESS="…" in .env '
            "(`pulse demo` stands in an example one for its own send)"
        ]
    problems = []
    if address not in " ".join(unescape(html).split()):
        problems.append("HTML lacks the postal address")
    if address not in " ".join(text.split()):
        problems.append("text part lacks the postal address")
    return problems
