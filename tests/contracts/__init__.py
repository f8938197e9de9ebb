"""The providers' published API descriptions, and validators for the bodies our adapters build.

Sources and licences are in ``README.md`` next to this file. Each validator returns a list
of problems (empty when the request matches the description).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

import botocore.session
from botocore.validate import ParamValidator
from jsonschema import Draft7Validator, Draft202012Validator
from jsonschema.protocols import Validator

HERE = Path(__file__).resolve().parent


def _load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((HERE / name).read_text(encoding="utf-8"))
    return data


def _problems(validator: Validator, body: object) -> list[str]:
    return [
        f"{'/'.join(str(p) for p in error.absolute_path) or '(body)'}: {error.message}"
        for error in validator.iter_errors(body)
    ]


@cache
def _postmark() -> Validator:
    doc = _load("postmark-email-batch.schema.json")
    return Draft7Validator({**doc, "$ref": "#/definitions/SendEmailBatchRequest"})


@cache
def _sendgrid() -> Validator:
    doc = _load("sendgrid-mail-v3.json")
    ref = "#/components/requestBodies/PostMailSend/content/application~1json/schema"
    return Draft202012Validator({**doc, "$ref": ref})


@cache
def _resend() -> Validator:
    doc = _load("resend-batch.json")
    # "Trigger up to 100 batch emails at once" (the operation's summary).
    items = {"$ref": "#/components/schemas/SendEmailRequest"}
    return Draft202012Validator({**doc, "type": "array", "maxItems": 100, "items": items})


def postmark_batch(body: object) -> list[str]:
    """Problems with a Postmark ``POST /email/batch`` body."""
    return _problems(_postmark(), body)


def sendgrid_mail_send(body: object) -> list[str]:
    """Problems with a SendGrid ``POST /v3/mail/send`` body."""
    return _problems(_sendgrid(), body)


def resend_batch(body: object) -> list[str]:
    """Problems with a Resend ``POST /emails/batch`` body."""
    return _problems(_resend(), body)


def mailgun_messages(fields: Sequence[tuple[str, str]]) -> list[str]:
    """Problems with the multipart fields of a Mailgun ``POST /v3/{domain}/messages``."""
    schema = _load("mailgun-messages.json")["schema"]
    properties: dict[str, Any] = schema["properties"]
    problems: list[str] = []
    grouped: dict[str, list[str]] = {}
    for name, value in fields:
        grouped.setdefault(name, []).append(value)
    for name in schema.get("required", []):
        if name not in grouped:
            problems.append(f"{name}: required field missing")
    for name, values in grouped.items():
        key = name
        if key not in properties:
            key = {"h:": "h:X-My-Header", "v:": "v:my-var"}.get(name[:2], name)
        if key not in properties:
            problems.append(f"{name}: not a field of this endpoint")
            continue
        spec = properties[key]
        value: object = values if spec.get("type") == "array" else values[-1]
        if spec.get("type") != "array" and len(values) > 1:
            problems.append(f"{name}: given {len(values)} times")
        problems += [f"{name}: {p}" for p in _problems(Draft202012Validator(spec), value)]
    recipients = grouped.get("to", [])
    if len(recipients) > 1000:
        problems.append(f"to: {len(recipients)} recipients, at most 1000 per call")
    if "recipient-variables" in grouped:
        try:
            variables = json.loads(grouped["recipient-variables"][-1])
        except ValueError:
            problems.append("recipient-variables: not JSON")
        else:
            if not isinstance(variables, dict):
                problems.append("recipient-variables: not a JSON object")
    return problems


@cache
def _ses_shape() -> Any:
    model = botocore.session.get_session().get_service_model("sesv2")
    return model.operation_model("SendBulkEmail").input_shape


def ses_send_bulk_email(params: dict[str, Any]) -> list[str]:
    """Problems with SendBulkEmail parameters, by botocore's own SES v2 service model."""
    report = ParamValidator().validate(params, _ses_shape())
    problems = [report.generate_report()] if report.has_errors() else []
    entries = params.get("BulkEmailEntries", [])
    if len(entries) > 50:
        problems.append(f"BulkEmailEntries: {len(entries)} entries, at most 50 per call")
    return problems
