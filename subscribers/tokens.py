"""Signed, unforgeable tokens for subscriber links (HMAC via itsdangerous).

Unsubscribe and preferences tokens never expire, but they sit in every email (and so in
every relay and forwardee's hands), so they can only unsubscribe, resubscribe and pause.
Manage tokens, mailed on request, expire within the hour and can also rename, export and
erase. Confirmation tokens expire too. Every token names its purpose
(the salt) so one kind can never be replayed as another. Old keys verify for rotation.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from itsdangerous import (
    BadSignature,
    Serializer,
    SignatureExpired,
    Signer,
    URLSafeSerializer,
    URLSafeTimedSerializer,
)
from itsdangerous.encoding import base64_encode

from pulse_core.errors import PulseError


class InvalidToken(PulseError):
    """A token was tampered with, signed by an unknown key, or is for another purpose."""


class ExpiredToken(InvalidToken):
    """A token was genuine but is older than its lifetime."""


@lru_cache(maxsize=64)
def _derived_key(secret_key: bytes, salt: bytes, key_derivation: str, digest: Any) -> bytes:
    signer = Signer(secret_key, salt=salt, key_derivation=key_derivation, digest_method=digest)
    return signer.derive_key()


class _KeyCachingSigner(Signer):
    """itsdangerous' signer, deriving each (key, salt) pair's HMAC key once, not per token."""

    def derive_key(self, secret_key: str | bytes | None = None) -> bytes:
        key = self.secret_keys[-1] if secret_key is None else secret_key
        key = key.encode() if isinstance(key, str) else key
        return _derived_key(key, self.salt, self.key_derivation, self.digest_method)


class _LinkSerializer(URLSafeSerializer):
    """Tokens for links minted per recipient on every send, so they must be cheap.

    Same format as ``URLSafeSerializer`` (which verifies them): it only skips trying zlib on
    a payload of an id and the list id, which compression hardly ever shortens and which
    was most of the cost. Uncompressed payloads are valid in that format.
    """

    default_signer = _KeyCachingSigner

    def dump_payload(self, obj: Any) -> bytes:
        return base64_encode(Serializer.dump_payload(self, obj))


@dataclass(frozen=True)
class TokenSubject:
    """Who a token is about: a subscriber on a list."""

    subscriber_id: int
    list_id: str


class TokenSigner:
    """Signs and verifies subscriber tokens with the current key, accepting older keys."""

    def __init__(self, secret_keys: Sequence[str], list_id: str) -> None:
        if not secret_keys:
            raise ValueError("at least one secret key is required")
        # itsdangerous signs with the last key and verifies with any of them.
        self._keys = list(reversed(secret_keys))
        self.list_id = list_id
        self._unsubscribe = _LinkSerializer(self._keys, salt="pulse.unsubscribe")
        self._preferences = _LinkSerializer(self._keys, salt="pulse.preferences")
        self._confirm = URLSafeTimedSerializer(self._keys, salt="pulse.confirm")
        self._form = URLSafeTimedSerializer(self._keys, salt="pulse.form")
        self._embed = URLSafeTimedSerializer(self._keys, salt="pulse.embed")
        self._manage = URLSafeTimedSerializer(self._keys, salt="pulse.manage")
        self._recover = URLSafeTimedSerializer(self._keys, salt="pulse.recover")

    def message_tag(self, text: str) -> str:
        """A short keyed tag for ``text``: part of a Message-ID that nobody can guess.

        A forged bounce must name a message we sent; with a guessable Message-ID, knowing a
        subscriber's address and trying delivery ids would be enough.
        """
        key = self._keys[-1].encode()
        digest = hmac.new(key, b"pulse.message-id\x00" + text.encode(), hashlib.sha256)
        return digest.hexdigest()[:16]

    def unsubscribe_token(self, subscriber_id: int) -> str:
        """A never-expiring token for one-click unsubscribe."""
        return self._unsubscribe.dumps([subscriber_id, self.list_id])

    def preferences_token(self, subscriber_id: int) -> str:
        """A never-expiring token for the preferences page."""
        return self._preferences.dumps([subscriber_id, self.list_id])

    def confirm_token(self, subscriber_id: int) -> str:
        """A token for double opt-in; it expires (see :meth:`read_confirm`)."""
        return self._confirm.dumps([subscriber_id, self.list_id])

    def manage_token(self, subscriber_id: int) -> str:
        """A short-lived token for changing, exporting or erasing one's data (mailed)."""
        return self._manage.dumps([subscriber_id, self.list_id])

    def read_manage(self, token: str, max_age_seconds: int) -> TokenSubject:
        try:
            payload = self._manage.loads(token, max_age=max_age_seconds)
        except SignatureExpired as err:
            raise ExpiredToken("the link has expired") from err
        except BadSignature as err:
            raise InvalidToken("the link is not valid") from err
        return self._subject(payload)

    def recover_token(self, subscriber_id: int) -> str:
        """A token to lift a bounce or complaint suppression by confirming again (expires)."""
        return self._recover.dumps([subscriber_id, self.list_id])

    def read_recover(self, token: str, max_age_seconds: int) -> TokenSubject:
        try:
            payload = self._recover.loads(token, max_age=max_age_seconds)
        except SignatureExpired as err:
            raise ExpiredToken("the link has expired") from err
        except BadSignature as err:
            raise InvalidToken("the link is not valid") from err
        return self._subject(payload)

    def read_unsubscribe(self, token: str) -> TokenSubject:
        return self._read(self._unsubscribe, token)

    def read_preferences(self, token: str) -> TokenSubject:
        return self._read(self._preferences, token)

    def read_confirm(self, token: str, max_age_seconds: int) -> TokenSubject:
        try:
            payload = self._confirm.loads(token, max_age=max_age_seconds)
        except SignatureExpired as err:
            raise ExpiredToken("the link has expired") from err
        except BadSignature as err:
            raise InvalidToken("the link is not valid") from err
        return self._subject(payload)

    def read_confirm_ignoring_age(self, token: str) -> TokenSubject:
        """A genuine confirmation token of any age: enough to offer an expired link anew."""
        try:
            payload = self._confirm.loads(token)
        except BadSignature as err:
            raise InvalidToken("the link is not valid") from err
        return self._subject(payload)

    def form_token(self, nonce: str) -> str:
        """A signed, timestamped token for a web form, bound to the browser's ``nonce`` cookie.

        A random part makes every token unique (two page loads in one second included), so
        each can be spent once.
        """
        return self._form.dumps([nonce, secrets.token_urlsafe(9)])

    def read_form_token(self, token: str, max_age_seconds: int) -> tuple[str, datetime]:
        """The nonce and issue time of a form token; :class:`InvalidToken` when not genuine."""
        try:
            payload, issued = self._form.loads(
                token, max_age=max_age_seconds, return_timestamp=True
            )
        except SignatureExpired as err:
            raise ExpiredToken("the form has expired") from err
        except BadSignature as err:
            raise InvalidToken("the form is not valid") from err
        nonce = payload[0] if isinstance(payload, list) and len(payload) == 2 else payload
        if not isinstance(nonce, str):
            raise InvalidToken("the form is not valid")
        return nonce, issued

    def embed_token(self, origin: str) -> str:
        """A signed, timestamped token for the embedded form, naming the site it came from.

        Another site's page cannot carry a cookie-bound form token, so the embed's step on
        this site (or its iframe) carries this one instead: single-use like a form token
        (see :func:`subscribers.web.forms.spend_form_token`), its age the fill time.
        """
        return self._embed.dumps([origin, secrets.token_urlsafe(9)])

    def read_embed_token(self, token: str, max_age_seconds: int) -> tuple[str, datetime]:
        """The origin and issue time of an embed token; :class:`InvalidToken` when not genuine."""
        try:
            payload, issued = self._embed.loads(
                token, max_age=max_age_seconds, return_timestamp=True
            )
        except SignatureExpired as err:
            raise ExpiredToken("the form has expired") from err
        except BadSignature as err:
            raise InvalidToken("the form is not valid") from err
        if not (isinstance(payload, list) and len(payload) == 2 and isinstance(payload[0], str)):
            raise InvalidToken("the form is not valid")
        return payload[0], issued

    def _read(self, serializer: URLSafeSerializer, token: str) -> TokenSubject:
        try:
            payload = serializer.loads(token)
        except BadSignature as err:
            raise InvalidToken("the link is not valid") from err
        return self._subject(payload)

    def _subject(self, payload: object) -> TokenSubject:
        if (
            not isinstance(payload, list)
            or len(payload) != 2
            or not isinstance(payload[0], int)
            or payload[1] != self.list_id
        ):
            raise InvalidToken("the link is not valid for this list")
        return TokenSubject(subscriber_id=payload[0], list_id=payload[1])
