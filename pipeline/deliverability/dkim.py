"""DKIM signatures (RFC 6376) for the providers that hand over finished messages: smtp and file.

HTTP providers sign with the keys their dashboards set up; ``smtp`` and ``file`` sign here
with dkimpy, using ``PULSE_DKIM_SELECTOR``, ``PULSE_DKIM_DOMAIN`` and
``PULSE_DKIM_PRIVATE_KEY_FILE``. The key may be RSA (``rsa-sha256``) or Ed25519
(``ed25519-sha256``, RFC 8463); either a PEM file (``openssl genpkey``) or, for Ed25519,
the base64 seed ``dknewkey`` writes.

The signature covers the headers a receiver shows or acts on, including List-Unsubscribe and
List-Unsubscribe-Post, which RFC 8058 §4 requires to be signed for one-click unsubscribe.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from pathlib import Path

import dkim
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from pipeline.errors import ConfigError

# The headers we set that a receiver shows or acts on. A header missing from a message is left
# out of h= rather than signed as empty (only List-* are absent from transactional mail).
SIGNED_HEADERS = (
    "From",
    "To",
    "Subject",
    "Date",
    "Message-ID",
    "List-Id",
    "List-Unsubscribe",
    "List-Unsubscribe-Post",
    "MIME-Version",
    "Content-Type",
    "Feedback-ID",
)
_MIN_RSA_BITS = 1024  # what dkimpy's verifier and the big receivers accept at least


@dataclass(frozen=True)
class DkimKey:
    """A loaded private key in the form dkimpy takes, and the algorithm it signs with."""

    algorithm: bytes  # b"rsa-sha256" or b"ed25519-sha256"
    private: bytes  # PKCS#1 PEM (RSA) or the base64 32-byte seed (Ed25519)
    public_record: str  # the TXT record to publish at <selector>._domainkey.<domain>


def load_key(path: Path) -> DkimKey:
    """Read an RSA or Ed25519 private key; a clear :class:`ConfigError` when it is not one."""
    variable = "PULSE_DKIM_PRIVATE_KEY_FILE"
    try:
        data = path.read_bytes()
    except OSError as err:
        raise ConfigError(f"{variable}: cannot read {path} ({err.strerror})") from err
    if b"-----BEGIN" not in data:
        return _raw_ed25519(data, variable)
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as err:
        raise ConfigError(f"{variable}: {path} is not an unencrypted PEM private key") from err
    if isinstance(key, rsa.RSAPrivateKey):
        if key.key_size < _MIN_RSA_BITS:
            raise ConfigError(f"{variable}: RSA keys need at least {_MIN_RSA_BITS} bits")
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
        public = key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return DkimKey(b"rsa-sha256", pem, _record("rsa", public))
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return _ed25519(key)
    raise ConfigError(f"{variable}: only RSA and Ed25519 keys can sign DKIM")


def _raw_ed25519(data: bytes, variable: str) -> DkimKey:
    try:
        seed = base64.b64decode(data.strip(), validate=True)
    except (binascii.Error, ValueError) as err:
        raise ConfigError(f"{variable}: neither a PEM key nor a base64 Ed25519 seed") from err
    if len(seed) != 32:
        raise ConfigError(f"{variable}: an Ed25519 seed is 32 bytes, this one {len(seed)}")
    return _ed25519(ed25519.Ed25519PrivateKey.from_private_bytes(seed))


def _ed25519(key: ed25519.Ed25519PrivateKey) -> DkimKey:
    seed = key.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    return DkimKey(b"ed25519-sha256", base64.b64encode(seed), _record("ed25519", public))


def _record(kind: str, public: bytes) -> str:
    return f"v=DKIM1; k={kind}; p={base64.b64encode(public).decode()}"


@dataclass(frozen=True)
class DkimSigner:
    """Signs whole messages as ``selector._domainkey.domain``."""

    selector: str
    domain: str
    key: DkimKey

    @classmethod
    def from_files(cls, selector: str, domain: str, key_file: Path) -> DkimSigner:
        return cls(selector=selector, domain=domain.lower().rstrip("."), key=load_key(key_file))

    def sign(self, message: bytes) -> bytes:
        """``message`` with a DKIM-Signature header on top."""
        present = _header_names(message)
        headers = [name.encode() for name in SIGNED_HEADERS if name.lower() in present]
        signature = dkim.sign(
            message,
            self.selector.encode(),
            self.domain.encode(),
            self.key.private,
            canonicalize=(b"relaxed", b"relaxed"),
            signature_algorithm=self.key.algorithm,
            include_headers=headers,
        )
        return bytes(signature) + message


def _header_names(message: bytes) -> set[str]:
    head = message.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
    names = set()
    for line in head.splitlines():
        if line and not line[:1].isspace() and b":" in line:
            names.add(line.split(b":", 1)[0].strip().decode("ascii", "replace").lower())
    return names
