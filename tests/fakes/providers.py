"""The five API providers' send endpoints, as their documentation describes them."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import uuid
from email.parser import BytesParser
from email.policy import HTTP
from email.utils import parseaddr
from typing import Any

from tests import contracts
from tests.fakes.base import FakeProvider, Reply


def _json(status: int, payload: object, headers: dict[str, str] | None = None) -> Reply:
    return status, headers or {}, json.dumps(payload).encode()


def _address(value: str) -> str:
    return parseaddr(value)[1]


class FakePostmark(FakeProvider):
    """``POST /email/batch``: per-message ErrorCode; 406 for addresses made inactive."""

    name = "postmark"
    max_batch = 500

    def handle(self, path: str, headers: dict[str, str], body: bytes) -> Reply:
        if path != "/email/batch":
            return _json(404, {"ErrorCode": 404, "Message": "not found"})
        if headers.get("x-postmark-server-token") != self.credential:
            return _json(401, {"ErrorCode": 10, "Message": "Bad or missing Server API token."})
        messages = json.loads(body)
        if self.validate and (bad := self.invalid(contracts.postmark_batch(messages))):
            return bad
        if len(messages) > self.max_batch:
            return _json(422, {"ErrorCode": 300, "Message": "too many messages in the batch"})
        self.note_call(path, len(body), len(messages))
        results = []
        for message in messages:
            email = _address(message["To"])
            if email in self.rejected_addresses:
                results.append(
                    {"ErrorCode": 406, "Message": "You tried to send to an inactive recipient."}
                )
                continue
            self.record(email, message)
            results.append(
                {"ErrorCode": 0, "Message": "OK", "MessageID": str(uuid.uuid4()), "To": email}
            )
        return _json(200, results)


class FakeSendGrid(FakeProvider):
    """``POST /v3/mail/send``: 202 for the whole call; substitutions applied per recipient."""

    name = "sendgrid"

    def contract_error(self, problems: list[str]) -> Reply:
        return _json(400, {"errors": [{"message": p} for p in problems[:5]]})

    def handle(self, path: str, headers: dict[str, str], body: bytes) -> Reply:
        if path != "/v3/mail/send":
            return _json(404, {"errors": [{"message": "not found"}]})
        if headers.get("authorization") != f"Bearer {self.credential}":
            return _json(401, {"errors": [{"message": "Permission denied, wrong credentials"}]})
        payload = json.loads(body)
        if self.validate and (bad := self.invalid(contracts.sendgrid_mail_send(payload))):
            return bad
        personalizations = payload["personalizations"]
        self.note_call(path, len(body), len(personalizations))
        content = {part["type"]: part["value"] for part in payload["content"]}
        for person in personalizations:
            subs = person.get("substitutions", {})
            merged = {}
            for kind, value in content.items():
                for tag, replacement in subs.items():
                    value = value.replace(tag, replacement)
                merged[kind] = value
            message = {
                "subject": payload["subject"],
                "html": merged.get("text/html", ""),
                "text": merged.get("text/plain", ""),
                "headers": {**payload.get("headers", {}), **person.get("headers", {})},
            }
            self.record(person["to"][0]["email"], message if self.keep_messages else {})
        return 202, {"X-Message-Id": uuid.uuid4().hex}, b""


class FakeMailgun(FakeProvider):
    """``POST /v3/{domain}/messages``: multipart batch send with ``recipient-variables``."""

    name = "mailgun"
    domain = "mg.example.com"

    def handle(self, path: str, headers: dict[str, str], body: bytes) -> Reply:
        if path != f"/v3/{self.domain}/messages":
            return _json(404, {"message": "Domain not found"})
        expected = "Basic " + base64.b64encode(f"api:{self.credential}".encode()).decode()
        if headers.get("authorization") != expected:
            return 401, {"Content-Type": "text/plain"}, b"Forbidden"
        fields = _multipart(headers.get("content-type", ""), body)
        if self.validate and (bad := self.invalid(contracts.mailgun_messages(fields))):
            return bad
        grouped: dict[str, list[str]] = {}
        for name, value in fields:
            grouped.setdefault(name, []).append(value)
        recipients = grouped.get("to", [])
        if len(recipients) > self.max_batch:
            return _json(400, {"message": "Too many recipients"})
        variables = json.loads(grouped.get("recipient-variables", ["{}"])[-1])
        self.note_call(path, len(body), len(recipients))
        for to in recipients:
            email = _address(to)
            own = variables.get(email, {})

            def merge(text: str, own: dict[str, str] = own) -> str:
                return re.sub(r"%recipient\.([^%]+)%", lambda m: own.get(m.group(1), ""), text)

            message = {
                "subject": grouped["subject"][-1],
                "html": merge(grouped.get("html", [""])[-1]),
                "text": merge(grouped.get("text", [""])[-1]),
                "headers": {n[2:]: merge(v[-1]) for n, v in grouped.items() if n.startswith("h:")},
            }
            self.record(email, message if self.keep_messages else {})
        return _json(200, {"id": f"<{uuid.uuid4().hex}@{self.domain}>", "message": "Queued"})


def _multipart(content_type: str, body: bytes) -> list[tuple[str, str]]:
    message = BytesParser(policy=HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + body
    )
    fields = []
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        fields.append((str(name), payload.decode() if isinstance(payload, bytes) else ""))
    return fields


class FakeResend(FakeProvider):
    """``POST /emails/batch``: ≤ 100 per call; ``Idempotency-Key`` replays the first answer."""

    name = "resend"
    max_batch = 100

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.idempotent: dict[str, tuple[str, Reply]] = {}
        self.replayed = 0

    def contract_error(self, problems: list[str]) -> Reply:
        return _json(422, {"statusCode": 422, "name": "validation_error", "message": problems[0]})

    def handle(self, path: str, headers: dict[str, str], body: bytes) -> Reply:
        if path != "/emails/batch":
            return _json(404, {"statusCode": 404, "name": "not_found", "message": "not found"})
        if headers.get("authorization") != f"Bearer {self.credential}":
            return _json(401, {"statusCode": 401, "name": "missing_api_key", "message": "no"})
        payload = json.loads(body)
        if self.validate and (bad := self.invalid(contracts.resend_batch(payload))):
            return bad
        key = headers.get("idempotency-key")
        digest = hashlib.sha256(body).hexdigest()
        with self.lock:
            if key is not None and key in self.idempotent:
                seen_digest, reply = self.idempotent[key]
                if seen_digest != digest:
                    return _json(409, {"name": "invalid_idempotent_request", "message": "body"})
                self.replayed += 1
                return reply
        self.note_call(path, len(body), len(payload))
        data = []
        for message in payload:
            self.record(_address(message["to"][0]), message if self.keep_messages else {})
            data.append({"id": str(uuid.uuid4())})
        reply = _json(200, {"data": data})
        if key is not None:
            with self.lock:
                self.idempotent[key] = (digest, reply)
        return reply


class FakeSes(FakeProvider):
    """SES v2 ``SendBulkEmail`` (``POST /v2/email/outbound-bulk-emails``), SigV4-signed."""

    name = "ses"
    max_batch = 50

    def contract_error(self, problems: list[str]) -> Reply:
        return _json(400, {"message": problems[0]}, {"x-amzn-ErrorType": "BadRequestException"})

    def handle(self, path: str, headers: dict[str, str], body: bytes) -> Reply:
        if path != "/v2/email/outbound-bulk-emails":
            return _json(404, {"message": "not found"}, {"x-amzn-ErrorType": "NotFoundException"})
        auth = headers.get("authorization", "")
        signed = re.match(
            r"AWS4-HMAC-SHA256 Credential=([^/]+)/\d{8}/[a-z0-9-]+/ses/aws4_request, "
            r"SignedHeaders=[a-z0-9;-]+, Signature=[0-9a-f]{64}$",
            auth,
        )
        if not signed or signed.group(1) != self.credential or "x-amz-date" not in headers:
            return _json(
                403,
                {"message": "bad signature"},
                {"x-amzn-ErrorType": "UnrecognizedClientException"},
            )
        params = json.loads(body)
        if self.validate and (bad := self.invalid(contracts.ses_send_bulk_email(params))):
            return bad
        entries = params["BulkEmailEntries"]
        self.note_call(path, len(body), len(entries))
        template = params["DefaultContent"]["Template"]
        content = template["TemplateContent"]
        defaults = json.loads(template.get("TemplateData") or "{}")
        results = []
        for entry in entries:
            email = _address(entry["Destination"]["ToAddresses"][0])
            if email in self.rejected_addresses:
                results.append(
                    {
                        "Status": "MESSAGE_REJECTED",
                        "Error": "Email address is on the suppression list",
                    }
                )
                continue
            data = {
                **defaults,
                **json.loads(
                    entry["ReplacementEmailContent"]["ReplacementTemplate"][
                        "ReplacementTemplateData"
                    ]
                ),
            }

            def merge(text: str, data: dict[str, str] = data) -> str:
                return re.sub(r"\{\{\{(\w+)\}\}\}", lambda m: data.get(m.group(1), ""), text)

            message = {
                "subject": content["Subject"],
                "html": merge(content["Html"]),
                "text": merge(content["Text"]),
                "headers": {
                    h["Name"]: h["Value"]
                    for h in [*template.get("Headers", []), *entry.get("ReplacementHeaders", [])]
                },
            }
            self.record(email, message if self.keep_messages else {})
            results.append({"Status": "SUCCESS", "MessageId": uuid.uuid4().hex})
        return _json(200, {"BulkEmailEntryResults": results})


FAKES: dict[str, type[FakeProvider]] = {
    "postmark": FakePostmark,
    "sendgrid": FakeSendGrid,
    "mailgun": FakeMailgun,
    "resend": FakeResend,
    "ses": FakeSes,
}
