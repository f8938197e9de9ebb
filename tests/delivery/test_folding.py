"""Headers are folded at spaces to 78 columns (RFC 5322 2.2.3), never into encoded words."""

from __future__ import annotations

import re
from email import message_from_bytes, policy
from email.message import EmailMessage

from hypothesis import given
from hypothesis import strategies as st

from pipeline.delivery.folding import fold_lines
from pipeline.delivery.message import MIME_POLICY

UNSUBSCRIBE = (
    "<https://pulse.example.com/u/eyJkIjoxMjM0NTYsImsiOiJ1bnN1YiJ9.Zk3l2Q.abcdefghijklmnopqrst"
    "uvwxyz0123456789ABCDEF>, <mailto:unsubscribe@pulse.example.com?subject=unsubscribe%20eyJk"
    "IjoxMjM0NTYsImsiOiJ1bnN1YiJ9>"
)
WORDS = st.text(st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=90)


def _unfold(block: bytes) -> bytes:
    return re.sub(rb"\r\n(?=[ \t])", b"", block)


@given(st.lists(WORDS, min_size=1, max_size=30))
def test_folding_only_inserts_line_breaks_before_spaces(words: list[str]) -> None:
    line = ("X-Test: " + " ".join(words)).encode()
    folded = fold_lines(line)
    assert _unfold(folded) == line
    for physical in folded.split(b"\r\n"):
        # Longer than 78 only where no space allowed a break within the limit.
        assert len(physical) <= 78 or b" " not in physical[1:79]


def test_a_long_unsubscribe_header_is_folded_at_its_comma_and_reads_back_unchanged() -> None:
    message = EmailMessage(policy=MIME_POLICY)
    message["List-Unsubscribe"] = UNSUBSCRIBE
    message["Subject"] = "AISE Pulse Brief #12: Salary Pulse — base pay up 4% in the US " * 2
    message.set_content("body")
    raw = message.as_bytes()
    header_block = raw.split(b"\r\n\r\n", 1)[0]
    assert b"=?" not in header_block.split(b"Subject:")[0]  # the URL is never an encoded word
    assert b">,\r\n <mailto:" in header_block
    back = message_from_bytes(raw, policy=policy.default)
    assert back["List-Unsubscribe"] == UNSUBSCRIBE
    assert back["Subject"] == message["Subject"]
    # Every physical line fits in 78 columns unless it is one unbreakable token (the URLs).
    for line in header_block.split(b"\r\n"):
        assert len(line) <= 78 or b" " not in line.strip().split(b":", 1)[-1].strip()
