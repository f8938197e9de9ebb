"""Lint catches each failure it names, and passes a clean issue."""

from __future__ import annotations

from dataclasses import replace

import pytest

from pipeline.config import Settings, load_settings
from pipeline.issues.lint import lint_issue
from pipeline.issues.models import Issue
from pipeline.issues.render import Footer, render_issue_once
from pipeline.issues.view import IssueView
from pipeline.stage_configs import lint_config
from tests.issues.conftest import FOOTER, fixed_view, item


def issue_of(view: IssueView, footer: Footer = FOOTER) -> Issue:
    rendered = render_issue_once(view, footer)
    return Issue(
        week_key=view.week_key,
        number=view.number,
        subject=view.subject,
        preheader=view.preheader,
        mjml=rendered.mjml,
        html=rendered.html,
        text=rendered.text,
    )


def with_quick_link(title: str, body: str = "", link: str | None = None) -> IssueView:
    view = fixed_view()
    sections = tuple(
        replace(s, items=(*s.items, item(title, body, link)))
        if s.section.value == "quick-links"
        else s
        for s in view.sections
    )
    return replace(view, sections=sections)


def test_clean_issue_passes(settings: Settings) -> None:
    assert lint_issue(issue_of(fixed_view()), lint_config(settings)) == []


def test_html_over_gmails_clip_limit_fails(settings: Settings) -> None:
    big = with_quick_link("Long read", "word " * 25_000)
    assert any("Gmail clips" in p for p in lint_issue(issue_of(big), lint_config(settings)))


def test_unrendered_template_syntax_fails(settings: Settings) -> None:
    problems = lint_issue(issue_of(with_quick_link("Hi {{ first_name }}")), lint_config(settings))
    assert any("HTML contains unrendered template syntax" in p for p in problems)
    assert any("text part contains unrendered template syntax" in p for p in problems)


@pytest.mark.parametrize(
    "url", ["http://insecure.example.com/x", "/relative/path", "//cdn.example.com/x"]
)
def test_links_that_are_not_absolute_https_fail(settings: Settings, url: str) -> None:
    problems = lint_issue(
        issue_of(with_quick_link("Link", f"[read]({url})")), lint_config(settings)
    )
    assert f"link is not an absolute https URL: {url}" in problems


def test_local_development_base_url_may_be_http() -> None:
    local = load_settings(base_url="http://127.0.0.1:8000", postal_address=FOOTER.postal_address)
    footer = Footer(base_url="http://127.0.0.1:8000", postal_address=FOOTER.postal_address)
    assert lint_issue(issue_of(fixed_view(), footer), lint_config(local)) == []
    elsewhere = issue_of(with_quick_link("x", "[y](http://127.0.0.1:9999/z)"), footer)
    assert any("not an absolute https URL" in p for p in lint_issue(elsewhere, lint_config(local)))


def test_image_without_alt_fails(settings: Settings) -> None:
    issue = issue_of(fixed_view())
    issue.html = issue.html.replace("</body>", '<img src="https://x.example.com/a.png"></body>')
    assert "image without alt text: https://x.example.com/a.png" in lint_issue(
        issue, lint_config(settings)
    )
    issue.html = issue.html.replace(
        '<img src="https://x.example.com/a.png">', '<img src="https://x.example.com/a.png" alt="">'
    )
    assert lint_issue(issue, lint_config(settings)) == []


def test_missing_unsubscribe_link_fails(settings: Settings) -> None:
    issue = issue_of(fixed_view())
    issue.html = issue.html.replace("%%pulse:unsubscribe_url%%", "https://pulse.example.com/")
    issue.text = issue.text.replace("%%pulse:unsubscribe_url%%", "")
    problems = lint_issue(issue, lint_config(settings))
    assert (
        "HTML has no unsubscribe link" in problems
        and "text part has no unsubscribe link" in problems
    )


def test_placeholder_or_missing_postal_address_fails(settings: Settings) -> None:
    issue = issue_of(fixed_view())
    placeholder = load_settings(
        base_url="https://pulse.example.com", secret_key="Lq8Zr3VxK1mTa9wLp0YcN4eHs7uJd2fGb6oRi5kW"
    )
    [problem] = lint_issue(issue, lint_config(placeholder))
    assert problem.startswith("postal address is the placeholder; set PULSE_POSTAL_ADDRESS")
    issue.text = issue.text.replace("100 Example Street", "")
    assert "text part lacks the postal address" in lint_issue(issue, lint_config(settings))


def test_text_part_missing_a_link_fails(settings: Settings) -> None:
    issue = issue_of(fixed_view())
    issue.text = issue.text.replace("https://www.example.com/q\n", "\n")
    assert "text part lacks the link https://www.example.com/q" in lint_issue(
        issue, lint_config(settings)
    )


def test_mjml_errors_and_warnings_fail(settings: Settings) -> None:
    issue = issue_of(fixed_view())
    issue.mjml = issue.mjml.replace("<mj-text>", '<mj-text colour="red">', 1)
    assert any("unknown attribute 'colour'" in p for p in lint_issue(issue, lint_config(settings)))
    issue.mjml = issue.mjml.replace("</mj-body>", "<mj-column></mj-column></mj-body>")
    assert any(
        "<mj-column> cannot be a child of <mj-body>" in p
        for p in lint_issue(issue, lint_config(settings))
    )
    issue.mjml = issue.mjml.replace("</mjml>", "")
    assert any(
        p.startswith("MJML did not compile") for p in lint_issue(issue, lint_config(settings))
    )


def test_long_subject_preheader_and_text_lines_fail(settings: Settings) -> None:
    issue = issue_of(fixed_view())
    issue.subject, issue.preheader = "s" * 71, "p" * 111
    issue.text += "\n" + "word " * 20
    problems = lint_issue(issue, lint_config(settings))
    assert "subject is 71 characters (max 70)" in problems
    assert "preheader is 111 characters (max 110)" in problems
    assert any(p.startswith("text line") and "max 78" in p for p in problems)


def test_unknown_merge_field_fails(settings: Settings) -> None:
    issue = issue_of(fixed_view())
    issue.html += "%%pulse:password%%"
    assert any("unknown merge field" in p for p in lint_issue(issue, lint_config(settings)))


@pytest.mark.parametrize("subject", ["Hi {{name}}", "Pay }} here", "{{{raw}}}"])
def test_template_markers_in_the_subject_fail(settings: Settings, subject: str) -> None:
    issue = issue_of(fixed_view())
    issue.subject = subject
    assert "subject contains a template marker ({{ or }})" in lint_issue(
        issue, lint_config(settings)
    )
