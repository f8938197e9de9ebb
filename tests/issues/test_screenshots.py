"""Screenshots in a real browser: PNGs at 600 and 375 px, and nothing scrolls sideways."""

from __future__ import annotations

import os
import struct
from dataclasses import replace
from pathlib import Path

import pytest

from pipeline.demo.seed import seed_week
from pipeline.issues.merge import MergeTemplate, html_values
from pipeline.issues.render import render_issue_once
from pipeline.issues.screenshots import take_screenshots
from pipeline.weeks import week_monday
from pipeline.wiring import Pulse
from pulse_core.database import transaction
from tests.conftest import Cli, Workspace
from tests.harness.browser import CHROMIUM
from tests.issues.conftest import FOOTER, fixed_view, item

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists() and not os.environ.get("PULSE_TEST_REQUIRE_CHROMIUM"),
        reason="needs /usr/bin/chromium (CI sets PULSE_TEST_REQUIRE_CHROMIUM to insist)",
    ),
]
WEEK = "2026-W48"


def png_width(path: Path) -> int:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    return int(struct.unpack(">I", data[16:20])[0])


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_preview_writes_screenshots_that_do_not_scroll_sideways(
    cli: Cli, pulse: Pulse, workspace: Workspace
) -> None:
    with transaction(pulse.db.sessions) as session:
        seed_week(session, week_monday(WEEK), 1)
    assert cli("issue", "build", "--week", WEEK).exit_code == 0
    out = workspace.root / "preview"
    result = cli("issue", "preview", "--week", WEEK, "--out", str(out))
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "scrolls sideways" not in result.stdout
    assert png_width(out / "issue-600.png") == 600
    assert png_width(out / "issue-375.png") == 375
    assert png_width(out / "issue-375-dark.png") == 375


def test_long_unbroken_words_do_not_widen_the_phone_layout(tmp_path: Path) -> None:
    view = fixed_view()
    long_word = "Supercalifragilistic" * 6
    sections = tuple(
        replace(s, items=(*s.items, item(long_word, long_word))) for s in view.sections
    )
    table = view.salary_tables[0]
    table = replace(
        table,
        columns=(long_word[:40], *table.columns[1:]),
        rows=(replace(table.rows[0], level=long_word[:50]), *table.rows[1:]),
    )
    view = replace(view, subject=long_word[:70], sections=sections, salary_tables=(table,))
    html = MergeTemplate.parse(render_issue_once(view, FOOTER).html).merge(
        html_values(
            {
                "unsubscribe_url": "https://u.example.com/x",
                "preferences_url": "https://p.example.com/x",
                "first_name": "Alex",
            }
        )
    )
    shots = take_screenshots(html, tmp_path, chromium=CHROMIUM)
    narrow = [s for s in shots if s.width == 375]
    assert narrow and all(not s.scrolls_sideways for s in narrow), [s.scroll_width for s in narrow]


def test_sideways_scrolling_is_detected(tmp_path: Path) -> None:
    wide = '<html><body><div style="width:700px">too wide for a phone</div></body></html>'
    shots = take_screenshots(wide, tmp_path, chromium=CHROMIUM)
    assert [s.scrolls_sideways for s in shots] == [True, True, True]
