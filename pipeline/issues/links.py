"""The issue's links, each given a stable identity when the issue is rendered.

Rendering numbers every link the issue carries in reading order: where it sits (section,
job listing or snippet), its position and its URL. With click tracking on, the templates
print a merge field (``link_3``) instead of the URL, which the per-recipient merge fills with
a signed click URL (see ``pipeline/analytics``) or with the URL itself for readers whose
clicks go untracked. The list is stored with the issue (``issues.links_json``), so reports,
the redirect and the merge all read the same numbering.
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import asdict, dataclass
from urllib.parse import urlsplit

from pipeline.issues.merge import link_field, placeholder

# The hidden link only machines follow: a scanner fetching every href takes it, a reader
# never sees it. A click on it marks the delivery's burst as machine (see analytics.classify).
DECOY = "decoy"
_HREF = re.compile(r'href="([^"]*)"')


@dataclass(frozen=True)
class TrackedLink:
    """One link of one issue: where it is, what it points to, and its number."""

    position: int
    section: str  # a Section value, or "decoy"
    item: str  # "job:2", "snippet:1" … (1-based within the section), or "decoy"
    label: str  # what the reader sees next to it: a job's title, a snippet's title
    url: str

    @property
    def key(self) -> str:
        """The link's stable id within its issue: section, item and position."""
        return f"{self.section}/{self.item}/{self.position}"

    @property
    def decoy(self) -> bool:
        return self.section == DECOY


def trackable(url: str) -> bool:
    """Only absolute http(s) links are redirected; mailto: links and anchors stay as they are."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.netloc)


class LinkRegistry:
    """Collects an issue's links while its templates render (HTML first, then text)."""

    def __init__(self, *, tracking: bool) -> None:
        self.tracking = tracking
        self._links: list[TrackedLink] = []
        self._positions: dict[tuple[str, str, str], int] = {}

    @property
    def links(self) -> tuple[TrackedLink, ...]:
        return tuple(self._links)

    def track(self, url: str | None, section: str, item: str, label: str = "") -> str:
        """What the template prints as the href: a merge placeholder, or the URL untouched.

        The same (section, item, URL) gets the same number, so the text part's link and the
        HTML part's link count as one.
        """
        if not url or not trackable(url):
            return url or ""
        key = (section, item, url)
        position = self._positions.get(key)
        if position is None:
            position = len(self._links)
            self._positions[key] = position
            self._links.append(TrackedLink(position, section, item, label, url))
        return placeholder(link_field(position)) if self.tracking else url

    def track_body(self, body_html: str, section: str, item: str, label: str = "") -> str:
        """Links inside a snippet's sanitised HTML body, numbered like the others."""

        def replace(match: re.Match[str]) -> str:
            url = html.unescape(match.group(1))
            tracked = self.track(url, section, item, label)
            return f'href="{html.escape(tracked, quote=True)}"'

        return _HREF.sub(replace, body_html)

    def decoy(self, url: str) -> str:
        """The hidden decoy link's href (only when tracking; otherwise nothing is printed)."""
        return self.track(url, DECOY, DECOY, "hidden decoy") if self.tracking else ""


def links_to_json(links: tuple[TrackedLink, ...]) -> str:
    return json.dumps([asdict(link) for link in links], ensure_ascii=False)


def links_from_json(raw: str | None) -> tuple[TrackedLink, ...]:
    """The links stored with an issue (none for issues built before tracking existed)."""
    if not raw:
        return ()
    return tuple(TrackedLink(**entry) for entry in json.loads(raw))


def direct_values(links: tuple[TrackedLink, ...]) -> dict[str, str]:
    """Each link's merge field filled with the link itself: what untracked readers get."""
    return {link_field(link.position): link.url for link in links}
