"""The JSON API: tokens hashed at rest, content in, issue status out, and no 5xx for any input."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from pipeline.admin.models import ApiToken
from pipeline.content.models import SalaryPoint
from pulse_core.database import transaction
from tests.admin.conftest import Desk, api_token_for, csrf_of

POINT = {
    "role": "AI Sales Engineer", "level": "Senior", "currency": "USD", "low": 180000,
    "high": 240000, "region": "US", "source": "Survey", "sample_size": 40, "as_of": "2026-11-01",
}  # fmt: skip


VALID: dict[str, dict[str, Any]] = {
    "/api/v1/snippets": {"section": "quick-links", "title": "T", "body": "b"},
    "/api/v1/salary-points": POINT,
    "/api/v1/jobs": {"company": "A", "title": "T", "location": "L", "url": "https://a.example/"},
}


def _client(desk: Desk) -> TestClient:
    client = desk.client()
    client.headers["Authorization"] = f"Bearer {api_token_for(desk.pulse, desk.editor_id)}"
    return client


def test_tokens_are_shown_once_and_stored_hashed_and_can_be_revoked(desk: Desk) -> None:
    browser = desk.editor()
    csrf = csrf_of(browser, "/admin/tokens")
    page = browser.post("/admin/tokens", data={"csrf_token": csrf, "name": "zapier"}).text
    token = page.split('<code id="new-token">')[1].split("</code>")[0]
    with transaction(desk.pulse.db.sessions) as session:
        row = session.scalar(select(ApiToken))
        assert row is not None and token not in (row.token_hash, row.prefix)
        token_id = row.id
    api = desk.client()
    headers = {"Authorization": f"Bearer {token}"}
    assert api.get("/api/v1/snippets", headers=headers).status_code == 200
    assert token not in browser.get("/admin/tokens").text
    browser.post(f"/admin/tokens/{token_id}/revoke", data={"csrf_token": csrf})
    assert api.get("/api/v1/snippets", headers=headers).status_code == 401


def test_an_editor_cannot_revoke_someone_elses_token(desk: Desk) -> None:
    api_token_for(desk.pulse, desk.admin_id)
    browser = desk.editor()
    csrf = csrf_of(browser, "/admin/tokens")
    assert browser.post("/admin/tokens/1/revoke", data={"csrf_token": csrf}).status_code == 404


def test_snippets_are_queued_and_listed(desk: Desk) -> None:
    client = _client(desk)
    created = client.post(
        "/api/v1/snippets", json={"section": "quick-links", "title": "A link", "body": "*hi*"}
    )
    assert created.status_code == 201
    assert created.json()["status"] == "ready"
    listed = client.get("/api/v1/snippets").json()
    assert [s["title"] for s in listed] == ["A link"]
    bad = client.post("/api/v1/snippets", json={"section": "nope", "title": "x"})
    assert bad.status_code == 422
    assert bad.json()["detail"]["field"] == "section"


def test_salary_points_are_all_or_nothing_with_the_bad_item_named(desk: Desk) -> None:
    client = _client(desk)
    bad = client.post("/api/v1/salary-points", json=[POINT, {**POINT, "high": 5}])
    assert bad.status_code == 422
    assert bad.json()["detail"] == {
        "field": "[1].high",
        "message": "5 must not be below low (180,000)",
    }
    with transaction(desk.pulse.db.sessions) as session:
        assert session.scalar(select(func.count()).select_from(SalaryPoint)) == 0
    ok = client.post("/api/v1/salary-points", json=[POINT, POINT])
    assert ok.json() == {"imported": 2}
    assert len(client.get("/api/v1/salary-points").json()) == 2


def test_jobs_are_added_and_a_duplicate_url_refused(desk: Desk) -> None:
    client = _client(desk)
    job = {"company": "Acme", "title": "AI SE", "location": "NYC", "url": "https://a.example/1"}
    assert client.post("/api/v1/jobs", json=job).status_code == 201
    again = client.post("/api/v1/jobs", json=job)
    # A conflict with what is there, not a malformed field: 409, with the same error body.
    assert again.status_code == 409
    assert again.json() == {
        "detail": {"field": "url", "message": "https://a.example/1 is already listed"}
    }
    assert [j["company"] for j in client.get("/api/v1/jobs").json()] == ["Acme"]


def test_a_method_the_path_does_not_have_names_every_method_it_has(desk: Desk) -> None:
    client = _client(desk)
    for path in ("/api/v1/jobs", "/api/v1/snippets", "/api/v1/salary-points"):
        answer = client.request("OPTIONS", path)
        assert answer.status_code == 405
        assert answer.headers["Allow"] == "GET, POST"
        assert answer.json() == {"detail": "Method Not Allowed"}
    assert client.delete("/api/v1/issues/next").headers["Allow"] == "GET"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("title", "AI\x07SE"),
        ("title", " \t "),
        ("link", "https://a.example/\x01"),
        ("body", "tab\tand\nnewline are fine, a bell\x07 is not"),
    ],
)
def test_a_snippet_the_schema_refuses_is_refused(desk: Desk, field: str, value: str) -> None:
    """The declared patterns match the queue's checks, so a generated client agrees."""
    schema = desk.client().get("/openapi.json").json()["components"]["schemas"]["SnippetIn"]
    declared = schema["properties"][field]
    pattern = declared.get("pattern") or next(
        option["pattern"] for option in declared["anyOf"] if "pattern" in option
    )
    assert re.search(pattern, value) is None
    snippet = {"section": "quick-links", "title": "AI SE", field: value}
    answer = _client(desk).post("/api/v1/snippets", json=snippet)
    assert answer.status_code == 422 and answer.json()["detail"]["field"] == field


@pytest.mark.parametrize(
    ("field", "value"),
    [("title", "  AI SE\n"), ("link", " https://a.example/x "), ("body", "line\r\nline\t")],
)
def test_a_snippet_the_schema_accepts_is_accepted(desk: Desk, field: str, value: str) -> None:
    schema = desk.client().get("/openapi.json").json()["components"]["schemas"]["SnippetIn"]
    declared = schema["properties"][field]
    pattern = declared.get("pattern") or next(
        option["pattern"] for option in declared["anyOf"] if "pattern" in option
    )
    assert re.search(pattern, value) is not None
    snippet = {"section": "quick-links", "title": "AI SE", field: value}
    assert _client(desk).post("/api/v1/snippets", json=snippet).status_code == 201


def test_issue_status_reports_readiness_and_approval(desk: Desk) -> None:
    client = _client(desk)
    status = client.get("/api/v1/issues/2026-W48").json()
    assert status["built"] is False and status["ready"] is False
    assert {s["section"] for s in status["sections"]} >= {"quick-links", "role-insights"}
    browser = desk.editor()
    csrf = csrf_of(browser, "/admin/issue")
    browser.post(
        "/admin/issue/approve", data={"csrf_token": csrf, "week": "2026-W48", "confirm": "yes"}
    )
    status = client.get("/api/v1/issues/2026-W48").json()
    assert status["built"] is True and status["approved_by"] == "ed@example.com"
    assert client.get("/api/v1/issues/next").status_code == 200
    assert client.get("/api/v1/issues/yesterday").status_code == 422


def test_the_openapi_schema_documents_the_api_and_its_bearer_auth(desk: Desk) -> None:
    schema = desk.client().get("/openapi.json").json()
    paths = schema["paths"]
    assert {"/api/v1/snippets", "/api/v1/salary-points", "/api/v1/jobs",
            "/api/v1/issues/{week}"} <= set(paths)  # fmt: skip
    assert not any(path.startswith("/admin") for path in paths)
    assert schema["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"


# --- property test: arbitrary input against every operation in the schema -----------------

JSON_LEAF = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=40),
    st.sampled_from(["quick-links", "2026-W48", "2026-02-30", "https://x.example/", "USD", "-1"]),
)
JSON = st.recursive(
    JSON_LEAF,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)


def _operations(schema: dict[str, Any]) -> list[tuple[str, str, list[str]]]:
    """(method, path, body property names) of every API operation the schema documents."""
    found = []
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            names: list[str] = []
            body = operation.get("requestBody", {}).get("content", {}).get("application/json")
            if body:
                ref = body["schema"].get("$ref") or body["schema"].get("items", {}).get("$ref", "")
                if ref:
                    model = schema["components"]["schemas"][ref.rsplit("/", 1)[1]]
                    names = list(model.get("properties", {}))
            found.append((method.upper(), path, names))
    return found


def test_no_input_makes_the_api_fail_with_a_5xx(desk: Desk) -> None:
    client = _client(desk)
    schema = client.get("/openapi.json").json()
    operations = [op for op in _operations(schema) if op[1].startswith("/api/v1/")]
    assert len(operations) == 7

    @st.composite
    def requests(draw: st.DrawFn) -> tuple[str, str, Any]:
        method, path, names = draw(st.sampled_from(operations))
        url = path.replace("{week}", quote(draw(st.text(min_size=1, max_size=12)), safe=""))
        choice = draw(st.integers(0, 2)) if names else 0
        if choice == 1:  # a valid body with one field replaced: reaches the domain validators
            fields = {**VALID[path], draw(st.sampled_from(names)): draw(JSON)}
        elif choice == 2:
            fields = draw(st.dictionaries(st.sampled_from(names), JSON, max_size=len(names)))
        body: Any = draw(JSON) if choice == 0 else [fields] if "salary" in path else fields
        return method, url, body

    @settings(
        max_examples=150,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(requests())
    def no_5xx(request: tuple[str, str, Any]) -> None:
        method, url, body = request
        response = client.request(method, url, content=json.dumps(body),
                                  headers={"Content-Type": "application/json"})  # fmt: skip
        assert response.status_code < 500, (method, url, body, response.text)

    no_5xx()


def test_text_postgres_cannot_store_is_a_422_not_a_500(desk: Desk) -> None:
    client = _client(desk)
    headers = {"Content-Type": "application/json"}
    for raw in (
        '{"section": "quick-links", "title": "\\ud800"}',
        '{"section": "quick-links", "title": "ok", "body": "nul \\u0000 here"}',
        '{"section": "quick-links", "title": "ok", "link": "http://["}',
    ):
        response = client.post("/api/v1/snippets", content=raw, headers=headers)
        assert response.status_code == 422, raw
    assert client.get("/api/v1/snippets").json() == []


def test_a_week_the_calendar_does_not_have_is_not_found(desk: Desk) -> None:
    answer = _client(desk).get("/api/v1/issues/2027-W53")  # 2027 has 52 ISO weeks
    assert answer.status_code == 404
    assert answer.json() == {"detail": "'2027-W53': 2027 has no week 53"}
    assert _client(desk).get("/api/v1/issues/2027-W52").status_code == 200


def test_a_whole_number_written_with_a_zero_fraction_is_an_integer(desk: Desk) -> None:
    """JSON Schema's integer includes 5.0; a string or a boolean is still refused."""
    client = _client(desk)
    job = {"company": "Acme", "title": "AI SE", "location": "NYC", "url": "https://a.example/2"}
    made = client.post("/api/v1/jobs", json={**job, "comp_low": 150000.0, "comp_high": 2e5})
    assert made.status_code == 201
    assert (made.json()["comp_low"], made.json()["comp_high"]) == (150000, 200000)
    for bad in (150000.5, "150000", True):
        refused = client.post("/api/v1/jobs", json={**job, "comp_low": bad, "comp_high": 2e5})
        assert refused.status_code == 422 and refused.json()["detail"]["field"] == "comp_low"
