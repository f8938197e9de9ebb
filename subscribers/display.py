"""Text that ends up in a mail header: display names and subjects, checked before use.

People type names into signup forms and editors type subjects; both are written into
``To:`` and ``Subject:`` headers. Python's ``email`` package decodes RFC 2047 encoded-words
(``=?utf-8?b?…?=``) when it folds an address header, and before 3.11.10 / 3.12.5
(CVE-2024-6923) it then wrote any CR/LF they hid verbatim: a name could add ``Bcc:`` or a
body of its own. So a checker must look at the *decoded* text, and encoded-word syntax is
refused outright: nobody types one by hand, and the writer does its own encoding.

:func:`header_text_problem` says what is wrong (or ``None``), :func:`check_header_text`
raises :class:`ValidationError` naming the field, and :func:`neutralise_header_text` makes
any stored value harmless without refusing it (for rows written before these checks).
"""

from __future__ import annotations

import re
from email.errors import HeaderParseError
from email.header import decode_header

from pulse_core.errors import ValidationError

# Anything shaped like an RFC 2047 encoded-word ("=?" charset "?" enc "?" text "?="), very
# loosely: "=?" and, later, "?=". Decoders accept malformed variants the RFC does not (Python's
# address parser takes "=??B?=" for one and drops the address), so every "=?…?=" is refused.
ENCODED_WORD = re.compile(r"=\?.*?\?=", re.DOTALL)
# Unicode line and paragraph separators, next line, and the bidi controls that can make a
# header read differently from what it says.
_INVISIBLE = frozenset("\u2028\u2029\u0085\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


# Every character _bad_character refuses, found in one regex scan (headers are checked per
# recipient while a send composes, so a Python loop per character would cost more than the
# merge): category Cc (U+0000-U+001F, U+007F-U+009F), the separators and bidi controls
# above, and lone surrogates.
_BAD = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def _bad_character(text: str) -> str | None:
    found = _BAD.search(text)
    if found is None:
        return None
    ch = found.group()
    if ch in "\r\n":
        return "must not contain line breaks"
    if 0xD800 <= ord(ch) <= 0xDFFF:
        return "must be valid text"
    return "must not contain control characters"


def decoded_words(text: str) -> str:
    """``text`` with every RFC 2047 encoded-word decoded, as a mail reader would show it.

    Undecodable words are kept as they are (they are refused as encoded-words anyway).
    """
    if "=?" not in text:
        return text
    try:
        parts = decode_header(text)
    except (HeaderParseError, ValueError, LookupError):
        return text
    out = []
    for chunk, charset in parts:
        if isinstance(chunk, str):
            out.append(chunk)
            continue
        try:
            out.append(chunk.decode(charset or "ascii", errors="replace"))
        except LookupError:
            out.append(chunk.decode("ascii", errors="replace"))
    return "".join(out)


def header_text_problem(text: str) -> str | None:
    """Why ``text`` cannot go into a header, or ``None`` when it can."""
    problem = _bad_character(text)
    if problem:
        return problem
    decoded = decoded_words(text)
    if decoded != text and _bad_character(decoded):
        return "must not hide line breaks or control characters in =?…?= encoded text"
    if ENCODED_WORD.search(text) or ENCODED_WORD.search(decoded):
        return "must not contain =?…?= encoded text; type the characters themselves"
    return None


def check_header_text(text: str, field: str) -> str:
    """Return ``text`` if it is safe for a header; raise :class:`ValidationError` if not."""
    problem = header_text_problem(text)
    if problem:
        raise ValidationError(field, problem)
    return text


def neutralise_header_text(text: str) -> str:
    """``text`` made harmless for a header without refusing it.

    Control characters and separators become spaces, runs of space collapse, and the
    ``=?`` that opens an encoded-word gets a space (``= ?``) so no decoder sees one.
    """
    cleaned = _BAD.sub(" ", text)
    cleaned = cleaned.replace("=?", "= ?")
    return " ".join(cleaned.split())
