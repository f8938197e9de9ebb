"""Header folding by RFC 5322's rule, without the email package's encoded-word fallback.

Asked to keep header lines within 78 characters, Python's ``email`` package turns a value it
cannot break (a long unsubscribe URL) into RFC 2047 encoded words, which mail clients do not
read as URLs. So headers are written at RFC 5322's hard limit of 998 and then folded here the
way section 2.2.3 describes: a line break inserted before a space, never inside a token. A
line with no space to break at stays long (up to 998), as the RFC allows.
"""

from __future__ import annotations

from email.policy import EmailPolicy

SOFT_LIMIT = 78  # RFC 5322 2.1.1: lines SHOULD be no more than 78 characters


def fold_lines(block: bytes, limit: int = SOFT_LIMIT) -> bytes:
    """Fold every CRLF-terminated line of ``block`` longer than ``limit`` at a space."""
    out: list[bytes] = []
    for line in block.split(b"\r\n"):
        while len(line) > limit:
            colon = line.find(b":") + 1 if not line[:1].isspace() else 0
            cut = line.rfind(b" ", colon + 1, limit + 1)
            if cut <= colon:  # no space inside the limit: break at the first one after it
                cut = line.find(b" ", limit + 1)
            if cut <= colon:
                break
            out.append(line[:cut])
            line = line[cut:]  # the continuation starts with the space (folding white space)
        out.append(line)
    return b"\r\n".join(out)


class FoldingPolicy(EmailPolicy):
    """An SMTP policy whose headers are folded at spaces only (see the module docstring)."""

    def fold(self, name: str, value: str) -> str:
        folded = super().fold(name, value).encode("utf-8", "surrogateescape")
        return fold_lines(folded.replace(self.linesep.encode(), b"\r\n")).decode(
            "utf-8", "surrogateescape"
        ).replace("\r\n", self.linesep)

    def fold_binary(self, name: str, value: str) -> bytes:
        folded = super().fold_binary(name, value)
        return fold_lines(folded.replace(self.linesep.encode(), b"\r\n")).replace(
            b"\r\n", self.linesep.encode()
        )
