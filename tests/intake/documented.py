"""Answers the three job boards document, as fixtures; each names where it comes from.

Builders return postings in exactly the documented shape, so tests can ask for any title,
place and pay without inventing fields the providers do not send.
"""

from __future__ import annotations

import copy
from typing import Any

# Greenhouse Job Board API, "List jobs" with ?content=true —
# https://developers.greenhouse.io/job-board.html#list-jobs (the documented example, verbatim
# apart from the departments/offices lists being shortened). Note the entity-escaped HTML in
# ``content``: Greenhouse documents that HTML "will be automatically converted into
# corresponding HTML entities".
GREENHOUSE_LIST_EXAMPLE: dict[str, Any] = {
    "jobs": [
        {
            "id": 127817,
            "internal_job_id": 144381,
            "title": "Vault Designer",
            "updated_at": "2016-01-14T10:55:28-05:00",
            "requisition_id": "50",
            "location": {"name": "NYC"},
            "absolute_url": "https://boards.greenhouse.io/vaulttec/jobs/127817",
            "metadata": None,
            "content": "This is the job description. &lt;p&gt;Any HTML included through the "
            "hosted job application editor will be automatically converted into "
            "corresponding HTML entities.&lt;/p&gt;",
            "departments": [
                {
                    "id": 13583,
                    "name": "Department of Departments",
                    "parent_id": None,
                    "child_ids": [13585],
                }
            ],
            "offices": [
                {
                    "id": 8304,
                    "name": "East Coast",
                    "location": "United States",
                    "parent_id": None,
                    "child_ids": [8787, 8798],
                }
            ],
        }
    ],
    "meta": {"total": 1},
}

# Greenhouse "Retrieve a job" with ?pay_transparency=true adds ``pay_input_ranges`` —
# https://developers.greenhouse.io/job-board.html#retrieve-a-job and Greenhouse support
# article 10028084062491 ("confirm the query parameters pay_transparency ... in the GET:
# Retrieve a job endpoint have been set to true"). Amounts are in cents.
GREENHOUSE_PAY_RANGE: dict[str, Any] = {
    "min_cents": 18000000,
    "max_cents": 24000000,
    "currency_type": "USD",
    "title": "Base salary range",
    "blurb": "Final offer depends on location and experience.",
}

# Lever Postings API, JSON mode fields — https://github.com/lever/postings-api#get-a-list-of-job-postings
# (table of fields: id, text, categories, country, opening, description, descriptionPlain,
# lists, additional, hostedUrl, applyUrl, workplaceType, salaryRange{currency, interval,
# min, max}, salaryDescription, salaryDescriptionPlain). The response is a bare list; paging
# is ``skip``/``limit``. Lever's own example site is ``leverdemo``.
LEVER_POSTING_EXAMPLE: dict[str, Any] = {
    "id": "5ac21346-8e0c-4494-8e7a-3eb92ff77902",
    "text": "Senior Solutions Engineer",
    "categories": {
        "commitment": "Full-time",
        "department": "Sales",
        "location": "San Francisco, CA",
        "team": "Solutions",
        "allLocations": ["San Francisco, CA"],
    },
    "country": "US",
    "opening": "<p>Help customers adopt our platform.</p>",
    "openingPlain": "Help customers adopt our platform.",
    "description": "<p>Help customers adopt our platform.</p>",
    "descriptionPlain": "Help customers adopt our platform.",
    "descriptionBody": "",
    "descriptionBodyPlain": "",
    "lists": [{"text": "Requirements", "content": "<li>Demos</li>"}],
    "additional": "",
    "additionalPlain": "",
    "hostedUrl": "https://jobs.lever.co/leverdemo/5ac21346-8e0c-4494-8e7a-3eb92ff77902",
    "applyUrl": "https://jobs.lever.co/leverdemo/5ac21346-8e0c-4494-8e7a-3eb92ff77902/apply",
    "workplaceType": "hybrid",
    "salaryRange": {"currency": "USD", "interval": "per-year-salary", "min": 170000, "max": 210000},
    "salaryDescription": "<p>Base salary.</p>",
    "salaryDescriptionPlain": "Base salary.",
    "createdAt": 1700000000000,
}

# Ashby Job Postings API — https://developers.ashbyhq.com/docs/public-job-posting-api
# (the documented example, with includeCompensation=true). Two documented oddities kept on
# purpose: the example job has **no ``id``**, and its JSON is not valid as printed (missing
# commas after ``"location": "San Francisco"`` and after the ``secondaryLocations`` list, and
# ``compensation`` placed beside ``jobs``); the fixture is the evident intent: valid JSON, the
# compensation on the job, which is where measured answers carry it.
ASHBY_EXAMPLE_JOB: dict[str, Any] = {
    "title": "Product Manager",
    "location": "Houston, TX",
    "secondaryLocations": [
        {
            "location": "San Francisco",
            "address": {
                "addressLocality": "San Francisco",
                "addressRegion": "California",
                "addressCountry": "USA",
            },
        }
    ],
    "department": "Product",
    "team": "Growth",
    "isListed": True,
    "isRemote": True,
    "descriptionHtml": "<p>Join our team</p>",
    "descriptionPlain": "Join our team",
    "publishedAt": "2021-04-30T16:21:55.393+00:00",
    "employmentType": "FullTime",
    "address": {
        "postalAddress": {
            "addressLocality": "Houston",
            "addressRegion": "Texas",
            "addressCountry": "USA",
        }
    },
    "jobUrl": "https://jobs.ashbyhq.com/example_job",
    "applyUrl": "https://jobs.ashbyhq.com/example/apply",
    "compensation": {
        "compensationTierSummary": "$81K – $87K • 0.5% – 1.75% • Offers Bonus",
        "scrapeableCompensationSalarySummary": "$81K - $87K",
        "compensationTiers": [
            {
                "id": "cedc8928-e850-47e8-a510-e412f61d068a",
                "tierSummary": "Estimated based on experience $81K – $87K • 0.5% – 1.75% • "
                "Offers Bonus",
                "title": "Zone A",
                "additionalInformation": None,
                "components": [
                    {
                        "id": "5d131ad4-6b3a-4f01-938e-511c60bd0398",
                        "summary": "0.5% – 1.75%",
                        "compensationType": "EquityPercentage",
                        "interval": "NONE",
                        "currencyCode": None,
                        "minValue": 0.5,
                        "maxValue": 1.75,
                    },
                    {
                        "id": "5c8de1b0-52d6-41d7-8ae3-671ee74c745a",
                        "summary": "Estimated based on experience $81K – $87K",
                        "compensationType": "Salary",
                        "interval": "1 YEAR",
                        "currencyCode": "USD",
                        "minValue": 81000,
                        "maxValue": 87000,
                    },
                    {
                        "id": "5f881813-f164-4b91-b652-fd713627e810",
                        "summary": "Offers Bonus",
                        "compensationType": "Bonus",
                        "interval": "1 YEAR",
                        "currencyCode": None,
                        "minValue": None,
                        "maxValue": None,
                    },
                ],
            }
        ],
        "summaryComponents": [],
    },
}


def greenhouse_job(
    base: str, board: str, job_id: int, title: str, location: str, content: str = ""
) -> dict[str, Any]:
    """A job in the documented list shape (content entity-escaped as Greenhouse sends it)."""
    job = copy.deepcopy(GREENHOUSE_LIST_EXAMPLE["jobs"][0])
    job.update(
        id=job_id,
        internal_job_id=job_id + 1_000_000,
        title=title,
        location={"name": location},
        absolute_url=f"{base}/pages/greenhouse/{board}/jobs/{job_id}",
        content=content.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"),
    )
    return job


def lever_posting(
    base: str,
    site: str,
    posting_id: str,
    title: str,
    location: str,
    *,
    country: str | None = "US",
    salary: dict[str, Any] | None = None,
    text: str = "",
) -> dict[str, Any]:
    posting = copy.deepcopy(LEVER_POSTING_EXAMPLE)
    posting.update(
        id=posting_id,
        text=title,
        country=country,
        hostedUrl=f"{base}/pages/lever/{site}/{posting_id}",
        applyUrl=f"{base}/pages/lever/{site}/{posting_id}/apply",
        descriptionPlain=text or posting["descriptionPlain"],
    )
    posting["categories"]["location"] = location
    if salary is None:
        posting.pop("salaryRange")  # "This field is optional."
        posting.pop("salaryDescription")
        posting.pop("salaryDescriptionPlain")
    else:
        posting["salaryRange"] = salary
    return posting


def ashby_job(
    base: str,
    name: str,
    job_id: str | None,
    title: str,
    location: str,
    *,
    country: str = "USA",
    salary: tuple[int, int, str, str] | None = (150000, 190000, "USD", "1 YEAR"),
    remote: bool = False,
) -> dict[str, Any]:
    job = copy.deepcopy(ASHBY_EXAMPLE_JOB)
    slug = job_id or title.lower().replace(" ", "-")
    job.update(
        title=title, location=location, isRemote=remote, jobUrl=f"{base}/pages/ashby/{name}/{slug}"
    )
    if job_id is not None:
        job["id"] = job_id
    job["address"]["postalAddress"]["addressCountry"] = country
    salary_component = job["compensation"]["compensationTiers"][0]["components"][1]
    if salary is None:
        job["compensation"]["compensationTiers"] = []
    else:
        low, high, currency, interval = salary
        salary_component.update(
            minValue=low, maxValue=high, currencyCode=currency, interval=interval
        )
    return job
