"""Rendering: golden files of a fixed issue, and the shape of the HTML and text parts."""

from __future__ import annotations

import itertools
import os
import re
from pathlib import Path

from pipeline.issues.markdown import markdown_to_html, markdown_to_text
from pipeline.issues.mjml_check import mjml_warnings
from pipeline.issues.plaintext import salary_text, wrap_text
from pipeline.issues.render import render_issue_once
from tests.issues.conftest import FOOTER, fixed_view

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("PULSE_UPDATE_GOLDEN") == "1"


def check_golden(name: str, actual: str) -> None:
    path = GOLDEN / name
    if UPDATE:
        path.write_text(actual, encoding="utf-8")
    assert path.exists(), f"{path} is missing; run with PULSE_UPDATE_GOLDEN=1 to create it"
    assert actual == path.read_text(encoding="utf-8"), f"{name} differs from its golden file"


def test_fixed_issue_renders_as_its_golden_files() -> None:
    rendered = render_issue_once(fixed_view(), FOOTER)
    check_golden("issue.mjml", rendered.mjml)
    check_golden("issue.html", rendered.html)
    check_golden("issue.txt", rendered.text)


def test_html_is_accessible_dark_mode_aware_and_has_the_footer() -> None:
    rendered = render_issue_once(fixed_view(), FOOTER)
    html = rendered.html
    assert '<html lang="en"' in html
    head = html.split("</head>")[0]
    assert re.search(r'<meta name="color-scheme" content="light dark"\s*/?>', head)
    assert "prefers-color-scheme: dark" in html
    headings = re.findall(r"<h([1-6])", html)
    assert headings[0] == "1" and all(int(b) - int(a) <= 1 for a, b in itertools.pairwise(headings))
    # Text sizes as the templates set them (MJML's own 0/1px layout helpers hold no text).
    sizes = [int(px) for px in re.findall(r'font-size[=:]\s*"?(\d+)px', rendered.mjml)]
    assert min(sizes) >= 14
    for needed in (
        "View this issue in your browser",
        "Manage preferences",
        "Unsubscribe",
        FOOTER.postal_address,
    ):
        assert needed in html
    assert "▲ 3.1%" in html and "▼ 1.2%" in html and "not enough data" in html
    assert (
        "Salary trends, who&#39;s hiring" in html or "Salary trends, who's hiring" in html
    )  # preheader


def test_text_part_has_aligned_tables_word_trends_and_short_lines() -> None:
    text = render_issue_once(fixed_view(), FOOTER).text
    assert all(len(line) <= 78 for line in text.splitlines())
    assert "$175K–$225K (up 3.1%)" in text and "(down 1.2%)" in text and "▲" not in text
    table = [
        line for line in text.splitlines() if line.startswith(("Level ", "Mid-level ", "Senior "))
    ]
    column = table[0].index("AI SE total comp")
    assert all(line[column - 2 : column] == "  " and line[column] != " " for line in table)


def test_mjml_has_no_validation_warnings() -> None:
    assert mjml_warnings(render_issue_once(fixed_view(), FOOTER).mjml) == []


def test_wide_tables_fall_back_to_a_list_per_level() -> None:
    from dataclasses import replace

    table = fixed_view().salary_tables[0]
    wide = replace(
        table,
        columns=(
            "Level",
            "Total compensation of AI Sales Engineers",
            "Total compensation of ML Engineers",
        ),
    )
    text = salary_text(wide)
    assert all(len(line) <= 78 for line in text.splitlines())
    assert "  Total compensation of AI Sales Engineers: $175K–$225K (up 3.1%)" in text


def test_wrap_keeps_links_whole_and_breaks_other_long_words() -> None:
    url = "https://example.com/" + "a" * 100
    wrapped = wrap_text(f"see {url} and {'z' * 100}")
    assert url in wrapped.splitlines()
    assert all(len(line) <= 78 for line in wrapped.splitlines() if "://" not in line)


def test_markdown_drops_scripts_and_javascript_links_from_both_parts() -> None:
    source = (
        "<script>alert(1)</script> [x](javascript:alert(1)) "
        "[ok](https://ok.example.com) <img src=x onerror=alert(1)>"
    )
    html = markdown_to_html(source)
    assert "<script" not in html and "<img" not in html
    assert 'href="https://ok.example.com"' in html and 'href="javascript' not in html
    text = markdown_to_text(source)
    assert "ok (https://ok.example.com)" in text
    assert "x (javascript:" not in text  # the dropped link is not offered in text either


def contrast(a: str, b: str) -> float:
    """WCAG 2 contrast ratio of two #rrggbb colours."""

    def luminance(colour: str) -> float:
        channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_text_colours_reach_4_5_to_1_in_light_and_dark_mode() -> None:
    mjml = render_issue_once(fixed_view(), FOOTER).mjml
    light, dark = mjml.split("@media (prefers-color-scheme: dark)")
    dark = dark.split("</mj-style>")[0]
    text_colour = re.compile(r'(?<![-\w])color[=:]\s*"?(#[0-9a-fA-F]{6})')
    light_colours = set(text_colour.findall(light))
    dark_colours = set(text_colour.findall(dark))
    assert light_colours and dark_colours
    for colour in light_colours:
        for background in ("#ffffff", "#f0f3f6"):
            assert contrast(colour, background) >= 4.5, (colour, background)
    for colour in dark_colours:
        for background in ("#1b2026", "#111418"):
            assert contrast(colour, background) >= 4.5, (colour, background)
