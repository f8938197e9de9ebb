"""Amazon SNS message verification: RSA signatures (versions 1 and 2) with the signing cert
fetched only from an SNS host over https, cached; subscription confirmation for our topics.
"""

from __future__ import annotations

import base64
import binascii
import logging
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from pipeline.events.errors import WebhookRejected
from pipeline.events.providers.base import VerifyContext

log = logging.getLogger(__name__)

NAME = "ses"
_SNS_HOST = re.compile(r"^sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$")
_HASHES: dict[str, type[hashes.HashAlgorithm]] = {"1": hashes.SHA1, "2": hashes.SHA256}

# The fields signed, in order, per message type (SNS's documented canonical form).
_SIGNED_FIELDS = {
    "Notification": ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"),
    "SubscriptionConfirmation": (
        "Message",
        "MessageId",
        "SubscribeURL",
        "Timestamp",
        "Token",
        "TopicArn",
        "Type",
    ),
}
_SIGNED_FIELDS["UnsubscribeConfirmation"] = _SIGNED_FIELDS["SubscriptionConfirmation"]


def is_sns_url(url: str) -> bool:
    """An https URL on an ``sns.<region>.amazonaws.com`` host, nothing else."""
    parts = urlsplit(url)
    return (
        parts.scheme == "https"
        and parts.hostname is not None
        and _SNS_HOST.match(parts.hostname) is not None
        and parts.port in (None, 443)
        and parts.username is None
    )


def string_to_sign(envelope: Mapping[str, Any]) -> bytes:
    """The canonical "name\\nvalue\\n" text SNS signs; optional Subject only when present."""
    message_type = envelope.get("Type")
    fields = _SIGNED_FIELDS.get(message_type if isinstance(message_type, str) else "")
    if fields is None:
        raise WebhookRejected(NAME, "unknown SNS message type", status_code=401)
    lines: list[str] = []
    for name in fields:
        value = envelope.get(name)
        if value is None and name == "Subject":
            continue
        if not isinstance(value, str):
            raise WebhookRejected(NAME, f"SNS field {name} missing", status_code=401)
        lines += [name, value]
    return ("\n".join(lines) + "\n").encode()


def signing_key(url: str, context: VerifyContext) -> rsa.RSAPublicKey:
    """The certificate's RSA key, fetched once per URL and cached for the process."""
    cache_key = f"sns-cert:{url}"
    cached = context.cache.get(cache_key)
    if isinstance(cached, rsa.RSAPublicKey):
        return cached
    if not is_sns_url(url) or not urlsplit(url).path.endswith(".pem"):
        raise WebhookRejected(NAME, "signing certificate is not a .pem on an SNS https host")
    try:
        certificate = x509.load_pem_x509_certificate(context.http_get(url))
    except ValueError as err:
        raise WebhookRejected(NAME, "signing certificate is unreadable") from err
    except OSError as err:  # the network (requests' errors are OSErrors): we cannot verify
        log.warning("could not fetch the SNS signing certificate: %s", type(err).__name__)
        raise WebhookRejected(NAME, "signing certificate could not be fetched") from err
    now = datetime.now(UTC)
    if not certificate.not_valid_before_utc <= now <= certificate.not_valid_after_utc:
        raise WebhookRejected(NAME, "signing certificate is not currently valid")
    key = certificate.public_key()
    if not isinstance(key, rsa.RSAPublicKey):
        raise WebhookRejected(NAME, "signing certificate does not hold an RSA key")
    context.cache[cache_key] = key
    return key


def verify_envelope(envelope: Mapping[str, Any], context: VerifyContext) -> None:
    """Refuse unless the topic is ours and the signature verifies."""
    topic = envelope.get("TopicArn")
    if not isinstance(topic, str) or topic not in context.credentials.ses_topic_arns:
        raise WebhookRejected(NAME, "unexpected TopicArn")
    version = envelope.get("SignatureVersion")
    algorithm = _HASHES.get(version if isinstance(version, str) else "")
    if algorithm is None:
        raise WebhookRejected(NAME, "unsupported SignatureVersion", status_code=401)
    signature, cert_url = envelope.get("Signature"), envelope.get("SigningCertURL")
    if not isinstance(signature, str) or not isinstance(cert_url, str):
        raise WebhookRejected(NAME, "signature missing", status_code=401)
    signed = string_to_sign(envelope)
    key = signing_key(cert_url, context)
    try:
        raw_signature = base64.b64decode(signature, validate=True)
        key.verify(raw_signature, signed, padding.PKCS1v15(), algorithm())
    except (binascii.Error, InvalidSignature) as err:
        raise WebhookRejected(NAME, "signature does not verify") from err


def confirm_subscription(envelope: Mapping[str, Any], context: VerifyContext) -> None:
    """Visit SubscribeURL: called only after the envelope verified for an expected topic."""
    url = envelope.get("SubscribeURL")
    if not isinstance(url, str) or not is_sns_url(url):
        raise WebhookRejected(NAME, "SubscribeURL is not on an SNS https host")
    try:
        context.http_get(url)
    except OSError as err:  # the network: SNS resends the confirmation, so say so and refuse
        log.warning("could not confirm the SNS subscription: %s", type(err).__name__)
        raise WebhookRejected(NAME, "subscription could not be confirmed") from err
    log.info("confirmed the SNS subscription to %s", envelope.get("TopicArn"))
