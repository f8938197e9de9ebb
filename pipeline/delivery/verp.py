"""VERP return paths: ``bounces+<token>@<PULSE_BOUNCE_DOMAIN>``, one per delivery.

A bounce goes to the envelope sender, so when each message leaves with its own, the bounce
names its delivery even when the remote MTA mangles or drops everything else (the report
part, the returned headers). The token is the delivery id and a keyed MAC of it, so nobody
can make one that names someone else's delivery: a forged bounce without it changes nothing.

The token is lowercase base32 because some MTAs fold local parts to lower case, and short
enough that ``bounces+`` and the token stay within the 64-character local part (RFC 5321).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Sequence
from dataclasses import dataclass

PREFIX = "bounces"
_MAC_CHARS = 16  # 80 bits
_TOKEN = re.compile(rf"{PREFIX}\+(\d{{1,18}})-([a-z2-7]{{{_MAC_CHARS}}})@", re.IGNORECASE)


def _mac(key: str, delivery_id: int) -> str:
    digest = hmac.new(key.encode(), f"verp:{delivery_id}".encode(), hashlib.sha256).digest()
    return base64.b32encode(digest).decode().lower()[:_MAC_CHARS]


@dataclass(frozen=True)
class ReturnPaths:
    """Makes and reads VERP addresses; the first key signs, all of them are accepted."""

    domain: str
    secret_keys: Sequence[str]

    @property
    def plain(self) -> str:
        """The return path of mail that is not a delivery (confirmations, welcomes)."""
        return f"{PREFIX}@{self.domain}"

    def address(self, delivery_id: int) -> str:
        """The envelope sender for one delivery (the plain one for delivery id 0)."""
        if delivery_id <= 0:
            return self.plain
        return f"{PREFIX}+{delivery_id}-{_mac(self.secret_keys[0], delivery_id)}@{self.domain}"

    def delivery_in(self, text: str) -> int | None:
        """The delivery a genuine VERP address anywhere in ``text`` names, or None."""
        for match in _TOKEN.finditer(text):
            delivery_id, mac = int(match.group(1)), match.group(2).lower()
            if any(hmac.compare_digest(mac, _mac(key, delivery_id)) for key in self.secret_keys):
                return delivery_id
        return None
