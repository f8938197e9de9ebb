"""Signed click and open tokens: ``{delivery}.{issue}.{link}.{signature}``.

A token names one delivery, its issue and one link of that issue, and is signed with an
HMAC (itsdangerous' signer, with a key derived once per secret rather than per token: one
token is minted per link per recipient on every send). Changing any part invalidates the
signature, so a token can only ever redirect to the link it was minted for. Old secret keys
verify (key rotation); tokens do not expire, because readers click old issues.
"""

from __future__ import annotations

import hmac
from base64 import urlsafe_b64encode
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from itsdangerous import BadSignature, Signer

from pipeline.errors import PulseError

OPEN = -1  # the "link" number an open-pixel token carries
_MAX_PART = 10**12


class BadClickToken(PulseError):
    """A click or open token was tampered with, truncated, or signed by an unknown key."""


@dataclass(frozen=True)
class ClickTarget:
    """What a genuine token names."""

    delivery_id: int
    issue_id: int
    position: int  # the link's number, or OPEN for the open pixel


@lru_cache(maxsize=16)
def _derived(secret: str, salt: str) -> bytes:
    return Signer(secret, salt=salt).derive_key()


class _CachedKeySigner(Signer):
    def derive_key(self, secret_key: str | bytes | None = None) -> bytes:
        key = self.secret_keys[-1] if secret_key is None else secret_key
        text = key.decode() if isinstance(key, bytes) else key
        return _derived(text, self.salt.decode() if isinstance(self.salt, bytes) else self.salt)


class ClickSigner:
    """Mints and reads click tokens; the first key signs, every key verifies."""

    def __init__(self, secret_keys: Sequence[str]) -> None:
        if not secret_keys:
            raise ValueError("at least one secret key is required")
        # itsdangerous signs with the last key of the list and verifies with any of them.
        self._signer = _CachedKeySigner(list(reversed(secret_keys)), salt="pulse.click")
        # Minting is on the per-recipient hot path: the same HMAC itsdangerous computes
        # (derived key, SHA-1 by default), through the stdlib's one-shot C implementation.
        self._key = self._signer.derive_key()
        self._digest = self._signer.digest_method().name

    def token(self, delivery_id: int, issue_id: int, position: int) -> str:
        value = f"{delivery_id}.{issue_id}.{position}"
        mac = hmac.digest(self._key, value.encode(), self._digest)
        return f"{value}.{urlsafe_b64encode(mac).rstrip(b'=').decode()}"

    def read(self, token: str) -> ClickTarget:
        """The target of a genuine token; :class:`BadClickToken` for anything else."""
        if len(token) > 200 or not token.isascii():
            raise BadClickToken("not a click token")
        try:
            value = self._signer.unsign(token).decode()
        except BadSignature as err:
            raise BadClickToken("the click token is not genuine") from err
        parts = value.split(".")
        if len(parts) != 3:
            raise BadClickToken("not a click token")
        try:
            delivery_id, issue_id, position = (int(part) for part in parts)
        except ValueError as err:
            raise BadClickToken("not a click token") from err
        if not (0 < delivery_id < _MAX_PART and 0 < issue_id < _MAX_PART) or position < OPEN:
            raise BadClickToken("not a click token")
        return ClickTarget(delivery_id, issue_id, position)
