"""Email client support, judged against caniemail's data; colours that hold in dark mode.

"No worse than MJML's own output": MJML's stock output of the same template (our MJML with
mj-preview for the preheader and without our head styles, the way MJML's docs write it) is
the baseline. For every client and platform caniemail tracks, the issue may depend on no more
unsupported features than the baseline does. The two dark-mode features are progressive
enhancements — a client without them shows the light design, which must then hold on its
own (every text colour sits on a background we set, with enough contrast).
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path
from types import SimpleNamespace

import pytest

from pipeline.issues.render import compile_mjml, environment, render_issue_once
from tests.issues.conftest import FOOTER, fixed_view

SUPPORT: dict[str, dict[str, dict[str, str]]] = json.loads(
    (Path(__file__).parent / "caniemail" / "support.json").read_text(encoding="utf-8")
)
# Feature → how it shows in HTML.
DETECT = {
    "css-at-import": re.compile(r"@import\b"),
    "css-at-font-face": re.compile(r"@font-face\b"),
    "css-at-media": re.compile(r"@media\b"),
    "css-at-media-prefers-color-scheme": re.compile(r"prefers-color-scheme"),
    "css-color-scheme": re.compile(r"(?<![-\w])color-scheme\s*:"),
    "css-display-none": re.compile(r"display\s*:\s*none"),
    "css-important": re.compile(r"!\s*important"),
}
# Unsupported, these leave the light design: not counted against the issue.
ENHANCEMENTS = {"css-at-media-prefers-color-scheme", "css-color-scheme"}
WCAG_AA = 4.5


def features(html: str) -> set[str]:
    return {name for name, pattern in DETECT.items() if pattern.search(html)}


def unsupported(used: set[str]) -> dict[str, int]:
    """Per client/platform, how many of ``used`` it does not support (n)."""
    counts: dict[str, int] = {}
    for feature in used - ENHANCEMENTS:
        for client, platforms in SUPPORT[feature].items():
            for platform, result in platforms.items():
                key = f"{client}/{platform}"
                counts[key] = counts.get(key, 0) + (result == "n")
    return counts


def mjml_stock(mjml: str) -> str:
    """Our rendered MJML as MJML's docs would write it: mj-preview, no head styles."""
    preheader = re.search(r'<div class="preheader"[^>]*>(.*?)</div>', mjml, re.S)
    assert preheader is not None
    source = mjml.replace(preheader.group(0), "")
    source = re.sub(r"<mj-style>.*?</mj-style>", "", source, flags=re.S)
    source = re.sub(r"<mj-head>\s*<mj-raw>.*?</mj-raw>", "<mj-head>", source, flags=re.S)
    return source.replace("<mj-head>", f"<mj-head><mj-preview>{preheader.group(1)}</mj-preview>", 1)


@pytest.fixture(scope="module")
def rendered() -> tuple[str, str]:
    issue = render_issue_once(fixed_view(), FOOTER)
    return issue.html, compile_mjml(mjml_stock(issue.mjml))


def test_the_vendored_data_covers_every_detected_feature() -> None:
    assert set(DETECT) <= set(SUPPORT)
    assert SUPPORT["css-at-import"]["gmail"]["desktop-webmail"] == "n"


def test_no_client_lacks_more_features_than_with_mjmls_own_output(
    rendered: tuple[str, str],
) -> None:
    ours, stock = rendered
    ours_missing, stock_missing = unsupported(features(ours)), unsupported(features(stock))
    worse = {
        client: (count, stock_missing.get(client, 0))
        for client, count in ours_missing.items()
        if count > stock_missing.get(client, 0)
    }
    assert not worse, f"clients worse off than with MJML's output (ours, MJML's): {worse}"
    # Everything we add beyond MJML's output is a progressive enhancement.
    assert features(ours) - features(stock) <= ENHANCEMENTS


@pytest.mark.parametrize("template", ["issue", "confirm", "welcome"])
def test_no_web_font_is_loaded(template: str, rendered: tuple[str, str]) -> None:
    if template == "issue":
        html = rendered[0]
    else:
        source = (
            environment()
            .get_template(f"email/{template}.mjml")
            .render(
                identity=SimpleNamespace(
                    list_name="AISE Pulse Brief", postal_address=FOOTER.postal_address
                ),
                first_name="Alex",
                confirm_url="https://x.example/c",
                expires_days=7,
                latest_issue_url="https://x.example/i",
                preferences_url="https://x.example/p",
                unsubscribe_url="https://x.example/u",
            )
        )
        html = compile_mjml(source)
    assert not {"css-at-import", "css-at-font-face"} & features(html)
    assert "fonts.googleapis.com" not in html and not re.search(r"<link[^>]+stylesheet", html)


# --- colours -------------------------------------------------------------------------------


def luminance(hex_colour: str) -> float:
    value = hex_colour.lstrip("#")
    if len(value) == 3:
        value = "".join(c * 2 for c in value)
    channels = [int(value[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


_COLOUR = re.compile(r"(?<![-\w])color\s*:\s*(#[0-9a-fA-F]{3,6})\b")
_BACKGROUND = re.compile(r"background(?:-color)?\s*:\s*(#[0-9a-fA-F]{3,6})\b")
_VOID = {"br", "img", "meta", "link", "hr", "input", "col", "source", "wbr"}


class TextColours(HTMLParser):
    """Each inline text colour with the nearest background set by the email itself."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[tuple[str, str | None]] = []  # (tag, background)
        self.pairs: list[tuple[str, str | None, str]] = []  # (colour, background, tag)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        style = values.get("style") or ""
        background = _BACKGROUND.search(style)
        own = background.group(1) if background else values.get("bgcolor")
        colour = _COLOUR.search(style)
        if colour and tag not in ("html",):
            inherited = next((bg for _t, bg in reversed(self.stack) if bg), None)
            self.pairs.append((colour.group(1), own or inherited, tag))
        if tag not in _VOID:
            self.stack.append((tag, own))

    def handle_endtag(self, tag: str) -> None:
        for index in range(len(self.stack) - 1, -1, -1):
            if self.stack[index][0] == tag:
                del self.stack[index:]
                return


def test_every_light_text_colour_sits_on_our_own_background_with_aa_contrast(
    rendered: tuple[str, str],
) -> None:
    parser = TextColours()
    parser.feed(rendered[0])
    assert parser.pairs
    for colour, background, tag in parser.pairs:
        # A text colour over the client's default background is what forced dark modes
        # (Gmail apps, Outlook) break: dark text left on a darkened page.
        assert background is not None, f"<{tag}> colour {colour} has no background of ours"
        assert contrast(colour, background) >= WCAG_AA, (tag, colour, background)


def test_dark_mode_colours_have_aa_contrast_on_every_dark_background(
    rendered: tuple[str, str],
) -> None:
    block = re.search(r"@media \(prefers-color-scheme: dark\) \{(.*?)\}\s*\}", rendered[0], re.S)
    assert block is not None
    css = block.group(1)
    colours = set(_COLOUR.findall(css))
    backgrounds = set(re.findall(r"background:\s*(#[0-9a-fA-F]{3,6})", css))
    assert colours and backgrounds
    for colour in colours:
        for background in backgrounds:
            assert contrast(colour, background) >= WCAG_AA, (colour, background)
