"""The five API providers' send endpoints, answering as their documentation says they do.

Every answer below, odd ones included, carries the source it was taken from. Switches on
:class:`~tests.fakes.base.FakeProvider` (``bad_addresses``, ``delayed_addresses``,
``account_refusal``, ``quota``, ``rejected_addresses``) choose the odd answers.
"""

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
    """``POST /email/batch``: HTTP 200 with one result per message.

    Source: https://postmarkapp.com/developer/api/email-api#send-batch-emails ("the batch
    endpoint returns 200 even if some messages fail; check each ErrorCode") and the error
    codes at https://postmarkapp.com/developer/api/overview#error-codes.
    """

    name = "postmark"
    max_batch = 500

    def handle(self, path: str, headers: dict[str, str], body: bytes) -> Reply:
        if path != "/email/batch":
            return _json(404, {"ErrorCode": 404, "Message": "not found"})
        if headers.get("x-postmark-server-token") != self.credential:
            # Error code 10: "Bad or missing API token".
            return _json(401, {"ErrorCode": 10, "Message": "Bad or missing Server API token."})
        messages = json.loads(body)
        if self.validate and (bad := self.invalid(contracts.postmark_batch(messages, len(body)))):
            return bad
        if len(messages) > self.max_batch:
            # Error code 410: "Too many batch messages" (at most 500 per call).
            return _json(422, {"ErrorCode": 410, "Message": "Too many batch messages."})
        self.note_call(path, len(body), len(messages))
        return _json(200, [self._answer(message) for message in messages])

    def _answer(self, message: dict[str, Any]) -> dict[str, Any]:
        email = _address(message["To"])
        if self.account_refusal:
            # Error code 405: "Not allowed to send": the account ran out of credits.
            return {
                "ErrorCode": 405,
                "Message": "Not allowed to send: you have run out of credits.",
            }
        if email in self.rejected_addresses:
            # Error code 406: "Inactive recipient" (hard bounce, complaint, manual).
            return {"ErrorCode": 406, "Message": "You tried to send to an inactive recipient."}
        if email in self.bad_addresses:
            # Error code 300: "Invalid email request", naming the field.
            return {"ErrorCode": 300, "Message": f"Invalid 'To' address: '{email}'."}
        if not self.quota_left():
            return {"ErrorCode": 405, "Message": "Not allowed to send: out of credits."}
        self.record(email, message)
        answer = {"To": email, "SubmittedAt": "2026-12-01T09:00:00Z", "MessageID": _uuid()}
        if email in self.delayed_addresses:
            # Accepted while the account is under review: a MessageID, no ErrorCode.
            return {**answer, "Message": "Message accepted, but delivery may be delayed."}
        return {**answer, "ErrorCode": 0, "Message": "OK"}


def _uuid() -> str:
    return str(uuid.uuid4())


class FakeSendGrid(FakeProvider):
    """``POST /v3/mail/send``: 202 (empty body, ``X-Message-Id``) for the whole call.

    Source: https://www.twilio.com/docs/sendgrid/api-reference/mail-send/mail-send and its
    error format https://www.twilio.com/docs/sendgrid/api-reference/mail-send/errors
    (``{"errors": [{"message", "field", "help"}]}``).
    """

    name = "sendgrid"

    def contract_error(self, problems: list[str]) -> Reply:
        return _json(400, {"errors": [{"message": p, "field": None} for p in problems[:5]]})

    def handle(self, path: str, headers: dict[str, str], body: bytes) -> Reply:
        if path != "/v3/mail/send":
            return _json(404, {"errors": [{"message": "not found"}]})
        if headers.get("authorization") != f"Bearer {self.credential}":
            return _json(401, {"errors": [{"message": "Permission denied, wrong credentials"}]})
        payload = json.loads(body)
        if self.validate and (
            bad := self.invalid(contracts.sendgrid_mail_send(payload, len(body)))
        ):
            return bad
        if self.account_refusal:
            # 403 for an unverified sender ("Sender Identity" docs).
            message = (
                "The from address does not match a verified Sender Identity. Mail cannot be "
                "sent until this error is resolved."
            )
            return _json(403, {"errors": [{"message": message, "field": "from", "help": None}]})
        personalizations = payload["personalizations"]
        bad_fields = [
            {
                "message": "Does not contain a valid address.",
                "field": f"personalizations.{i}.to.0.email",
                "help": "http://sendgrid.com/docs/API_Reference/Web_API_v3/Mail/errors.html"
                "#message.personalizations.to",
            }
            for i, person in enumerate(personalizations)
            if person["to"][0]["email"].lower() in self.bad_addresses
        ]
        if bad_fields:
            return _json(400, {"errors": bad_fields})
        self.note_call(path, len(body), len(personalizations))
        content = {part["type"]: part["value"] for part in payload["content"]}
        for person in personalizations:
            to = person["to"][0]
            if any(mark in to.get("name", "") for mark in ",;"):
                # Answered 202, then silently not delivered (sendgrid/sendgrid-python#291).
                continue
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
                "to": to,
            }
            self.record(to["email"], message if self.keep_messages else {})
        return 202, {"X-Message-Id": uuid.uuid4().hex}, b""


class FakeMailgun(FakeProvider):
    """``POST /v3/{domain}/messages``: multipart batch send with ``recipient-variables``.

    Sources: https://documentation.mailgun.com/docs/mailgun/api-reference/send/mailgun/messages
    (200 ``{"id", "message": "Queued. Thank you."}``; 400 for an invalid address), and
    django-anymail's Mailgun backend, which documents the odd ones: a terse 404 "Domain not
    found" for an unknown sending domain, and HTTP 200 "Mailgun Magnificent API" for any
    path Mailgun does not know.
    """

    name = "mailgun"
    domain = "mg.example.com"
    _MESSAGES = re.compile(r"^/v3/([^/]+)/messages$")

    def handle(self, path: str, headers: dict[str, str], body: bytes) -> Reply:
        found = self._MESSAGES.match(path)
        if found is None:
            return 200, {"Content-Type": "text/html"}, b"Mailgun Magnificent API"
        if found.group(1) != self.domain:
            return _json(404, {"message": "Domain not found"})
        expected = "Basic " + base64.b64encode(f"api:{self.credential}".encode()).decode()
        if headers.get("authorization") != expected:
            return 401, {"Content-Type": "text/plain"}, b"Forbidden"
        fields = _multipart(headers.get("content-type", ""), body)
        if self.validate and (bad := self.invalid(contracts.mailgun_messages(fields, len(body)))):
            return bad
        grouped: dict[str, list[str]] = {}
        for name, value in fields:
            grouped.setdefault(name, []).append(value)
        recipients = grouped.get("to", [])
        if len(recipients) > self.max_batch:
            return _json(400, {"message": "Too many recipients"})
        if self.account_refusal:
            # Sandbox and disabled domains: https://help.mailgun.com/hc/en-us/articles/217531258
            message = (
                f"Domain {self.domain} is not allowed to send: Free accounts are for test "
                "purposes only. Please upgrade or add the address to authorized recipients "
                "in Account Settings."
            )
            return _json(403, {"message": message})
        if any(_address(to).lower() in self.bad_addresses for to in recipients):
            # One bad address refuses the whole call, without saying which.
            return _json(
                400, {"message": "to parameter is not a valid address. please check documentation"}
            )
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
                "to": to,
            }
            self.record(email, message if self.keep_messages else {})
        return _json(
            200, {"id": f"<{uuid.uuid4().hex}@{self.domain}>", "message": "Queued. Thank you."}
        )


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
    """``POST /emails/batch``: ≤ 100 per call; ``Idempotency-Key`` replays the first answer.

    Sources: https://resend.com/docs/api-reference/emails/send-batch-emails,
    https://resend.com/docs/dashboard/emails/idempotency-keys (24 h; 409
    ``invalid_idempotent_request`` for the same key with another body, 409
    ``concurrent_idempotent_requests`` while the first is in progress),
    https://resend.com/docs/dashboard/emails/batch-validation-modes (strict by default: one
    invalid email refuses the batch with 422; ``x-batch-validation: permissive`` queues the
    valid ones in ``data`` and lists the others in ``errors`` by index) and
    https://resend.com/docs/api-reference/errors (403 ``validation_error`` for an
    unverified domain).
    """

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
        permissive = headers.get("x-batch-validation") == "permissive"
        # The batch as a whole (an array of ≤ 100, ≤ 40 MB) is checked in either mode.
        whole = contracts.resend_batch([], len(body)) if isinstance(payload, list) else ["array"]
        if isinstance(payload, list) and len(payload) > self.max_batch:
            whole.append(f"{len(payload)} emails, at most {self.max_batch}")
        if self.validate and (bad := self.invalid(whole)):
            return bad
        if self.account_refusal:
            message = "The example.com domain is not verified. Please, add and verify your domain."
            return _json(403, {"statusCode": 403, "name": "validation_error", "message": message})
        key = headers.get("idempotency-key")
        digest = hashlib.sha256(body).hexdigest()
        with self.lock:
            if key is not None and key in self.idempotent:
                seen_digest, reply = self.idempotent[key]
                if seen_digest != digest:
                    return _json(
                        409,
                        {
                            "statusCode": 409,
                            "name": "invalid_idempotent_request",
                            "message": "Same idempotency key used with a different request "
                            "payload. Change your idempotency key or payload.",
                        },
                    )
                self.replayed += 1
                return reply
        problems = {index: self._problems(message) for index, message in enumerate(payload)}
        problems = {index: found for index, found in problems.items() if found}
        if problems and not permissive:
            return self.invalid(next(iter(problems.values()))) or _json(422, {})
        self.note_call(path, len(body), len(payload) - len(problems))
        data = []
        for index, message in enumerate(payload):
            if index in problems:
                continue
            self.record(_address(message["to"][0]), message if self.keep_messages else {})
            data.append({"id": _uuid()})
        answer: dict[str, Any] = {"data": data}
        if permissive:
            answer["errors"] = [
                {"index": index, "message": found[0]} for index, found in problems.items()
            ]
        reply = _json(200, answer)
        if key is not None:
            with self.lock:
                self.idempotent[key] = (digest, reply)
        return reply

    def _problems(self, message: Any) -> list[str]:
        found = contracts.resend_message(message) if self.validate else []
        to = message.get("to") if isinstance(message, dict) else None
        if isinstance(to, list) and any(_address(t).lower() in self.bad_addresses for t in to):
            found.append(
                "Invalid `to` field. The email address needs to follow the "
                "`email@example.com` or `Name <email@example.com>` format."
            )
        return found


class FakeSes(FakeProvider):
    """SES v2 ``SendBulkEmail`` (``POST /v2/email/outbound-bulk-emails``), SigV4-signed.

    Source: https://docs.aws.amazon.com/ses/latest/APIReference-V2/API_SendBulkEmail.html and
    ``BulkEmailEntryResult`` (one ``Status`` per entry: SUCCESS, MESSAGE_REJECTED,
    INVALID_PARAMETER, ACCOUNT_DAILY_QUOTA_EXCEEDED, ACCOUNT_SENDING_PAUSED, …; errors
    ``SendingPausedException``, ``TooManyRequestsException`` (429) …).
    """

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
        if self.account_refusal:
            return _json(
                400,
                {"message": "Sending is paused for this account."},
                {"x-amzn-ErrorType": "SendingPausedException"},
            )
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
            if email in self.bad_addresses:
                results.append({"Status": "INVALID_PARAMETER", "Error": "Illegal address"})
                continue
            if not self.quota_left():
                results.append(
                    {
                        "Status": "ACCOUNT_DAILY_QUOTA_EXCEEDED",
                        "Error": "Daily message quota exceeded.",
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
                "to": entry["Destination"]["ToAddresses"][0],
                "configuration_set": params.get("ConfigurationSetName"),
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
