"""Bad exports: a clear error naming the line and field, nothing applied, no traceback."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from pipeline.wiring import Pulse
from pulse_core.errors import ImportFileError
from subscribers.importer import LineError
from subscribers.platforms import PLATFORMS
from subscribers.platforms.files import MAX_MEMBERS, Row
from tests.conftest import Cli
from tests.subscribers.conftest import all_subscribers
from tests.subscribers.platform_files import FIXTURES

CONSENT = "Subscribed to the old newsletter"
GHOST_HEADER = (
    "id,email,name,note,subscribed_to_emails,complimentary_plan,stripe_customer_id,"
    "created_at,deleted_at,labels,tiers\n"
)


def read(platform: str, data: bytes, filename: str = "export.csv") -> list[Row]:
    return list(PLATFORMS[platform](io.BytesIO(data), filename, False))


def errors(rows: list[Row]) -> list[LineError]:
    return [item for _line, item in rows if isinstance(item, LineError)]


def zipped(**members: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_another_platforms_file_is_refused_naming_the_missing_column() -> None:
    ghost = (FIXTURES / "ghost_members.csv").read_bytes()
    with pytest.raises(ImportFileError) as refused:
        read("listmonk", ghost)
    assert refused.value.line == 1 and refused.value.field == "status"
    assert "listmonk" in str(refused.value)
    with pytest.raises(ImportFileError) as no_email:
        read("kit", b"first_name,state\nAl,active\n")
    assert no_email.value.field == "email"


def test_a_damaged_zip_a_zip_bomb_and_a_zip_of_something_else_are_refused() -> None:
    with pytest.raises(ImportFileError, match="not a readable zip"):
        read("mailchimp", b"PK\x03\x04" + b"\x00" * 200, "members.zip")
    bomb = zipped(**{"subscribed_members_export_1.csv": b"Email Address\n" + b"0" * 30_000_000})
    assert len(bomb) < 100_000
    with pytest.raises(ImportFileError, match="would unpack to"):
        read("mailchimp", bomb, "members.zip")
    with pytest.raises(ImportFileError, match="no subscribed_"):
        read("mailchimp", zipped(**{"posts.csv": b"post_id\n1\n"}), "members.zip")
    crowded = zipped(**{f"f{i}.csv": b"x" for i in range(MAX_MEMBERS + 1)})
    with pytest.raises(ImportFileError, match="holds"):
        read("mailchimp", crowded, "members.zip")
    with pytest.raises(ImportFileError, match="email_list"):
        read("substack", zipped(**{"posts.csv": b"post_id\n"}), "export.zip")


def test_a_zip_whose_member_is_damaged_is_refused() -> None:
    name = "subscribed_members_export_1.csv"
    good = zipped(**{name: b"Email Address\n" + b"a@example.com\n" * 50})
    header_name = bytearray(good)
    header_name[30] ^= 0x20  # the member's own header no longer names it as the directory does
    with pytest.raises(ImportFileError, match="cannot be read"):
        read("mailchimp", bytes(header_name), "members.zip")
    data = bytearray(good)
    data[30 + len(name) + 4] ^= 0xFF  # inside the deflated data: inflate or CRC fails
    with pytest.raises(ImportFileError) as damaged:
        read("mailchimp", bytes(data), "members.zip")
    assert damaged.value.field.startswith(name)


def test_a_lone_mailchimp_csv_needs_its_mailchimp_name() -> None:
    data = (FIXTURES / "mailchimp" / "cleaned_members_export_3f2a1b9c0d.csv").read_bytes()
    [(_line, row)] = read("mailchimp", data, "cleaned_members_export_3f2a1b9c0d.csv")
    assert not isinstance(row, LineError) and row.standing.value == "bounced"
    with pytest.raises(ImportFileError, match="give the zip"):
        read("mailchimp", data, "my-list.csv")


def test_text_that_is_not_utf8_is_refused() -> None:
    data = (GHOST_HEADER + "1,zoë@example.com,Zoë,,true,false,,,,,\n").encode("latin-1")
    with pytest.raises(ImportFileError, match="UTF-8"):
        read("ghost", data)


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ('=HYPERLINK("http://evil.example")', "formula"),
        ("@SUM(A1)", "formula"),
        ("Ann =?utf-8?q?Bcc=3A_x=40evil.example?=", "encoded"),
        ("Ann\r\nBcc: x@evil.example", "line breaks"),
    ],
)
def test_names_that_would_run_in_a_spreadsheet_or_forge_a_header_are_refused(
    name: str, message: str
) -> None:
    cell = '"' + name.replace('"', '""') + '"'
    data = f"first_name,email_address,state,created_at\n{cell},al@example.com,active,\n"
    [error] = errors(read("kit", data.encode()))
    assert error.line == 2 + name.count("\n") and error.field == "first_name"
    assert message in error.message


def test_formula_looking_addresses_and_unknown_values_are_line_errors() -> None:
    data = (
        "uuid,email,name,attributes,status,created_at,updated_at\n"
        "1,=cmd@example.com,A,{},enabled,,\n"
        "2,ok@example.com,B,{},subscribed,,\n"
        "3,ok2@example.com,C,{},enabled,last tuesday,\n"
    )
    found = errors(read("listmonk", data.encode()))
    assert [(e.line, e.field) for e in found] == [(2, "email"), (3, "status"), (4, "created_at")]
    assert "enabled" in found[1].message  # the values it knows


def test_a_bad_flag_names_its_column() -> None:
    data = GHOST_HEADER + "1,al@example.com,Al,,maybe,false,,,,,\n"
    [error] = errors(read("ghost", data.encode()))
    assert error.field == "subscribed_to_emails"


def test_a_bad_file_through_the_cli_changes_nothing_and_names_the_line(
    cli: Cli, site: Pulse, tmp_path: Path
) -> None:
    path = tmp_path / "members.csv"
    path.write_text(
        GHOST_HEADER
        + "1,gil@example.com,Gil,,true,false,,,,,\n"
        + "2,uma@example.com,=1+2,,false,false,,,,,\n",
        encoding="utf-8",
    )
    result = cli("subscribers", "import", str(path), "--from", "ghost", "--consent", CONSENT)
    assert result.exit_code == 1
    assert "line 3: first_name" in result.stderr and "Traceback" not in result.stderr
    assert all_subscribers(site) == []
    bomb = tmp_path / "members.zip"
    bomb.write_bytes(
        zipped(**{"subscribed_members_export_1.csv": b"Email Address\n" + b"0" * 30_000_000})
    )
    result = cli("subscribers", "import", str(bomb), "--from", "mailchimp", "--consent", CONSENT)
    assert result.exit_code == 1 and "would unpack" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
