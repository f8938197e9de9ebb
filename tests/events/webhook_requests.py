"""Each provider's webhook request, signed as its documentation describes, and spoilt ways.

One class per provider, one method per kind of request, so that one parametrised suite
(tests/events/test_webhooks.py) can put every provider through the same checks: a signed
request is stored; a tampered one, one signed by another key and a stale one are refused with
403; one without credentials is refused with 401. What only one provider has (Postmark's
basic-auth matrix, Mailgun's token replay, SNS certificates) stays in that file as its own test.
"""

from __future__ import annotations

import base64
import json
import time
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric import ec, rsa

from tests.events.conftest import (
    Keys,
    fixture,
    mailgun_body,
    postmark_auth,
    resend_headers,
    sendgrid_headers,
    sns_envelope,
)

# An hour old: past every provider's tolerance (Mailgun's is 5 minutes, the setting's 300 s).
STALE = int(time.time()) - 3600


@dataclass(frozen=True)
class WebhookRequest:
    content: bytes
    headers: dict[str, str]


def _json(body: object, headers: dict[str, str] | None = None) -> WebhookRequest:
    return WebhookRequest(
        json.dumps(body).encode(), {"Content-Type": "application/json"} | (headers or {})
    )


class ProviderWebhook:
    """The requests one provider's webhook gets; ``stale`` only where requests are dated."""

    name = ""
    has_timestamp = False

    def signed(self, keys: Keys) -> WebhookRequest:
        raise NotImplementedError

    def tampered(self, keys: Keys) -> WebhookRequest:
        raise NotImplementedError

    def by_another_key(self) -> WebhookRequest:
        raise NotImplementedError

    def stale(self, keys: Keys) -> WebhookRequest:
        raise NotImplementedError(f"{self.name}'s requests carry no timestamp")

    def unsigned(self, keys: Keys) -> WebhookRequest:
        raise NotImplementedError


class Postmark(ProviderWebhook):
    """Basic auth on the webhook URL; the body itself is not signed."""

    name = "postmark"

    def signed(self, keys: Keys) -> WebhookRequest:
        auth = postmark_auth(keys.postmark_user, keys.postmark_password)
        return _json(fixture("postmark", "hard_bounce"), auth)

    def tampered(self, keys: Keys) -> WebhookRequest:
        # Nothing in the body is signed: the one secret to spoil is the password.
        auth = postmark_auth(keys.postmark_user, keys.postmark_password + "x")
        return _json(fixture("postmark", "hard_bounce"), auth)

    def by_another_key(self) -> WebhookRequest:
        return _json(fixture("postmark", "hard_bounce"), postmark_auth("someone-else", "pw"))

    def unsigned(self, keys: Keys) -> WebhookRequest:
        return _json(fixture("postmark", "hard_bounce"))


class SendGrid(ProviderWebhook):
    """ECDSA over timestamp + body (Signed Event Webhook)."""

    name = "sendgrid"
    has_timestamp = True

    def _body(self) -> bytes:
        return json.dumps(fixture("sendgrid", "spamreport")).encode()

    def signed(self, keys: Keys, timestamp: int | None = None) -> WebhookRequest:
        body = self._body()
        return WebhookRequest(body, sendgrid_headers(keys.sendgrid_private, body, timestamp))

    def tampered(self, keys: Keys) -> WebhookRequest:
        signed = self.signed(keys)
        return WebhookRequest(signed.content.replace(b"spamreport", b"open"), signed.headers)

    def by_another_key(self) -> WebhookRequest:
        body = self._body()
        return WebhookRequest(body, sendgrid_headers(ec.generate_private_key(ec.SECP256R1()), body))

    def stale(self, keys: Keys) -> WebhookRequest:
        return self.signed(keys, timestamp=STALE)

    def unsigned(self, keys: Keys) -> WebhookRequest:
        return _json(fixture("sendgrid", "spamreport"))


class Mailgun(ProviderWebhook):
    """HMAC-SHA256 of timestamp + token, inside the body's ``signature`` object."""

    name = "mailgun"
    has_timestamp = True

    def signed(self, keys: Keys, timestamp: int | None = None) -> WebhookRequest:
        body = mailgun_body(keys.mailgun_key, fixture("mailgun", "complained"), timestamp=timestamp)
        return WebhookRequest(body, {"Content-Type": "application/json"})

    def tampered(self, keys: Keys) -> WebhookRequest:
        # Mailgun signs the timestamp and token, not the event: change a signed field.
        signed = json.loads(self.signed(keys).content)
        signed["signature"]["timestamp"] = str(int(signed["signature"]["timestamp"]) + 1)
        return _json(signed)

    def by_another_key(self) -> WebhookRequest:
        body = mailgun_body("0" * 32, fixture("mailgun", "complained"))
        return WebhookRequest(body, {"Content-Type": "application/json"})

    def stale(self, keys: Keys) -> WebhookRequest:
        return self.signed(keys, timestamp=STALE)

    def unsigned(self, keys: Keys) -> WebhookRequest:
        # The documented sample carries Mailgun's own signature block: take it out.
        event = fixture("mailgun", "complained")
        return _json({name: value for name, value in event.items() if name != "signature"})


class Ses(ProviderWebhook):
    """An SNS envelope signed with the key of the certificate SNS publishes."""

    name = "ses"
    has_timestamp = False  # SNS's Timestamp is signed, but SNS documents no freshness window

    def signed(self, keys: Keys) -> WebhookRequest:
        return _json(sns_envelope(keys.sns_private, json.dumps(fixture("ses", "complaint"))))

    def tampered(self, keys: Keys) -> WebhookRequest:
        envelope = sns_envelope(keys.sns_private, json.dumps(fixture("ses", "open")))
        envelope["Message"] = json.dumps(fixture("ses", "complaint"))
        return _json(envelope)

    def by_another_key(self) -> WebhookRequest:
        other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        return _json(sns_envelope(other, json.dumps(fixture("ses", "complaint"))))

    def unsigned(self, keys: Keys) -> WebhookRequest:
        envelope = sns_envelope(keys.sns_private, json.dumps(fixture("ses", "complaint")))
        del envelope["Signature"]
        return _json(envelope)


class Resend(ProviderWebhook):
    """Svix: HMAC-SHA256 of id + timestamp + body, with the ``whsec_`` secret."""

    name = "resend"
    has_timestamp = True

    def _body(self) -> bytes:
        return json.dumps(fixture("resend", "complained")).encode()

    def signed(self, keys: Keys, timestamp: int | None = None) -> WebhookRequest:
        body = self._body()
        return WebhookRequest(body, resend_headers(keys.resend_secret, body, timestamp=timestamp))

    def tampered(self, keys: Keys) -> WebhookRequest:
        signed = self.signed(keys)
        changed = signed.content.replace(b"email.complained", b"email.delivered")
        return WebhookRequest(changed, signed.headers)

    def by_another_key(self) -> WebhookRequest:
        other = "whsec_" + base64.b64encode(b"another secret of 24 b").decode()
        body = self._body()
        return WebhookRequest(body, resend_headers(other, body))

    def stale(self, keys: Keys) -> WebhookRequest:
        return self.signed(keys, timestamp=STALE)

    def unsigned(self, keys: Keys) -> WebhookRequest:
        return WebhookRequest(self._body(), {"Content-Type": "application/json"})


PROVIDERS: list[ProviderWebhook] = [Postmark(), SendGrid(), Mailgun(), Ses(), Resend()]
WITH_TIMESTAMPS = [provider for provider in PROVIDERS if provider.has_timestamp]
