"""Hostile board answers: whatever a board sends, the fetch neither crashes nor stores junk."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.intake import boards as readers
from tests.conftest import Cli
from tests.intake import documented
from tests.intake.boards_server import BoardServer

_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=40),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=6)
    ),
    max_leaves=25,
)
_KEYS = (
    "id",
    "title",
    "text",
    "absolute_url",
    "hostedUrl",
    "jobUrl",
    "location",
    "categories",
    "content",
    "salaryRange",
    "compensation",
    "country",
    "address",
    "isListed",
    "isRemote",
)
_postings = st.dictionaries(st.sampled_from(_KEYS), _json_values, max_size=10)


@settings(max_examples=300, deadline=None)
@given(st.one_of(_postings, _json_values))
def test_any_posting_shape_is_read_or_skipped_never_a_crash(item: Any) -> None:
    for read in (readers._greenhouse_posting, readers._ashby_posting):
        posting = read(item) if read is readers._ashby_posting else read(item, "http://x/jobs")
        _check(posting)
    _check(readers._lever_posting(item))
    if isinstance(item, dict):
        pay = readers._ashby_pay(item.get("compensation"))
        assert pay is None or 0 < pay.low <= pay.high


def _check(posting: readers.RawPosting | None) -> None:
    if posting is None:
        return
    assert 0 < len(posting.title) <= 200
    assert posting.url.startswith(("http://", "https://"))
    assert not any(ord(ch) < 32 for ch in posting.title + posting.location)


def test_hostile_entries_on_a_live_board(intake_env: None, boards: BoardServer, cli: Cli) -> None:
    base = boards.base
    evil = documented.lever_posting(base, "acme", "e1", "Sales Engineer", "Austin, TX")
    evil["hostedUrl"] = "javascript:alert(document.cookie)"
    markup = documented.lever_posting(
        base,
        "acme",
        "e2",
        "Sales Engineer [red]x[/] \x1b[31mred\x1b[0m " + "A" * 10_000,
        "Austin, TX\x00",
        salary={"currency": "USD", "interval": "per-year-salary", "min": 250000, "max": 150000},
    )
    weird = documented.lever_posting(
        base,
        "acme",
        "e3",
        "Sales Engineer",
        "Austin, TX",
        salary={"currency": "<b>", "interval": "per-year-salary", "min": -5, "max": 1e308},
    )
    boards.lever["acme"] = [evil, markup, weird, {"id": ["not", "a", "string"]}, None]
    cli("jobs", "sources", "add", "lever", "acme", "--company", "Acme")
    report = json.loads(cli("jobs", "fetch", "--format", "json").stdout)["sources"][0]
    assert (report["found"], report["skipped"]) == (2, 3)
    table = cli("jobs", "review")
    assert table.exit_code == 0 and "\x1b[31m" not in table.stdout
    queue = json.loads(cli("jobs", "review", "--format", "json").stdout)
    assert all(r["pay"] is None for r in queue)  # a reversed or nonsense range is no range
    assert all(len(r["title"]) <= 200 and "\x00" not in r["location"] for r in queue)
