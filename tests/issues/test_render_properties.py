"""Arbitrary text in any field never breaks the MJML, HTML or text part, nor injects markup."""

from __future__ import annotations

from dataclasses import replace
from html.parser import HTMLParser

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.content.models import Section
from pipeline.issues.markdown import ALLOWED_TAGS
from pipeline.issues.merge import MergeTemplate, html_values
from pipeline.issues.mjml_check import mjml_warnings
from pipeline.issues.render import Footer, render_issue_once
from pipeline.issues.view import IssueView, Job, SalaryCell, SalaryRow, SalaryTable, SectionView
from tests.issues.conftest import FOOTER, fixed_view, item

NASTY = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    '" onmouseover="alert(1)',
    "[x](javascript:alert(1))",
    "<a href='javascript:alert(1)'>x</a>",
    "javascript:alert(1)",
    "<style>body{display:none}</style>",
    "</mj-text></mj-column><mj-raw><script>x</script></mj-raw>",
    "<![CDATA[ x ]]>",
    "<!-- x -->",
    "{{ 7*7 }}{% if %}",
    "%%pulse:unsubscribe_url%%",
    "&amp; &lt; &#x3C;script&#x3E;",
    "\x00\x01\x0b\x7f\x85",
    "\u2028\u202e",
    "*emph* **strong** `code` > quote\n\n- a\n1. b",
]
TEXT = st.lists(st.one_of(st.text(max_size=40), st.sampled_from(NASTY)), max_size=4).map("".join)


class _Markup(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: dict[str, int] = {}
        self.bad: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags[tag] = self.tags.get(tag, 0) + 1
        for name, value in attrs:
            if name.startswith("on"):
                self.bad.append(f"{tag} {name}")
            if name in ("href", "src") and (value or "").strip().lower().startswith("javascript:"):
                self.bad.append(f"{tag} {name}={value}")


def markup_of(html: str) -> _Markup:
    parser = _Markup()
    parser.feed(html)
    parser.close()
    return parser


BASELINE = markup_of(render_issue_once(fixed_view(), FOOTER).html)
# Tags that may appear more often with more content; all others must stay at their baseline
# count (script, style, meta, title... come only from the template).
REPEATABLE = set(ALLOWED_TAGS) | {
    "div",
    "table",
    "tbody",
    "tr",
    "td",
    "th",
    "span",
    "h2",
    "h3",
    "br",
}


def arbitrary_view(texts: list[str]) -> IssueView:
    t = iter(texts)
    view = fixed_view()
    sections = tuple(
        replace(s, items=(item(next(t), next(t), "https://example.com/x"), item(next(t), next(t))))
        for s in view.sections
    )
    table = SalaryTable(
        title=next(t),
        columns=(next(t), next(t)),
        rows=(
            SalaryRow(
                next(t), (SalaryCell(next(t), next(t), next(t), low=1, high=2, change_pct=1.0),)
            ),
            SalaryRow(next(t), (SalaryCell(next(t)),)),
        ),
        source=next(t),
    )
    job = Job(next(t), next(t), next(t), next(t), "https://jobs.example.com/1")
    return replace(
        view,
        subject=next(t),
        preheader=next(t),
        sections=sections,
        salary_tables=(table,),
        jobs=(job,),
    )


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# First names are merged per recipient, after rendering; a realistic length keeps "Hi NAME,"
# inside 78 columns (the subscriber store caps names, and lint checks with a sample name).
@given(texts=st.lists(TEXT, min_size=40, max_size=40), name=TEXT.map(lambda s: s[:40]), postal=TEXT)
def test_arbitrary_text_never_breaks_or_injects(texts: list[str], name: str, postal: str) -> None:
    view = arbitrary_view(texts)
    rendered = render_issue_once(
        view, Footer(base_url="https://pulse.example.com", postal_address=postal)
    )
    assert mjml_warnings(rendered.mjml) == []
    values = {
        "unsubscribe_url": "https://u.example.com/t",
        "preferences_url": "https://p.example.com/t",
        "first_name": name,
    }
    html = MergeTemplate.parse(rendered.html).merge(html_values(values))
    text = MergeTemplate.parse(rendered.text).merge(values)
    found = markup_of(html)
    assert found.bad == []
    for tag, count in found.tags.items():
        if tag not in REPEATABLE:
            assert count == BASELINE.tags.get(tag, 0), f"<{tag}> injected"
    assert found.tags.get("script", 0) == 0
    for line in text.splitlines():
        longest_link = max((len(w) for w in line.split() if "://" in w), default=0)
        assert len(line) - longest_link <= 78, line


def test_sections_keep_their_order_with_any_content() -> None:
    order = [s.section for s in fixed_view().sections]
    assert order == list(Section)
    assert isinstance(fixed_view().sections[0], SectionView)
