"""The three public job board APIs, each read as its documentation describes it.

- Greenhouse Job Board API — https://developers.greenhouse.io/job-board.html
  ``GET /v1/boards/{board}/jobs?content=true``: ``{"jobs": [...], "meta": {"total": N}}``,
  no paging; ``content`` is HTML *entity-escaped* (``&lt;p&gt;``). Pay ranges come only from
  ``GET /v1/boards/{board}/jobs/{id}?pay_transparency=true`` as ``pay_input_ranges``
  (``min_cents``, ``max_cents``, ``currency_type``, ``title``, ``blurb``) — Greenhouse support
  article 10028084062491 — so that call is made only for new or changed matching postings.
- Lever Postings API — https://github.com/lever/postings-api (README)
  ``GET /v0/postings/{site}?mode=json&skip=N&limit=M``: a bare JSON list, paged with
  ``skip``/``limit``; ``text`` is the title, ``categories.location``, ``country`` (ISO
  alpha-2 or null), ``workplaceType``, ``hostedUrl``, optional ``salaryRange``
  (``currency``, ``interval`` such as ``per-year-salary``, ``min``, ``max``).
- Ashby Posting API — https://developers.ashbyhq.com/docs/public-job-posting-api
  ``GET /posting-api/job-board/{name}?includeCompensation=true``: ``{"apiVersion": "1",
  "jobs": [...]}``, no paging; ``jobUrl``, ``isRemote``, ``isListed``,
  ``address.postalAddress.addressCountry``, ``descriptionPlain``, and ``compensation`` with
  ``compensationTiers[].components[]`` (``compensationType`` ``Salary``/``Commission``/…,
  ``interval`` ``1 YEAR``/``1 HOUR``…, ``currencyCode``, ``minValue``, ``maxValue``). The
  documented example job has no ``id``: the job URL is the key then.

Unknown or missing fields never fail a fetch: a posting without what it needs (a title and
a URL) is skipped and counted.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from pipeline.content.validate import web_url
from pipeline.errors import ValidationError
from pipeline.intake.http import Answer, FetchError, PoliteClient
from pipeline.intake.models import SourceKind
from pipeline.intake.pay import Interval, Pay, basis_from_words, plain_text, span

LEVER_PAGE = 100
LEVER_MAX_PAGES = 100  # 10,000 postings: no real board is larger; a loop cannot run away
INTERVALS: dict[str, Interval] = {
    # Ashby
    "1 YEAR": "year",
    "1 MONTH": "month",
    "1 WEEK": "week",
    "1 DAY": "day",
    "1 HOUR": "hour",
    # Lever
    "per-year-salary": "year",
    "per-month-salary": "month",
    "per-week-salary": "week",
    "per-day-wage": "day",
    "per-hour-wage": "hour",
}


@dataclass(frozen=True)
class RawPosting:
    """A posting as one board described it, before role rules and parsing."""

    external_id: str
    url: str
    title: str
    location: str
    description: str = ""
    remote: bool | None = None
    country: str | None = None
    pay: Pay | None = None
    # Greenhouse only: pay needs a second request, made later for postings worth it.
    detail_url: str | None = None


@dataclass
class BoardPage:
    """Everything a board answered: its postings and how many entries were unusable."""

    postings: list[RawPosting] = field(default_factory=list)
    skipped: int = 0
    not_modified: bool = False
    etag: str | None = None
    last_modified: str | None = None


def _json(body: bytes, url: str) -> Any:
    try:
        return json.loads(body)
    except ValueError as err:
        raise FetchError(url, "answer is not JSON") from err


def _text(value: object, limit: int = 200) -> str:
    return plain_text(value)[:limit] if isinstance(value, str) else ""


def _link(value: object) -> str | None:
    """An absolute http(s) URL of sane length, or ``None`` (javascript:, relative, junk)."""
    if not isinstance(value, str):
        return None
    try:
        return web_url(value, "url")
    except ValidationError:
        return None


def _int_amount(value: object, divisor: int = 1) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    amount = round(value / divisor)
    return amount if amount > 0 else None


def _pay(
    low: object,
    high: object,
    currency: object,
    interval: Interval | None,
    basis_words: tuple[str | None, ...],
    divisor: int = 1,
) -> Pay | None:
    lo, hi = _int_amount(low, divisor), _int_amount(high, divisor)
    if lo is None or hi is None or interval is None or lo > hi:
        return None
    if not isinstance(currency, str) or len(currency) != 3 or not currency.isalpha():
        return None
    return Pay(lo, hi, currency.upper(), interval, basis_from_words(*basis_words))


# Greenhouse --------------------------------------------------------------------------------


def greenhouse(
    client: PoliteClient,
    base: str,
    board: str,
    etag: str | None = None,
    last_modified: str | None = None,
) -> BoardPage:
    url = f"{base}/v1/boards/{quote(board, safe='')}/jobs"
    answer = client.get(url, params={"content": "true"}, etag=etag, last_modified=last_modified)
    return _jobs_page(answer, url, lambda job: _greenhouse_posting(job, url))


def _jobs_page(
    answer: Answer, url: str, parse: Callable[[object], RawPosting | None]
) -> BoardPage:
    """A board's answer with a top-level ``jobs`` list (Greenhouse, Ashby), each job parsed."""
    page = BoardPage(etag=answer.etag, last_modified=answer.last_modified)
    if answer.not_modified:
        page.not_modified = True
        return page
    data = _json(answer.body, url)
    jobs = data.get("jobs") if isinstance(data, dict) else None
    if not isinstance(jobs, list):
        raise FetchError(url, "answer has no 'jobs' list")
    for job in jobs:
        posting = parse(job)
        if posting is None:
            page.skipped += 1
        else:
            page.postings.append(posting)
    return page


def _greenhouse_posting(job: object, list_url: str) -> RawPosting | None:
    if not isinstance(job, dict):
        return None
    job_id, title, link = job.get("id"), _text(job.get("title")), _link(job.get("absolute_url"))
    if isinstance(job_id, bool) or not isinstance(job_id, int | str) or not title or not link:
        return None
    location = job.get("location")
    where = _text(location.get("name")) if isinstance(location, dict) else ""
    return RawPosting(
        external_id=str(job_id),
        url=link,
        title=title,
        location=where,
        description=str(job.get("content") or ""),
        detail_url=f"{list_url}/{quote(str(job_id), safe='')}",
    )


def greenhouse_pay(client: PoliteClient, detail_url: str) -> Pay | None:
    """The span of a Greenhouse job's pay transparency ranges (cents → whole units)."""
    answer = client.get(detail_url, params={"pay_transparency": "true"})
    data = _json(answer.body, detail_url)
    ranges = data.get("pay_input_ranges") if isinstance(data, dict) else None
    if not isinstance(ranges, list):
        return None
    pays = []
    for item in ranges:
        if not isinstance(item, dict):
            continue
        # Greenhouse publishes yearly ranges; the title/blurb says when it is OTE.
        words = (_text(item.get("title")), _text(item.get("blurb"), 500))
        pay = _pay(
            item.get("min_cents"),
            item.get("max_cents"),
            item.get("currency_type"),
            "year",
            words,
            divisor=100,
        )
        if pay is not None:
            pays.append(pay)
    return span(pays) if pays else None


# Lever -------------------------------------------------------------------------------------


def lever(
    client: PoliteClient,
    base: str,
    board: str,
    etag: str | None = None,
    last_modified: str | None = None,
) -> BoardPage:
    url = f"{base}/v0/postings/{quote(board, safe='')}"
    page = BoardPage()
    for number in range(LEVER_MAX_PAGES):
        params = {"mode": "json", "skip": str(number * LEVER_PAGE), "limit": str(LEVER_PAGE)}
        first = number == 0
        answer = client.get(
            url,
            params=params,
            etag=etag if first else None,
            last_modified=last_modified if first else None,
        )
        if number == 0:
            page.etag, page.last_modified = answer.etag, answer.last_modified
            if answer.not_modified:
                page.not_modified = True
                return page
        data = _json(answer.body, url)
        if not isinstance(data, list):
            raise FetchError(url, "answer is not a list of postings")
        for item in data:
            posting = _lever_posting(item)
            if posting is None:
                page.skipped += 1
            else:
                page.postings.append(posting)
        if len(data) < LEVER_PAGE:
            return page
    raise FetchError(url, f"more than {LEVER_MAX_PAGES} pages of postings")


def _lever_posting(item: object) -> RawPosting | None:
    if not isinstance(item, dict):
        return None
    posting_id, title, link = item.get("id"), _text(item.get("text")), _link(item.get("hostedUrl"))
    if not isinstance(posting_id, str) or not posting_id or not title or not link:
        return None
    categories = item.get("categories")
    categories = categories if isinstance(categories, dict) else {}
    salary = item.get("salaryRange")
    pay = None
    if isinstance(salary, dict):
        interval = INTERVALS.get(str(salary.get("interval")))
        words = (_text(item.get("salaryDescriptionPlain"), 500),)
        pay = _pay(salary.get("min"), salary.get("max"), salary.get("currency"), interval, words)
    description = item.get("descriptionPlain") or item.get("description") or ""
    extra = item.get("salaryDescriptionPlain") or ""
    return RawPosting(
        external_id=posting_id,
        url=link,
        title=title,
        location=_text(categories.get("location")),
        description=f"{description}\n{extra}" if isinstance(description, str) else str(extra),
        remote=item.get("workplaceType") == "remote",
        country=item.get("country") if isinstance(item.get("country"), str) else None,
        pay=pay,
    )


# Ashby -------------------------------------------------------------------------------------


def ashby(
    client: PoliteClient,
    base: str,
    board: str,
    etag: str | None = None,
    last_modified: str | None = None,
) -> BoardPage:
    url = f"{base}/posting-api/job-board/{quote(board, safe='')}"
    answer = client.get(
        url, params={"includeCompensation": "true"}, etag=etag, last_modified=last_modified
    )
    return _jobs_page(answer, url, _ashby_posting)


def _ashby_posting(job: object) -> RawPosting | None:
    if not isinstance(job, dict) or job.get("isListed") is False:
        return None
    title, link = _text(job.get("title")), _link(job.get("jobUrl"))
    if not title or not link:
        return None
    job_id = job.get("id")
    address = job.get("address")
    address = address if isinstance(address, dict) else {}
    postal = address.get("postalAddress")
    postal = postal if isinstance(postal, dict) else {}
    country = postal.get("addressCountry")
    description = job.get("descriptionPlain") or job.get("descriptionHtml") or ""
    return RawPosting(
        external_id=job_id if isinstance(job_id, str) and job_id else link,
        url=link,
        title=title,
        location=_text(job.get("location")),
        description=description if isinstance(description, str) else "",
        remote=job.get("isRemote") is True,
        country=country if isinstance(country, str) else None,
        pay=_ashby_pay(job.get("compensation")),
    )


def _ashby_components(compensation: dict[str, Any]) -> Iterator[dict[str, Any]]:
    tiers = compensation.get("compensationTiers")
    for tier in tiers if isinstance(tiers, list) else []:
        components = tier.get("components") if isinstance(tier, dict) else None
        for component in components if isinstance(components, list) else []:
            if isinstance(component, dict):
                yield component


def _ashby_pay(compensation: object) -> Pay | None:
    """The span of the Salary components of every tier (zones); base pay by definition."""
    if not isinstance(compensation, dict):
        return None
    pays = []
    for component in _ashby_components(compensation):
        if component.get("compensationType") != "Salary":
            continue  # equity, commission and bonus are not a salary range
        pay = _pay(
            component.get("minValue"),
            component.get("maxValue"),
            component.get("currencyCode"),
            INTERVALS.get(str(component.get("interval"))),
            (),
        )
        if pay is not None:
            pays.append(pay)
    return span(pays) if pays else None


BoardReader = Callable[..., BoardPage]
READERS: dict[SourceKind, BoardReader] = {
    SourceKind.GREENHOUSE: greenhouse,
    SourceKind.LEVER: lever,
    SourceKind.ASHBY: ashby,
}
