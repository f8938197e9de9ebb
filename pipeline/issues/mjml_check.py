"""MJML validation in the spirit of ``mjml --validate soft``.

MRML (the compiler behind ``mjml-python``) silently ignores unknown tags, misplaced
components and unknown attributes, which is where MJML would print warnings. This checker
reports those, so lint can insist on "compiles without errors or warnings".
"""

from __future__ import annotations

from html.parser import HTMLParser
from types import MappingProxyType

# Content of these components is HTML (or CSS/text), not MJML: it is not checked here.
ENDING_TAGS = frozenset(
    {"mj-text", "mj-table", "mj-raw", "mj-style", "mj-title", "mj-preview", "mj-button"}
)
_BOX = frozenset({"padding", "padding-top", "padding-bottom", "padding-left", "padding-right"})
_BLOCK = _BOX | {"css-class", "mj-class", "container-background-color", "align"}
_TEXT = frozenset(
    {"color", "font-family", "font-size", "font-style", "font-weight", "line-height"}
    | {"letter-spacing", "height", "text-decoration", "text-transform"}
)
ATTRIBUTES = MappingProxyType(
    {
        "mjml": frozenset({"lang", "dir", "owa"}),
        "mj-head": frozenset(),
        "mj-body": frozenset({"background-color", "css-class", "width"}),
        "mj-title": frozenset(),
        "mj-preview": frozenset(),
        "mj-attributes": frozenset(),
        "mj-style": frozenset({"inline"}),
        "mj-raw": frozenset({"position"}),
        "mj-breakpoint": frozenset({"width"}),
        "mj-font": frozenset({"name", "href"}),
        "mj-all": None,  # defaults for every component: any known attribute
        "mj-class": None,
        "mj-section": _BOX
        | {"background-color", "css-class", "border", "border-radius", "direction"}
        | {"full-width", "text-align", "background-url"},
        "mj-column": _BOX
        | {"background-color", "css-class", "border", "border-radius", "vertical-align"}
        | {"width", "inner-background-color"},
        "mj-text": _BLOCK | _TEXT,
        "mj-table": _BLOCK
        | _TEXT
        | {"border", "cellpadding", "cellspacing", "table-layout", "width", "role"},
        "mj-divider": _BLOCK | {"border-color", "border-style", "border-width", "width"},
        "mj-spacer": _BLOCK | {"height"},
        "mj-image": _BLOCK
        | {"src", "alt", "href", "width", "height", "title", "border", "border-radius"},
        "mj-button": _BLOCK
        | _TEXT
        | {"href", "background-color", "border", "border-radius", "inner-padding", "width"},
    }
)
PARENTS = MappingProxyType(
    {
        "mjml": frozenset({""}),
        "mj-head": frozenset({"mjml"}),
        "mj-body": frozenset({"mjml"}),
        "mj-title": frozenset({"mj-head"}),
        "mj-preview": frozenset({"mj-head"}),
        "mj-attributes": frozenset({"mj-head"}),
        "mj-style": frozenset({"mj-head"}),
        "mj-breakpoint": frozenset({"mj-head"}),
        "mj-font": frozenset({"mj-head"}),
        "mj-raw": frozenset({"mj-head", "mj-body", "mj-section", "mj-column"}),
        "mj-section": frozenset({"mj-body", "mj-attributes"}),
        "mj-column": frozenset({"mj-section", "mj-attributes"}),
        **{
            tag: frozenset({"mj-column", "mj-attributes"})
            for tag in ("mj-text", "mj-table", "mj-divider", "mj-spacer", "mj-image", "mj-button")
        },
        "mj-all": frozenset({"mj-attributes"}),
        "mj-class": frozenset({"mj-attributes"}),
    }
)
KNOWN_ATTRIBUTES = frozenset(a for attrs in ATTRIBUTES.values() if attrs for a in attrs)


class _Checker(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.warnings: list[str] = []

    def _inside_ending_tag(self) -> bool:
        return any(tag in ENDING_TAGS for tag in self.stack)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self._inside_ending_tag() and not tag.startswith("mj"):
            return
        line = self.getpos()[0]
        if tag not in ATTRIBUTES:
            self.warnings.append(f"MJML line {line}: unknown element <{tag}>")
        else:
            parent = self.stack[-1] if self.stack else ""
            if parent not in PARENTS[tag]:
                self.warnings.append(
                    f"MJML line {line}: <{tag}> cannot be a child of <{parent or 'document'}>"
                )
            allowed = ATTRIBUTES[tag]
            for name, _value in attrs:
                known = KNOWN_ATTRIBUTES | {"name"} if allowed is None else allowed
                if name not in known:
                    self.warnings.append(
                        f"MJML line {line}: <{tag}> has unknown attribute {name!r}"
                    )
        self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if self.stack and self.stack[-1] == tag:
            self.stack.pop()

    def handle_endtag(self, tag: str) -> None:
        if self._inside_ending_tag() and not tag.startswith("mj"):
            return
        if not self.stack or self.stack[-1] != tag:
            expected = self.stack[-1] if self.stack else "nothing"
            self.warnings.append(
                f"MJML line {self.getpos()[0]}: </{tag}> closes <{expected}> out of order"
            )
            if tag in self.stack:
                while self.stack and self.stack.pop() != tag:
                    pass
            return
        self.stack.pop()


def mjml_warnings(source: str) -> list[str]:
    """Problems MJML's validator would warn about: unknown or misplaced tags and attributes."""
    checker = _Checker()
    checker.feed(source)
    checker.close()
    for tag in reversed(checker.stack):
        checker.warnings.append(f"MJML: <{tag}> is never closed")
    return checker.warnings
