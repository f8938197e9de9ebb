"""Editor Markdown to sanitised HTML (markdown-it-py + nh3) and to plain text."""

from __future__ import annotations

import re
from functools import lru_cache

import nh3
from markdown_it import MarkdownIt

ALLOWED_TAGS = frozenset(
    {"p", "br", "strong", "em", "b", "i", "a", "ul", "ol", "li", "code", "blockquote"}
)
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}}
ALLOWED_URL_SCHEMES = frozenset({"https", "http", "mailto"})


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    # "commonmark" with raw HTML off: editors write Markdown, not markup.
    return MarkdownIt("commonmark", {"html": False, "linkify": False})


def markdown_to_html(source: str) -> str:
    """Render Markdown and sanitise the result against a small allow-list."""
    rendered = _parser().render(source)
    return nh3.clean(
        rendered,
        tags=set(ALLOWED_TAGS),
        attributes={tag: set(attrs) for tag, attrs in ALLOWED_ATTRIBUTES.items()},
        url_schemes=set(ALLOWED_URL_SCHEMES),
        link_rel="noopener noreferrer",
    ).strip()


_LINK = re.compile(r"\[([^\]]*)\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
_EMPHASIS = re.compile(r"(\*\*|__|\*|_|`)")


def markdown_to_text(source: str) -> str:
    """A plain-text reading of Markdown: links become ``text (url)``, emphasis marks go."""
    text = _LINK.sub(lambda m: f"{m.group(1)} ({m.group(2)})", source)
    return _EMPHASIS.sub("", text).strip()


def markdown_links(source: str) -> list[str]:
    """Every link target in the Markdown, as the HTML part will carry it."""
    tokens = _parser().parse(source)
    links: list[str] = []
    for token in tokens:
        for child in token.children or []:
            if child.type == "link_open":
                href = child.attrGet("href")
                if isinstance(href, str):
                    links.append(href)
    return links
