"""The providers' published API descriptions, and validators for the bodies our adapters build.

Sources and licences are in ``README.md`` next to this file. Each validator returns a list
of problems (empty when the request matches the description).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from email.utils import getaddresses
from functools import cache
from pathlib import Path
from typing import Any

import botocore.session
from botocore.validate import ParamValidator
from email_validator import EmailNotValidError, validate_email
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


# Rules the providers document beyond their machine-readable descriptions ---------------

MB = 1000 * 1000
_HEADER_NAME = re.compile(r"^[!-9;-~]+$")  # RFC 5322 field name: printable ASCII, no colon
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
# SendGrid: "You may not overwrite the following reserved headers: x-sg-id, x-sg-eid,
# received, dkim-signature, Content-Type, Content-Transfer-Encoding, To, From, Subject,
# Reply-To, CC, BCC" (https://www.twilio.com/docs/sendgrid/api-reference/mail-send/mail-send).
SENDGRID_RESERVED = frozenset(
    {
        "x-sg-id",
        "x-sg-eid",
        "received",
        "dkim-signature",
        "content-type",
        "content-transfer-encoding",
        "to",
        "from",
        "subject",
        "reply-to",
        "cc",
        "bcc",
    }
)


def address_problems(where: str, value: object, *, ascii_names: bool = False) -> list[str]:
    """An address (``addr`` or ``Name <addr>``) every provider refuses if malformed.

    The address must be valid; with ``ascii_names`` (SES: "7-bit ASCII", the domain in
    punycode, display names as RFC 2047 encoded words, for ``ToAddresses`` and
    ``FromEmailAddress``) everything must be ASCII.
    """
    if not isinstance(value, str) or not value.strip():
        return [f"{where}: an address is required"]
    if _CONTROL.search(value):
        return [f"{where}: control characters in an address"]
    parsed = getaddresses([value])
    if len(parsed) != 1:
        return [f"{where}: {value!r} is not a valid address (it does not parse as one)"]
    _name, address = parsed[0]
    problems = []
    if ascii_names and not value.isascii():
        problems.append(f"{where}: non-ASCII text must be RFC 2047 encoded ({value!r})")
    # The quick start's sender is pulse@localhost: the format is checked as if it had a
    # public domain (whether a provider lets it send is an account question, not syntax).
    local, _, domain = address.rpartition("@")
    if domain == "localhost":
        address = f"{local}@localhost.example"
    try:
        validate_email(
            address,
            check_deliverability=False,
            globally_deliverable=False,
            allow_smtputf8=not ascii_names,
        )
    except EmailNotValidError as err:
        problems.append(f"{where}: {address!r} is not a valid address: {err}")
    return problems


def header_problems(where: str, headers: Iterable[tuple[object, object]]) -> list[str]:
    """Header names must be RFC 5322 field names; values one line, no control characters."""
    problems = []
    for name, value in headers:
        if not isinstance(name, str) or not _HEADER_NAME.match(name):
            problems.append(f"{where}: {name!r} is not a header name")
        if not isinstance(value, str) or _CONTROL.search(value):
            problems.append(f"{where}: header {name!r} has a control character or no value")
    return problems


def size_problems(where: str, size: int | None, limit: int) -> list[str]:
    if size is not None and size > limit:
        return [f"{where}: {size:,} bytes, over the documented {limit:,}"]
    return []


def postmark_batch(body: object, size: int | None = None) -> list[str]:
    """Problems with a Postmark ``POST /email/batch`` body.

    Beyond the schema (https://postmarkapp.com/developer/api/email-api#send-batch-emails):
    ``From`` and ``To`` are required, a message needs an HtmlBody or TextBody, and the call
    may be at most 50 MB.
    """
    problems = _problems(_postmark(), body)
    problems += size_problems("(body)", size, 50 * MB)
    for index, message in enumerate(body if isinstance(body, list) else []):
        if not isinstance(message, dict):
            continue
        problems += address_problems(f"{index}/From", message.get("From"))
        problems += address_problems(f"{index}/To", message.get("To"))
        if not message.get("HtmlBody") and not message.get("TextBody"):
            problems.append(f"{index}: HtmlBody or TextBody is required")
        headers = [(h.get("Name"), h.get("Value")) for h in message.get("Headers") or []]
        problems += header_problems(f"{index}/Headers", headers)
    return problems


def sendgrid_mail_send(body: object, size: int | None = None) -> list[str]:
    """Problems with a SendGrid ``POST /v3/mail/send`` body (schema, addresses, headers, 30 MB)."""
    problems = _problems(_sendgrid(), body)
    problems += size_problems("(body)", size, 30 * MB)
    if not isinstance(body, dict):
        return problems
    problems += address_problems("from/email", (body.get("from") or {}).get("email"))
    for index, person in enumerate(body.get("personalizations") or []):
        for to_index, to in enumerate(person.get("to") or []):
            where = f"personalizations.{index}.to.{to_index}.email"
            problems += address_problems(where, to.get("email"))
        headers = person.get("headers") or {}
        problems += header_problems(f"personalizations.{index}.headers", headers.items())
        problems += [
            f"personalizations.{index}.headers: {name} is reserved"
            for name in headers
            if name.lower() in SENDGRID_RESERVED
        ]
    headers = body.get("headers") or {}
    problems += header_problems("headers", headers.items())
    problems += [f"headers: {n} is reserved" for n in headers if n.lower() in SENDGRID_RESERVED]
    return problems


def resend_message(message: object) -> list[str]:
    """Problems with one email of a Resend batch (its own schema, addresses, headers)."""
    doc = _load("resend-batch.json")
    validator = Draft202012Validator({**doc, "$ref": "#/components/schemas/SendEmailRequest"})
    problems = _problems(validator, message)
    if isinstance(message, dict):
        problems += address_problems("from", message.get("from"))
        to = message.get("to")
        for address in to if isinstance(to, list) else [to]:
            problems += address_problems("to", address)
        problems += header_problems("headers", (message.get("headers") or {}).items())
        if not message.get("html") and not message.get("text"):
            problems.append("html or text is required")
    return problems


def resend_batch(body: object, size: int | None = None) -> list[str]:
    """Problems with a Resend ``POST /emails/batch`` body: ≤ 100 emails, each valid, 40 MB."""
    problems = _problems(_resend(), body)
    problems += size_problems("(body)", size, 40 * MB)
    for index, message in enumerate(body if isinstance(body, list) else []):
        problems += [f"{index}/{p}" for p in resend_message(message)]
    return problems


def mailgun_messages(fields: Sequence[tuple[str, str]], size: int | None = None) -> list[str]:
    """Problems with the multipart fields of a Mailgun ``POST /v3/{domain}/messages``.

    Beyond the schema: every ``from``/``to`` a valid address, ``h:`` headers one line with a
    field name, ``recipient-variables`` keyed by the addresses in ``to``, 25 MB at most.
    """
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
            else:
                sent_to = {a for _, a in getaddresses(recipients)}
                problems += [
                    f"recipient-variables: {key!r} is not one of the to addresses"
                    for key in variables
                    if key not in sent_to
                ]
    for name, values in grouped.items():
        if name in ("from", "to"):
            for value in values:
                problems += address_problems(name, value)
    problems += header_problems("h:", [(n[2:], v) for n, v in fields if n.startswith("h:")])
    problems += size_problems("(body)", size, 25 * MB)
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
    # "The sender and recipient addresses … must be in 7-bit ASCII … domain in Punycode …
    # display name … MIME encoded-word syntax (RFC 2047)" (SES v2 API reference, Destination).
    problems += address_problems(
        "FromEmailAddress", params.get("FromEmailAddress"), ascii_names=True
    )
    for index, entry in enumerate(entries):
        for address in (entry.get("Destination") or {}).get("ToAddresses") or []:
            problems += address_problems(
                f"BulkEmailEntries.{index}.ToAddresses", address, ascii_names=True
            )
        headers = [(h.get("Name"), h.get("Value")) for h in entry.get("ReplacementHeaders") or []]
        problems += header_problems(f"BulkEmailEntries.{index}.ReplacementHeaders", headers)
    return problems
