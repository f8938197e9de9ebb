"""Tampering with a signed token so that it is certain to differ from the genuine one."""

from __future__ import annotations


def altered(token: str) -> str:
    """``token`` with its second-to-last character changed.

    Not the last: in an unpadded base64 signature the last character may carry padding
    bits the decoder drops, so changing it can leave the signature intact. The replacement
    always differs from the original, so a test using this can never forge by accident
    (replacing with a fixed "A" forges nothing when the character already was "A").
    """
    if len(token) < 2:
        raise ValueError("a token to alter has at least two characters")
    swapped = "B" if token[-2] == "A" else "A"
    return token[:-2] + swapped + token[-1]
