"""Building a week's issue: assemble, render once, store; idempotent unless rebuilt."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from pipeline.content.models import JobListing, Snippet, SnippetStatus
from pipeline.errors import NotFoundError
from pipeline.issues.assemble import assemble
from pipeline.issues.links import LinkRegistry, TrackedLink, links_to_json
from pipeline.issues.models import Issue, IssueStatus
from pipeline.issues.render import Footer, RenderedIssue, render_issue_once
from pipeline.issues.slots import DEFAULT_RULES, IssueRules
from pipeline.issues.states import Decision, transition
from pipeline.issues.variant_store import render_variants, store_variants
from pipeline.issues.view import IssueView, view_to_json
from pulse_core.database import utcnow


@dataclass(frozen=True)
class BuildResult:
    issue: Issue
    created: bool


def find_issue(session: Session, week: str) -> Issue | None:
    """The week's stored issue, or None before it is built."""
    return session.scalar(select(Issue).where(Issue.week_key == week))


def get_issue(session: Session, week: str) -> Issue:
    issue = find_issue(session, week)
    if issue is None:
        raise NotFoundError(f"no issue has been built for {week}; run `pulse issue build`")
    return issue


def build_issue(
    session: Session,
    *,
    week: str,
    footer: Footer,
    rebuild: bool = False,
    subject: str | None = None,
    preheader: str | None = None,
    rules: IssueRules = DEFAULT_RULES,
) -> BuildResult:
    """Return the week's issue, building it if it does not exist (or ``rebuild`` is set).

    A rebuild keeps the issue's status (a held issue stays held) and is refused once the
    send has begun: rebuilding then would change what half the list got. The default issue
    is rendered first, then each tailored variant once (variant_store.py), sharing one link
    numbering; the snippets any of them shows are claimed.
    """
    existing = find_issue(session, week)
    if existing is not None and not rebuild:
        return BuildResult(existing, created=False)
    if existing is not None:
        transition(existing, Decision.REBUILD)
        release_content(session, existing.id)
        number = existing.number
    else:
        number = (session.scalar(select(func.max(Issue.number))) or 0) + 1
    assembly = assemble(
        session, week=week, number=number, subject=subject, preheader=preheader, rules=rules
    )
    links = LinkRegistry(tracking=footer.track_clicks)
    rendered = render_issue_once(assembly.view, footer, links=links)
    _plan, variants = render_variants(session, assembly, footer, links, rules.max_variants)
    issue = existing or Issue(week_key=week, number=number, status=IssueStatus.BUILT)
    _store(issue, assembly.view, rendered, links.links)
    session.add(issue)
    session.flush()
    store_variants(session, issue.id, variants)
    shown = {s.id: s for s in assembly.snippets}
    shown.update((s.id, s) for variant in variants for s in variant.snippets)
    for snippet in shown.values():
        snippet.issue_id = issue.id
        snippet.status = SnippetStatus.USED
    for job in assembly.jobs:
        job.issue_id = issue.id
    session.flush()
    return BuildResult(issue, created=existing is None)


def _store(
    issue: Issue, view: IssueView, rendered: RenderedIssue, links: tuple[TrackedLink, ...]
) -> None:
    issue.subject = view.subject
    issue.preheader = view.preheader
    issue.view_json = view_to_json(view)
    issue.mjml = rendered.mjml
    issue.html = rendered.html
    issue.text = rendered.text
    issue.links_json = links_to_json(links)  # the default's and every variant's
    issue.built_at = utcnow()


def draft_issue(
    session: Session, *, week: str, footer: Footer, rules: IssueRules = DEFAULT_RULES
) -> tuple[Issue, IssueView]:
    """The issue the queue would make now, rendered but not stored (nothing is claimed).

    The desk's preview and readiness both judge this draft, so they see the same issue.
    """
    number = (session.scalar(select(func.max(Issue.number))) or 0) + 1
    assembly = assemble(session, week=week, number=number, rules=rules)
    rendered = render_issue_once(assembly.view, footer)
    issue = Issue(
        week_key=week,
        number=number,
        subject=assembly.view.subject,
        preheader=assembly.view.preheader,
        status=IssueStatus.BUILT,
        mjml=rendered.mjml,
        html=rendered.html,
        text=rendered.text,
        links_json=links_to_json(rendered.links),
    )
    return issue, assembly.view


def release_content(session: Session, issue_id: int) -> None:
    """Put an unsent issue's content back in the queue before rebuilding it."""
    session.execute(
        update(Snippet)
        .where(Snippet.issue_id == issue_id)
        .values(issue_id=None, status=SnippetStatus.READY)
    )
    session.execute(update(JobListing).where(JobListing.issue_id == issue_id).values(issue_id=None))
