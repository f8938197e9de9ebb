"""Editor Markdown to sanitised HTML (markdown-it-py + nh3) and to plain text.

Both outputs come from the same parse, so the text part carries exactly the links the HTML
part keeps: a link the sanitiser would drop (``javascript:``, ``data:``…) is dropped from both.
"""

from __future__ import annotations

import re
from functools import lru_cache
from urllib.parse import urlsplit

import nh3
from markdown_it import MarkdownIt
from markdown_it.token import Token

ALLOWED_TAGS = frozenset(
    {"p", "br", "strong", "em", "b", "i", "a", "ul", "ol", "li", "code", "blockquote"}
)
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}}
ALLOWED_URL_SCHEMES = frozenset({"https", "http", "mailto"})
# C0 controls (bar tab and newline), DEL and C1 controls: invisible, and MJML rejects some.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def strip_controls(value: str) -> str:
    """Drop control characters (and normalise newlines) from any editor or subscriber text."""
    return _CONTROL.sub("", value.replace("\r\n", "\n").replace("\r", "\n"))


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    # "commonmark" with raw HTML off: editors write Markdown, not markup.
    return MarkdownIt("commonmark", {"html": False, "linkify": False})


def markdown_to_html(source: str) -> str:
    """Render Markdown and sanitise the result against a small allow-list."""
    rendered = _parser().render(strip_controls(source))
    return nh3.clean(
        rendered,
        tags=set(ALLOWED_TAGS),
        attributes={tag: set(attrs) for tag, attrs in ALLOWED_ATTRIBUTES.items()},
        url_schemes=set(ALLOWED_URL_SCHEMES),
        link_rel="noopener noreferrer",
    ).strip()


def kept_link(href: str) -> bool:
    """Whether the sanitiser keeps ``href`` (relative links have no scheme and are kept)."""
    scheme = urlsplit(href).scheme.lower()
    return not scheme or scheme in ALLOWED_URL_SCHEMES


def _inline_text(children: list[Token]) -> str:
    out: list[str] = []
    links: list[str | None] = []
    for child in children:
        if child.type in ("text", "code_inline"):
            out.append(child.content)
        elif child.type == "softbreak":
            out.append(" ")
        elif child.type == "hardbreak":
            out.append("\n")
        elif child.type == "image":
            out.append(child.content)
        elif child.type == "link_open":
            href = child.attrGet("href")
            links.append(href if isinstance(href, str) and kept_link(href) else None)
        elif child.type == "link_close" and links:
            href = links.pop()
            if href:
                out.append(f" ({href})")
    return "".join(out)


def markdown_to_text(source: str) -> str:
    """A plain-text reading of Markdown: links become ``text (url)``, emphasis marks go."""
    blocks: list[str] = []
    prefix: list[str] = []
    ordinals: list[int] = []
    for token in _parser().parse(strip_controls(source)):
        if token.type == "bullet_list_open":
            prefix.append("- ")
            ordinals.append(0)
        elif token.type == "ordered_list_open":
            prefix.append("#")
            ordinals.append(0)
        elif token.type in ("bullet_list_close", "ordered_list_close"):
            prefix.pop()
            ordinals.pop()
        elif token.type == "list_item_open" and ordinals:
            ordinals[-1] += 1
        elif token.type == "inline":
            text = _inline_text(token.children or [])
            if prefix:
                marker = f"{ordinals[-1]}. " if prefix[-1] == "#" else prefix[-1]
                text = "  " * (len(prefix) - 1) + marker + text
            blocks.append(text)
        elif token.type in ("code_block", "fence"):
            blocks.append(token.content.rstrip("\n"))
    return "\n".join(blocks).strip()
