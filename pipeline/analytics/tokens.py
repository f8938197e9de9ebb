"""Signed click and open tokens: ``{delivery}.{issue}.{link}.{tag}``.

A token names one delivery, its issue and one link of that issue, and carries a tag only
the holder of the secret key can compute, so a token can only ever redirect to the link it
was minted for: changing any part of it invalidates the tag.

The tag is cheap to mint per recipient: one keyed SHAKE-256 pass over ``{delivery}.{issue}``
per *delivery* (not per link) yields a stream of bytes, and link ``n``'s tag is its own
6-byte slice of that stream (48 bits; the open pixel takes slice 0). SHAKE is a sponge, so
a secret-key prefix makes it a MAC (the construction NIST standardises as KMAC): seeing the
tags of some links of a delivery tells nothing about another link's, or another delivery's.

Tokens minted before this format (``…{27-character HMAC-SHA1 signature}``, itsdangerous)
still verify, so links in issues already sent keep working. Old secret keys verify too (key
rotation). A token lives as long as its issue is young enough to be read (see
:data:`TOKEN_LIFETIME`, enforced by the redirect, which knows when the issue went out).
"""

from __future__ import annotations

import hashlib
import hmac
from base64 import urlsafe_b64encode
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache

from itsdangerous import BadSignature, Signer

from pipeline.errors import PulseError

OPEN = -1  # the "link" number an open-pixel token carries
# A click token is honoured for this long after its issue's send started; later, the
# reader gets the "link not found" page with the archive link (the issue is still there).
TOKEN_LIFETIME = timedelta(days=400)
# Links are merge fields ``link_0`` … ``link_9999`` (pipeline/issues/merge.py).
MAX_POSITION = 9_999
_MAX_PART = 10**12
_TAG_BYTES = 6
_TAG_CHARS = 8  # 6 bytes in URL-safe base64, no padding
_LEGACY_CHARS = 27  # an itsdangerous HMAC-SHA1 signature, padding stripped


class BadClickToken(PulseError):
    """A click or open token was tampered with, truncated, or signed by an unknown key."""


@dataclass(frozen=True)
class ClickTarget:
    """What a genuine token names."""

    delivery_id: int
    issue_id: int
    position: int  # the link's number, or OPEN for the open pixel


@lru_cache(maxsize=16)
def _stream_key(secret: str) -> bytes:
    return hmac.digest(secret.encode(), b"pulse.click.stream", "sha256")


@lru_cache(maxsize=16)
def _derived(secret: str, salt: str) -> bytes:
    return Signer(secret, salt=salt).derive_key()


class _CachedKeySigner(Signer):
    def derive_key(self, secret_key: str | bytes | None = None) -> bytes:
        key = self.secret_keys[-1] if secret_key is None else secret_key
        text = key.decode() if isinstance(key, bytes) else key
        return _derived(text, self.salt.decode() if isinstance(self.salt, bytes) else self.salt)


def _tags(key: bytes, prefix: str, slices: int) -> str:
    """``slices`` tags of ``_TAG_CHARS`` characters each, for the delivery in ``prefix``."""
    stream = hashlib.shake_256(key + prefix.encode()).digest(_TAG_BYTES * slices)
    return urlsafe_b64encode(stream).decode()


class ClickSigner:
    """Mints and reads click tokens; the first key mints, every key verifies."""

    def __init__(self, secret_keys: Sequence[str]) -> None:
        if not secret_keys:
            raise ValueError("at least one secret key is required")
        self._keys = [_stream_key(secret) for secret in secret_keys]
        # The format before per-delivery tags: verified only, never minted.
        self._legacy = _CachedKeySigner(list(reversed(secret_keys)), salt="pulse.click")

    def tokens(self, delivery_id: int, issue_id: int, positions: Sequence[int]) -> list[str]:
        """One delivery's tokens for ``positions`` (links, or OPEN): one keyed hash for all."""
        if not positions:
            return []
        prefix = f"{delivery_id}.{issue_id}."
        tags = _tags(self._keys[0], prefix, max(positions) + 2)
        return [
            f"{prefix}{p}.{tags[(p + 1) * _TAG_CHARS : (p + 2) * _TAG_CHARS]}" for p in positions
        ]

    def token(self, delivery_id: int, issue_id: int, position: int) -> str:
        return self.tokens(delivery_id, issue_id, (position,))[0]

    def read(self, token: str) -> ClickTarget:
        """The target of a genuine token; :class:`BadClickToken` for anything else."""
        if len(token) > 200 or not token.isascii():
            raise BadClickToken("not a click token")
        parts = token.split(".")
        if len(parts) != 4:
            raise BadClickToken("not a click token")
        try:
            delivery_id, issue_id, position = (int(part) for part in parts[:3])
        except ValueError as err:
            raise BadClickToken("not a click token") from err
        # int() accepts "+1", " 1" and "1_0": only the canonical spelling was ever minted.
        if ".".join(str(n) for n in (delivery_id, issue_id, position)) != token.rpartition(".")[0]:
            raise BadClickToken("not a click token")
        if not (0 < delivery_id < _MAX_PART and 0 < issue_id < _MAX_PART):
            raise BadClickToken("not a click token")
        if not OPEN <= position <= MAX_POSITION:
            raise BadClickToken("not a click token")
        tag = parts[3]
        if len(tag) == _TAG_CHARS:
            self._check_tag(f"{delivery_id}.{issue_id}.", tag, position)
        elif len(tag) == _LEGACY_CHARS:
            self._check_legacy(token)
        else:
            raise BadClickToken("not a click token")
        return ClickTarget(delivery_id, issue_id, position)

    def _check_tag(self, prefix: str, tag: str, position: int) -> None:
        start = (position + 1) * _TAG_CHARS
        for key in self._keys:
            expected = _tags(key, prefix, position + 2)[start : start + _TAG_CHARS]
            if hmac.compare_digest(expected, tag):
                return
        raise BadClickToken("the click token is not genuine")

    def _check_legacy(self, token: str) -> None:
        try:
            self._legacy.unsign(token)
        except BadSignature as err:
            raise BadClickToken("the click token is not genuine") from err
