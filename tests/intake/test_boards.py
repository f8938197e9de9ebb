"""Each board read through its documented API on the loopback server: shapes, paging, missing
fields, escaped HTML, a board that 404s, slow and failing answers."""

from __future__ import annotations

import copy

import pytest

from pipeline.intake import boards as readers
from pipeline.intake.http import FetchError, FetchPolicy, PoliteClient, SourceGone
from pipeline.intake.pay import Pay
from tests.intake import documented
from tests.intake.boards_server import BoardServer


@pytest.fixture
def client() -> PoliteClient:
    return PoliteClient(FetchPolicy(timeout=0.5, attempts=2, backoff=0))


def test_greenhouse_documented_example_reads(boards: BoardServer, client: PoliteClient) -> None:
    boards.greenhouse["vaulttec"] = copy.deepcopy(documented.GREENHOUSE_LIST_EXAMPLE["jobs"])
    page = _read(boards, client, "greenhouse", "vaulttec")
    (posting,) = page.postings
    assert posting.title == "Vault Designer"
    assert posting.location == "NYC"
    assert posting.url == "https://boards.greenhouse.io/vaulttec/jobs/127817"
    assert "&lt;p&gt;" in posting.description  # kept escaped; the pay parser unescapes it
    assert posting.detail_url == f"{boards.base}/gh/v1/boards/vaulttec/jobs/127817"
    # content=true was asked for: without it Greenhouse leaves the description out.
    path, _headers = boards.requests[0]
    assert path == "/gh/v1/boards/vaulttec/jobs"


def test_greenhouse_pay_comes_from_the_single_job_call(
    boards: BoardServer, client: PoliteClient
) -> None:
    job = documented.greenhouse_job(boards.base, "acme", 7, "Sales Engineer", "Remote (US)")
    boards.greenhouse["acme"] = [job]
    ote = dict(
        documented.GREENHOUSE_PAY_RANGE,
        title="OTE (on-target earnings)",
        min_cents=26000000,
        max_cents=30000000,
    )
    boards.greenhouse_pay[7] = [documented.GREENHOUSE_PAY_RANGE, ote]
    page = _read(boards, client, "greenhouse", "acme")
    got = _greenhouse_pay(client, page.postings[0].detail_url)
    # Base and OTE ranges disagree on basis: no single figure is made of them.
    assert got is None
    boards.greenhouse_pay[7] = [documented.GREENHOUSE_PAY_RANGE]
    assert _greenhouse_pay(client, page.postings[0].detail_url) == Pay(
        180000, 240000, "USD", "year", "base"
    )


def _greenhouse_pay(client: PoliteClient, url: str | None) -> Pay | None:
    assert url
    return readers.greenhouse_pay(client, url)


def test_lever_pages_through_skip_and_limit(boards: BoardServer, client: PoliteClient) -> None:
    boards.lever["leverdemo"] = [
        documented.lever_posting(
            boards.base, "leverdemo", f"id-{n}", f"Sales Engineer {n}", "Austin, TX"
        )
        for n in range(250)
    ]
    page = _read(boards, client, "lever", "leverdemo")
    assert len(page.postings) == 250
    assert len({p.external_id for p in page.postings}) == 250
    assert boards.count("/lever/") == 3  # 100 + 100 + 50


def test_lever_structured_salary_and_missing_fields(
    boards: BoardServer, client: PoliteClient
) -> None:
    good = documented.lever_posting(
        boards.base,
        "leverdemo",
        "a",
        "Solutions Engineer",
        "Austin, TX",
        salary={"currency": "USD", "interval": "per-hour-wage", "min": 60, "max": 80},
    )
    no_title = documented.lever_posting(boards.base, "leverdemo", "b", "", "Austin, TX")
    no_url = documented.lever_posting(boards.base, "leverdemo", "c", "Sales Engineer", "X")
    del no_url["hostedUrl"]
    odd_salary = documented.lever_posting(
        boards.base,
        "leverdemo",
        "d",
        "Sales Engineer",
        "Austin, TX",
        salary={"currency": "USD", "interval": "per-fortnight", "min": "lots", "max": None},
    )
    boards.lever["leverdemo"] = [good, no_title, no_url, odd_salary, "not an object"]  # type: ignore[list-item]
    page = _read(boards, client, "lever", "leverdemo")
    assert [p.external_id for p in page.postings] == ["a", "d"]
    assert page.skipped == 3
    assert page.postings[0].pay == Pay(60, 80, "USD", "hour", "base")
    assert page.postings[0].country == "US"
    assert page.postings[1].pay is None


def test_ashby_documented_example_has_no_id_and_keys_on_the_url(
    boards: BoardServer, client: PoliteClient
) -> None:
    boards.ashby["example"] = [copy.deepcopy(documented.ASHBY_EXAMPLE_JOB)]
    (posting,) = _read(boards, client, "ashby", "example").postings
    assert posting.external_id == "https://jobs.ashbyhq.com/example_job"
    assert posting.country == "USA"
    assert posting.remote is True
    # Only the Salary component is pay; equity and bonus are not a range.
    assert posting.pay == Pay(81000, 87000, "USD", "year", "base")


def test_ashby_unlisted_postings_are_skipped(boards: BoardServer, client: PoliteClient) -> None:
    hidden = documented.ashby_job(boards.base, "acme", "h", "Sales Engineer", "Remote")
    hidden["isListed"] = False
    boards.ashby["acme"] = [hidden]
    page = _read(boards, client, "ashby", "acme")
    assert page.postings == [] and page.skipped == 1


@pytest.mark.parametrize("kind", ["greenhouse", "lever", "ashby"])
def test_a_board_that_404s_is_gone(boards: BoardServer, client: PoliteClient, kind: str) -> None:
    with pytest.raises(SourceGone):
        _read(boards, client, kind, "no-such-board")


def test_a_slow_board_times_out_after_retries(boards: BoardServer, client: PoliteClient) -> None:
    boards.lever["slow"] = []
    boards.delay["/lever/v0/postings/slow"] = 1.5
    with pytest.raises(FetchError, match=r"gave up after 2 attempts: no answer within 0\.5s"):
        _read(boards, client, "lever", "slow")


def test_5xx_and_429_are_retried(boards: BoardServer, client: PoliteClient) -> None:
    boards.ashby["busy"] = [documented.ashby_job(boards.base, "busy", "1", "Sales Engineer", "X")]
    boards.fail_next["/ashby/"].append((503, {}))
    page = _read(boards, client, "ashby", "busy")
    assert len(page.postings) == 1
    boards.fail_next["/ashby/"].extend([(429, {"Retry-After": "0"}), (429, {"Retry-After": "0"})])
    with pytest.raises(FetchError, match="HTTP 429"):
        _read(boards, client, "ashby", "busy")


def test_an_answer_that_is_not_json_is_a_clear_failure(
    boards: BoardServer, client: PoliteClient
) -> None:
    boards.fail_next["/gh/"].append((200, {"Content-Type": "text/html"}))  # body '{"error":...'
    boards.greenhouse["acme"] = []
    with pytest.raises(FetchError, match="no 'jobs' list"):
        _read(boards, client, "greenhouse", "acme")
    html = client.get(f"{boards.base}/pages/x").body  # an HTML page where JSON was expected
    with pytest.raises(FetchError, match="not JSON"):
        readers._json(html, "http://example.invalid")


def test_requests_carry_a_real_user_agent(boards: BoardServer, client: PoliteClient) -> None:
    boards.ashby["acme"] = []
    _read(boards, client, "ashby", "acme")
    _path, headers = boards.requests[-1]
    assert headers["user-agent"].startswith("AISE-Pulse-Brief/")


def _read(server: BoardServer, client: PoliteClient, kind: str, board: str) -> readers.BoardPage:
    prefix = {"greenhouse": "gh", "lever": "lever", "ashby": "ashby"}[kind]
    reader = {"greenhouse": readers.greenhouse, "lever": readers.lever, "ashby": readers.ashby}[
        kind
    ]
    return reader(client, f"{server.base}/{prefix}", board)


def test_greenhouse_pay_is_read_from_its_escaped_description(
    boards: BoardServer, client: PoliteClient
) -> None:
    from pipeline.intake.fetch import parse

    content = "<p>The base salary range for this role is $180,000&nbsp;&ndash;&nbsp;$240,000.</p>"
    boards.greenhouse["acme"] = [
        documented.greenhouse_job(
            boards.base, "acme", 3, "Sales Engineer", "Seattle, WA", content=content
        )
    ]
    (raw,) = _read(boards, client, "greenhouse", "acme").postings
    assert "&amp;nbsp;" in raw.description  # escaped twice over the wire, as documented
    parsed = parse(raw, readers.greenhouse_pay(client, raw.detail_url or ""))
    assert parsed.pay == Pay(180000, 240000, "USD", "year", "base")
    assert (parsed.pay_origin, parsed.region, parsed.level) == ("text", "US", "Mid-level")
