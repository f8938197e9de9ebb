"""What goes to the provider: a batch of recipients sharing one compiled issue, and MIME."""

from __future__ import annotations

import hashlib
import html
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime
from functools import cached_property

from pipeline.delivery.folding import FoldingPolicy
from pipeline.delivery.header_check import verify_headers
from pipeline.errors import ValidationError
from pipeline.issues.merge import MergeTemplate, html_values
from pulse_core.database import utcnow
from subscribers.display import header_text_problem, neutralise_header_text

# Long List-Unsubscribe URLs must not be folded into RFC 2047 encoded words (which mail
# clients would not parse as URLs): written at RFC 5322's hard limit of 998, then folded at
# spaces to 78 where a space allows (pipeline/delivery/folding.py).
MIME_POLICY = FoldingPolicy(linesep="\r\n", max_line_length=998)
# Bodies are another matter: RFC 2045 limits quoted-printable lines to 76 characters, and
# filters score longer ones (SpamAssassin's MIME_QP_LONG_LINE, and __LONGLINE behind
# LONG_INVISIBLE_TEXT). The parts are encoded under this policy, the headers under the one above.
BODY_POLICY = SMTP.clone(max_line_length=76)


def clean_display_name(name: str | None) -> str | None:
    """A stored name made safe for a header without refusing it.

    Names are checked at signup (:func:`subscribers.fields.clean_first_name`); this covers
    rows written before those checks or by other paths: control characters become spaces
    and encoded-word openers are broken up, so no decoder can turn them into line breaks.
    """
    if name is None:
        return None
    return neutralise_header_text(name) or None


def check_header_value(name: str, value: str) -> str:
    """Refuse a header value with line breaks, control characters or encoded-words.

    Encoded-words are decoded and checked too: that is where CVE-2024-6923 hid its CR/LF.
    """
    problem = header_text_problem(value)
    if problem:
        raise ValidationError(name, problem)
    return value


@dataclass(frozen=True)
class Recipient:
    """One addressee of a batch, with their merge values and own headers."""

    delivery_id: int
    email: str
    name: str | None
    message_id: str
    values: Mapping[str, str]
    headers: Mapping[str, str]

    @property
    def display_name(self) -> str:
        """The plain display name (never an encoded-word), '' when there is none."""
        return check_header_value("To", self.name or "")

    def to_address(self) -> Address:
        username, _, domain = self.email.rpartition("@")
        return Address(display_name=self.display_name, username=username, domain=domain)


@dataclass(frozen=True)
class Batch:
    """Messages sharing one subject and one compiled body, for one provider call or more."""

    key: str
    subject: str
    sender: Address
    html: MergeTemplate
    text: MergeTemplate
    recipients: Sequence[Recipient]
    headers: Mapping[str, str] = field(default_factory=dict)
    transactional: bool = False  # a confirmation, welcome or report, not an issue

    @property
    def idempotency_key(self) -> str:
        """Stable for the same rows: a retried batch carries the same key."""
        ids = ",".join(str(r.delivery_id) for r in self.recipients)
        return hashlib.sha256(f"{self.key}:{ids}".encode()).hexdigest()[:48]

    @property
    def checked_subject(self) -> str:
        return check_header_value("Subject", self.subject)

    def html_for(self, recipient: Recipient) -> str:
        return self.html.merge(html_values(recipient.values))

    def text_for(self, recipient: Recipient) -> str:
        return self.text.merge(recipient.values)

    @cached_property
    def checked_headers(self) -> dict[str, str]:
        """The batch-wide headers, checked once for the whole batch."""
        return {name: check_header_value(name, value) for name, value in self.headers.items()}

    def all_headers(self, recipient: Recipient) -> dict[str, str]:
        """Batch-wide headers then the recipient's own, all checked for injection."""
        own = {name: check_header_value(name, value) for name, value in recipient.headers.items()}
        return {**self.checked_headers, **own}


def build_mime(batch: Batch, recipient: Recipient) -> EmailMessage:
    """A complete RFC 5322 message: multipart/alternative text + HTML.

    Every value is checked before it is set, and the header block as it will be written is
    checked after (:func:`verify_headers`): exactly the headers set here, one ``To``
    address. So no interpreter's header folding can add a line we did not write.
    """
    # Built under the body policy so set_content/add_alternative encode at 76 columns, then
    # switched to the header policy, which governs how the headers are written out.
    message = EmailMessage(policy=BODY_POLICY)
    message["From"] = batch.sender
    to = recipient.to_address()
    message["To"] = to
    message["Subject"] = check_header_value("Subject", batch.subject)
    message["Date"] = format_datetime(utcnow())
    message["Message-ID"] = check_header_value("Message-ID", recipient.message_id)
    message["MIME-Version"] = "1.0"
    extra = batch.all_headers(recipient)
    for name, value in extra.items():
        message[name] = value
    message.set_content(batch.text_for(recipient), subtype="plain", cte="quoted-printable")
    message.add_alternative(batch.html_for(recipient), subtype="html", cte="quoted-printable")
    # A non-ASCII local part can only travel as SMTPUTF8 (RFC 6531): raw UTF-8 headers, never
    # an encoded word inside the address.
    message.policy = MIME_POLICY if to.addr_spec.isascii() else MIME_POLICY.clone(utf8=True)
    expected = [*_OWN_HEADERS, *extra, "Content-Type"]
    verify_headers(message, expected, to.addr_spec)
    return message


# What build_mime sets itself, besides the batch's and recipient's own headers.
_OWN_HEADERS = ("From", "To", "Subject", "Date", "Message-ID", "MIME-Version")


@dataclass(frozen=True)
class ServerMerge:
    """One body per call for providers that merge per recipient themselves.

    The compiled HTML and text carry the provider's own markers; :meth:`values` gives each
    recipient's substitutions. A field whose values need no HTML escaping in this batch (URLs
    with signed tokens, most names) is sent once and used in both parts, which keeps the
    per-recipient upload small.
    """

    html: str
    text: str
    html_names: Mapping[str, str]  # merge field -> variable name used in the HTML part
    text_names: Mapping[str, str]

    def values(self, recipient: Recipient) -> dict[str, str]:
        out = {self.text_names[f]: recipient.values[f] for f in self.text_names}
        for field_name, variable in self.html_names.items():
            out[variable] = html.escape(recipient.values[field_name], quote=True)
        return out


def server_merge(batch: Batch, marker: Callable[[str], str]) -> ServerMerge:
    """Re-join the batch's bodies with ``marker(variable)`` in place of each merge field."""
    fields = batch.html.fields | batch.text.fields
    shared = {
        f
        for f in fields
        if all(html.escape(r.values[f], quote=True) == r.values[f] for r in batch.recipients)
    }
    html_names = {f: f if f in shared else f"{f}_html" for f in batch.html.fields}
    text_names = {f: f for f in batch.text.fields}
    return ServerMerge(
        html=batch.html.with_markers({f: marker(v) for f, v in html_names.items()}),
        text=batch.text.with_markers({f: marker(v) for f, v in text_names.items()}),
        html_names={f: v for f, v in html_names.items() if v != f},
        text_names={**text_names, **{f: f for f in html_names if f in shared}},
    )
