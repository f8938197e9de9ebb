"""hypothesis on the platform readers: any input reads as rows or one clear error."""

from __future__ import annotations

import csv
import io
import random
import zipfile

from hypothesis import given, settings
from hypothesis import strategies as st

from pulse_core.errors import ValidationError
from subscribers.departures import Standing
from subscribers.importer import LineError, NewSubscriber
from subscribers.platforms import PLATFORMS

FUZZ = settings(max_examples=80, deadline=None)
HEADERS = {
    "mailchimp": "Email Address,First Name,Last Name,OPTIN_TIME,CONFIRM_TIME",
    "substack": "email,active_subscription,expiry,plan,email_disabled,created_at",
    "ghost": "id,email,name,note,subscribed_to_emails,created_at,deleted_at",
    "listmonk": "uuid,email,name,attributes,status,created_at,updated_at",
    "beehiiv": "email,First Name,Last Name,status,tier,created_at,unsubscribed_at",
    "kit": "first_name,email_address,state,created_at",
}
FILENAME = {"mailchimp": "subscribed_members_export_1.csv"}
cell = st.one_of(
    st.text(max_size=30),
    st.sampled_from(
        ["", "true", "false", "enabled", "active", "=1+2", "2024-01-01", "a@example.com",
         "=?utf-8?b?QQ==?=", "x\r\ny", '"', "\ufeff"]
    ),
)  # fmt: skip


def _read(platform: str, data: bytes) -> list[tuple[int, NewSubscriber | LineError]]:
    return list(PLATFORMS[platform](io.BytesIO(data), FILENAME.get(platform, "x.csv"), False))


@FUZZ
@given(platform=st.sampled_from(sorted(PLATFORMS)), data=st.binary(max_size=600))
def test_any_bytes_read_as_rows_or_one_validation_error(platform: str, data: bytes) -> None:
    for blob in (data, HEADERS[platform].encode() + b"\n" + data):
        try:
            rows = _read(platform, blob)
        except ValidationError as err:
            assert err.field and err.message
            continue
        assert all(isinstance(item, NewSubscriber | LineError) for _line, item in rows)


@FUZZ
@given(
    platform=st.sampled_from(sorted(PLATFORMS)),
    rows=st.lists(st.lists(cell, min_size=0, max_size=9), max_size=6),
)
def test_any_cells_under_a_real_header_read_as_rows_or_line_errors(
    platform: str, rows: list[list[str]]
) -> None:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADERS[platform].split(","))
    writer.writerows(rows)
    try:
        read = _read(platform, out.getvalue().encode("utf-8"))
    except ValidationError as err:  # a row csv cannot read stops the file, naming where
        assert err.field
        return
    for _line, item in read:
        if isinstance(item, NewSubscriber):
            assert not item.email.startswith(("=", "+", "@"))
            assert item.first_name is None or not item.first_name.startswith(("=", "+", "@"))
            assert "\n" not in (item.first_name or "") and "=?" not in (item.first_name or "")


LISTMONK = {"enabled": Standing.SUBSCRIBED, "blocklisted": Standing.UNSUBSCRIBED,
            "disabled": Standing.GONE}  # fmt: skip
local = st.from_regex(r"[a-z][a-z0-9._]{0,15}[a-z0-9]", fullmatch=True).filter(
    lambda s: ".." not in s
)
people = st.lists(
    st.tuples(local, st.sampled_from(sorted(LISTMONK)), st.booleans()), max_size=12,
    unique_by=lambda person: person[0],
)  # fmt: skip


@FUZZ
@given(people=people, zip_it=st.booleans())
def test_what_the_export_says_is_what_the_reader_reads(
    people: list[tuple[str, str, bool]], zip_it: bool
) -> None:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADERS["listmonk"].split(","))
    for name, status, dated in people:
        when = "2024-01-15 10:00:00.5 +0000 UTC" if dated else ""
        writer.writerow(["u", f"{name}@example.com", name.title(), "{}", status, when, ""])
    rows = [item for _line, item in _read("listmonk", out.getvalue().encode())]
    assert [(r.email, r.standing) for r in rows if isinstance(r, NewSubscriber)] == [
        (f"{name}@example.com", LISTMONK[status]) for name, status, _dated in people
    ]
    assert all(isinstance(r, NewSubscriber) for r in rows)
    # The same rows as a Mailchimp unsubscribed CSV inside the zip read as suppressed.
    mail = io.StringIO()
    mail_writer = csv.writer(mail)
    mail_writer.writerow(HEADERS["mailchimp"].split(","))
    for name, _status, _dated in people:
        mail_writer.writerow([f"{name}@example.com", name, "", "", ""])
    data = mail.getvalue().encode()
    if zip_it:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr("unsubscribed_members_export_1.csv", data)
            archive.writestr("subscribed_members_export_1.csv", HEADERS["mailchimp"] + "\n")
        data = buffer.getvalue()
    name = "unsubscribed_members_export_1.csv"
    read = list(PLATFORMS["mailchimp"](io.BytesIO(data), name, False))
    assert {item.standing for _line, item in read if isinstance(item, NewSubscriber)} <= {
        Standing.UNSUBSCRIBED
    }
    assert len(read) == len(people)


@FUZZ
@given(
    platform=st.sampled_from(sorted(PLATFORMS)),
    order=st.randoms(use_true_random=False),
    shout=st.booleans(),
    bom=st.booleans(),
)
def test_header_case_order_and_bom_do_not_matter(
    platform: str, order: random.Random, shout: bool, bom: bool
) -> None:
    from tests.subscribers.platform_files import FIXTURES, SINGLE_FILES

    if platform == "mailchimp":
        source = FIXTURES / "mailchimp" / "subscribed_members_export_3f2a1b9c0d.csv"
    else:
        source = FIXTURES / SINGLE_FILES[platform]
    table = list(csv.reader(io.StringIO(source.read_text(encoding="utf-8-sig"))))
    columns = list(range(len(table[0])))
    order.shuffle(columns)
    out = io.StringIO()
    writer = csv.writer(out)
    for number, row in enumerate(table):
        cells = [row[i] for i in columns]
        writer.writerow([c.upper() if shout else c for c in cells] if number == 0 else cells)
    data = ("\ufeff" if bom else "").encode() + out.getvalue().encode()
    name = source.name
    original = list(PLATFORMS[platform](io.BytesIO(source.read_bytes()), name, False))
    assert list(PLATFORMS[platform](io.BytesIO(data), name, False)) == original
