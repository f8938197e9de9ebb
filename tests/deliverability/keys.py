"""DKIM keys made for a test, and a DNS lookup that serves their public records to dkimpy."""

from __future__ import annotations

import base64
from collections.abc import Callable
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from pipeline.deliverability.dkim import load_key


def write_key(folder: Path, kind: str) -> Path:
    """An RSA or Ed25519 PEM key (as ``openssl genpkey`` writes), or a raw base64 seed."""
    path = folder / f"dkim-{kind}.key"
    if kind == "rsa":
        key: rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey = rsa.generate_private_key(
            public_exponent=65537, key_size=2048
        )
    else:
        key = ed25519.Ed25519PrivateKey.generate()
    if kind == "ed25519-seed":
        assert isinstance(key, ed25519.Ed25519PrivateKey)
        raw = key.private_bytes(
            serialization.Encoding.Raw,
            serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        )
        path.write_bytes(base64.b64encode(raw) + b"\n")
    else:
        path.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
    return path


def dns_for(selector: str, domain: str, key_file: Path) -> Callable[..., bytes | None]:
    """A dkimpy ``dnsfunc`` answering the one TXT record an operator would publish."""
    record = load_key(key_file).public_record.encode()
    wanted = f"{selector}._domainkey.{domain}.".encode()

    def lookup(name: bytes, timeout: int = 5) -> bytes | None:
        return record if name == wanted else None

    return lookup
