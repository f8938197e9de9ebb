"""Quick Links from RSS/Atom feeds: proposals in the review queue, accepted into snippets;
conditional requests; hostile entries never become links."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from pipeline.content.models import Section, Snippet, SnippetStatus
from pipeline.wiring import Pulse
from tests.conftest import Cli
from tests.intake.boards_server import BoardServer

# RSS 2.0 (https://www.rssboard.org/rss-specification): <item> with title, link, guid,
# description; the second item's description is HTML escaped inside the XML, as feeds send it.
RSS = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>SE Weekly</title><link>https://se.example.com/</link>
<description>News</description>
<item><title>How AI SEs run demos</title><link>https://se.example.com/demos</link>
<guid>https://se.example.com/demos</guid><description>Five habits.</description></item>
<item><title>Comp report &amp; trends</title><link>https://se.example.com/comp</link>
<guid isPermaLink="false">comp-2026</guid>
<description>&lt;p&gt;OTE is &lt;b&gt;up&lt;/b&gt;&lt;script&gt;alert(1)&lt;/script&gt;&lt;/p&gt;
</description></item>
<item><title>Click me</title><link>javascript:alert(1)</link><guid>evil</guid></item>
<item><title></title><link>https://se.example.com/untitled</link></item>
</channel></rss>"""

# Atom 1.0 (RFC 4287): <entry> with id, title, link rel=alternate, summary.
ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Field notes</title>
<id>urn:uuid:60a76c80-d399-11d9-b93C-0003939e0af6</id><updated>2026-11-30T18:30:02Z</updated>
<entry><title>Forward deployed, explained</title>
<link rel="alternate" href="https://notes.example.org/fde"/>
<id>urn:uuid:1225c695-cfb8-4ebb-aaaa-80da344efa6a</id><updated>2026-11-30T18:30:02Z</updated>
<summary>What the role is.</summary></entry></feed>"""


def review(cli: Cli) -> list[dict[str, Any]]:
    result = cli("jobs", "review", "--format", "json")
    assert result.exit_code == 0, result.stderr
    data: list[dict[str, Any]] = json.loads(result.stdout)
    return data


def test_feed_items_join_the_review_queue_and_become_quick_links(
    intake_pulse: Pulse, boards: BoardServer, cli: Cli
) -> None:
    boards.feeds["se"] = (RSS, '"v1"')
    boards.feeds["notes"] = (ATOM, '"a1"')
    assert cli("links", "sources", "add", f"{boards.base}/feeds/se").exit_code == 0
    assert cli("links", "sources", "add", f"{boards.base}/feeds/notes").exit_code == 0
    result = cli("jobs", "fetch", "--format", "json")
    reports = {r["source"]: r for r in json.loads(result.stdout)["sources"]}
    assert reports[f"feed:{boards.base}/feeds/se"]["new"] == 2
    assert reports[f"feed:{boards.base}/feeds/se"]["skipped"] == 2  # javascript: and untitled
    queue = review(cli)
    assert [(r["id"], r["kind"], r["title"]) for r in queue] == [
        ("L1", "link", "How AI SEs run demos"),
        ("L2", "link", "Comp report & trends"),
        ("L3", "link", "Forward deployed, explained"),
    ]
    assert queue[1]["summary"] == "OTE is up"  # tags and script text gone
    assert cli("jobs", "accept", "L2").exit_code == 0
    assert cli("jobs", "reject", "L1").exit_code == 0
    with intake_pulse.db.sessions() as session:
        snippet = session.scalars(select(Snippet)).one()
    assert snippet.section is Section.QUICK_LINKS and snippet.status is SnippetStatus.READY
    assert snippet.link == "https://se.example.com/comp"
    assert [r["id"] for r in review(cli)] == ["L3"]


def test_an_unchanged_feed_is_not_downloaded_again(
    intake_env: None, boards: BoardServer, cli: Cli
) -> None:
    boards.feeds["se"] = (RSS, '"v1"')
    cli("links", "sources", "add", f"{boards.base}/feeds/se")
    cli("jobs", "fetch")
    again = json.loads(cli("jobs", "fetch", "--format", "json").stdout)["sources"][0]
    assert again["not_modified"] is True and again["new"] == 0
    _path, headers = boards.requests[-1]
    assert headers["if-none-match"] == '"v1"'
    assert len(review(cli)) == 2  # nothing proposed twice


def test_a_page_that_is_not_a_feed_fails_alone(
    intake_env: None, boards: BoardServer, cli: Cli
) -> None:
    boards.feeds["se"] = (RSS, '"v1"')
    cli("links", "sources", "add", f"{boards.base}/pages/not-a-feed")
    cli("links", "sources", "add", f"{boards.base}/feeds/se")
    reports = json.loads(cli("jobs", "fetch", "--format", "json").stdout)["sources"]
    assert "not an RSS or Atom feed" in reports[0]["failed"]
    assert reports[1]["new"] == 2
