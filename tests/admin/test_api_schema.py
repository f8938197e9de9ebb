"""The API's OpenAPI schema is its contract: what it declares is what the API answers.

Schemathesis generates requests from the schema the app serves — valid ones, and ones that
break a declared constraint — and checks every answer: never a 5xx, a declared status code,
a body that matches the declared one, and every request the schema calls invalid refused.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    negative_data_rejection,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.generation.case import Case

from tests.admin.conftest import Desk, api_token_for

API = "^/api/v1/"
CONFORMS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
# Enough to reach every declared constraint of the seven operations, small enough to stay fast.
EXAMPLES = 25


def _operations(desk: Desk) -> list[Any]:
    schema = schemathesis.openapi.from_asgi("/openapi.json", desk.app).include(path_regex=API)
    return [result.ok() for result in schema.get_all_operations()]


def _fuzz(desk: Desk, mode: GenerationMode, checks: list[Any]) -> None:
    token = api_token_for(desk.pulse, desk.editor_id)
    operations = _operations(desk)
    assert len(operations) == 7
    cases = st.one_of([operation.as_strategy(generation_mode=mode) for operation in operations])

    @settings(
        max_examples=EXAMPLES * len(operations),
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(cases)
    def answers_as_declared(case: Case) -> None:
        case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, checks=checks)

    answers_as_declared()


@pytest.mark.slow
@pytest.mark.postgres
def test_every_valid_request_is_answered_as_the_schema_declares(desk: Desk) -> None:
    _fuzz(desk, GenerationMode.POSITIVE, CONFORMS)


@pytest.mark.slow
@pytest.mark.postgres
def test_every_request_the_schema_calls_invalid_is_refused_as_declared(desk: Desk) -> None:
    _fuzz(desk, GenerationMode.NEGATIVE, [*CONFORMS, negative_data_rejection])


# --- the declarations schemathesis cannot reach on its own --------------------------------


def _declared(desk: Desk, path: str, method: str, status: int) -> dict[str, Any]:
    schema = desk.client().get("/openapi.json").json()
    response: dict[str, Any] = schema["paths"][path][method]["responses"][str(status)]
    ref = response["content"]["application/json"]["schema"]["$ref"]
    return {"response": response, "model": schema["components"]["schemas"][ref.split("/")[-1]]}


API_OPERATIONS = [
    ("get", "/api/v1/snippets"),
    ("post", "/api/v1/snippets"),
    ("get", "/api/v1/salary-points"),
    ("post", "/api/v1/salary-points"),
    ("get", "/api/v1/jobs"),
    ("post", "/api/v1/jobs"),
    ("get", "/api/v1/issues/{week}"),
]


@pytest.mark.parametrize(("method", "path"), API_OPERATIONS)
def test_every_operation_declares_its_401_and_answers_it_without_a_token(
    desk: Desk, method: str, path: str
) -> None:
    declared = _declared(desk, path, method, 401)
    assert declared["model"]["properties"]["detail"]["type"] == "string"
    assert declared["response"]["headers"]["WWW-Authenticate"]["required"] is True
    answer = desk.client().request(method, path.replace("{week}", "next"), json={})
    assert answer.status_code == 401
    assert answer.json() == {"detail": "a valid API token is required"}
    assert answer.headers["WWW-Authenticate"] == "Bearer"


def _authorized(desk: Desk) -> TestClient:
    client = desk.client()
    client.headers["Authorization"] = f"Bearer {api_token_for(desk.pulse, desk.editor_id)}"
    return client


@pytest.mark.parametrize(
    ("content", "content_type", "message"),
    [
        (b'{"section": ', "application/json", "is not valid JSON (Expecting value)"),
        (b'{"title": "\xff"}', "application/json", "is not valid JSON (not UTF-8 text)"),
        (b"section=quick-links", "text/plain",
         "must be JSON, sent as Content-Type: application/json"),
    ],
)  # fmt: skip
@pytest.mark.parametrize("path", ["/api/v1/snippets", "/api/v1/salary-points", "/api/v1/jobs"])
def test_a_body_that_is_not_json_is_the_declared_400(
    desk: Desk, path: str, content: bytes, content_type: str, message: str
) -> None:
    declared = _declared(desk, path, "post", 400)
    assert declared["model"]["title"] == "ApiError"
    answer = _authorized(desk).post(path, content=content, headers={"content-type": content_type})
    assert answer.status_code == 400
    assert answer.json() == {"detail": {"field": "body", "message": message}}


@pytest.mark.parametrize(("method", "path"), API_OPERATIONS)
def test_no_operation_declares_fastapis_422_list(desk: Desk, method: str, path: str) -> None:
    schema = desk.client().get("/openapi.json").json()
    for status, response in schema["paths"][path][method]["responses"].items():
        ref = response.get("content", {}).get("application/json", {}).get("schema", {})
        assert ref.get("$ref") != "#/components/schemas/HTTPValidationError", status


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/api/v1/snippets", {"section": "quick-links", "title": "  "}, "title"),
        ("/api/v1/snippets", {"section": "Quick Links", "title": "T"}, "section"),
        ("/api/v1/snippets", {"section": "quick-links", "title": "T", "link": "ftp://a"}, "link"),
        ("/api/v1/snippets", {"section": "quick-links", "title": "T", "target_week": "48"},
         "target_week"),
        ("/api/v1/snippets", {"section": "quick-links", "title": "T", "status": "sent"},
         "status"),
        ("/api/v1/jobs", {"company": "A", "title": "T", "location": "L", "url": "a.example"},
         "url"),
        ("/api/v1/jobs", {"company": "A", "title": "T", "location": "L",
                          "url": "https://a.example/", "comp_low": 0, "comp_high": 5},
         "comp_low"),
        ("/api/v1/salary-points", [{"role": "R", "level": "L", "currency": "USD", "low": -1,
                                    "high": 2, "region": "US", "source": "S",
                                    "sample_size": 1, "as_of": "2026-11-01"}], "[0].low"),
        ("/api/v1/salary-points", [], "body"),
        # Lax pydantic would have taken these; the schema says integer, date string, boolean.
        ("/api/v1/salary-points", [{"role": "R", "level": "L", "currency": "USD", "low": "1",
                                    "high": 2, "region": "US", "source": "S",
                                    "sample_size": 1, "as_of": "2026-11-01"}], "[0].low"),
        ("/api/v1/salary-points", [{"role": "R", "level": "L", "currency": "USD", "low": 1,
                                    "high": 2, "region": "US", "source": "S",
                                    "sample_size": 1, "as_of": 0}], "[0].as_of"),
        ("/api/v1/jobs", {"company": "A", "title": "T", "location": "L",
                          "url": "https://a.example/", "remote": "yes"}, "remote"),
    ],
)  # fmt: skip
def test_a_field_the_schema_constrains_is_a_422_naming_it(
    desk: Desk, path: str, body: Any, field: str
) -> None:
    answer = _authorized(desk).post(path, json=body)
    assert answer.status_code == 422
    assert answer.json()["detail"]["field"] == field
    assert set(answer.json()["detail"]) == {"field", "message"}


def test_a_week_the_path_pattern_refuses_is_a_422_naming_the_week(desk: Desk) -> None:
    answer = _authorized(desk).get("/api/v1/issues/2026-W54")
    assert answer.status_code == 422
    assert answer.json()["detail"]["field"] == "week"


def test_amounts_are_declared_as_json_schema_bounds(desk: Desk) -> None:
    schemas = desk.client().get("/openapi.json").json()["components"]["schemas"]
    assert schemas["SalaryPointIn"]["properties"]["low"] == {
        "type": "integer",
        "title": "Low",
        "exclusiveMinimum": 0,
        "maximum": 1_000_000_000,
    }
