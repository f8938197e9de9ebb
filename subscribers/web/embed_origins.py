"""The embed allow-list: which other sites' pages may carry the signup form.

An origin is ``scheme://host[:port]`` and matches exactly (the port made explicit, so
``https://a.example`` and ``https://a.example:443`` are one origin); a path, a wildcard or
a user name is refused, because a broader match than the operator meant would let any
page post the form.
"""

from __future__ import annotations

from collections.abc import Collection
from urllib.parse import urlsplit

_DEFAULT_PORTS = {"http": 80, "https": 443}


def normalise_origin(text: str) -> str | None:
    """``scheme://host:port`` (lower case, explicit port), or None when ``text`` is not one.

    Accepts a bare origin (an ``Origin`` header) or a full URL (a ``Referer``), whose
    path is ignored; :func:`parse_origins` is the strict reader of the setting.
    """
    try:
        parts = urlsplit(text.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if scheme not in _DEFAULT_PORTS or not host or parts.username or parts.password:
        return None
    if not all(ch.isalnum() or ch in ".-[]:" for ch in host):
        return None
    shown = f"[{host}]" if ":" in host else host
    return f"{scheme}://{shown}:{port or _DEFAULT_PORTS[scheme]}"


def parse_origins(text: str) -> tuple[str, ...]:
    """``PULSE_EMBED_ORIGINS`` (comma-separated) → normalised origins.

    Raises ``ValueError`` naming the first entry that is not an origin.
    """
    origins: list[str] = []
    for entry in (item.strip() for item in text.split(",")):
        if not entry:
            continue
        parts = urlsplit(entry)
        origin = normalise_origin(entry)
        if origin is None or parts.path not in ("", "/") or parts.query or parts.fragment:
            raise ValueError(f"{entry!r} is not an origin such as https://partner.example")
        if origin not in origins:
            origins.append(origin)
    return tuple(origins)


def request_origin(origin_header: str | None, referer: str | None) -> str | None:
    """Where a request came from: its ``Origin``, else its ``Referer``'s; None when unknown.

    ``Origin: null`` (a sandboxed or privacy-stripped page) is unknown, never a match.
    """
    if origin_header:
        return None if origin_header.strip() == "null" else normalise_origin(origin_header)
    return normalise_origin(referer) if referer else None


def allowed(origin: str | None, allow_list: Collection[str]) -> bool:
    """Whether ``origin`` is exactly one of ``allow_list``."""
    return origin is not None and origin in allow_list


def shown_origin(origin: str) -> str:
    """The origin without its default port, as people write it (CSP and the desk)."""
    scheme, _sep, rest = origin.partition("://")
    host, _colon, port = rest.rpartition(":")
    return f"{scheme}://{host}" if int(port) == _DEFAULT_PORTS[scheme] else origin
