"""Reading another platform's export safely: zip archives, CSV headers, dates and cells.

Each platform's module (``mailchimp.py``, ``substack.py``, …) turns its export into the
rows :func:`subscribers.importer.import_subscribers` applies; this module holds what they
share. It is liberal about layout (header case, spacing, Excel's BOM, column order, extra
columns) and strict about values: an unknown status, an unreadable date, a name that
would run as a spreadsheet formula or hide a header, each is an error naming its line and
field, and a file that is not what it claims (another platform's, no email column, a
damaged or oversized zip, not UTF-8) stops the import before anything is applied.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
import zlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import IO

from pulse_core.errors import ImportFileError, ValidationError
from subscribers.addresses import normalise_email
from subscribers.departures import Standing
from subscribers.fields import clean_first_name
from subscribers.importer import LineError, NewSubscriber, header_name
from subscribers.spreadsheet import FORMULA_TRIGGERS

Row = tuple[int, NewSubscriber | LineError]
Reader = Callable[[IO[bytes], str, bool], Iterator[Row]]

# A zip bomb unpacks a few kilobytes into gigabytes. Exports are CSV, which compresses about
# 5-20 times; a member that claims more than this ratio (past a megabyte), or more than a
# gigabyte in all, is refused before a byte of it is read. zipfile never yields more than
# the size a member declares, so checking the declaration bounds the reading too.
MAX_MEMBERS = 64
MAX_UNPACKED_BYTES = 1 << 30
MAX_RATIO = 100
_SMALL = 1 << 20
ZIP_MAGIC = b"PK\x03\x04"
_READ_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, OSError)


def is_zip(stream: IO[bytes]) -> bool:
    """Whether ``stream`` (seekable, at its start) holds a zip archive."""
    head = stream.read(4)
    stream.seek(0)
    return head == ZIP_MAGIC


def open_zip(stream: IO[bytes]) -> zipfile.ZipFile:
    """The archive in ``stream``, its members checked against zip bombs and encryption."""
    try:
        archive = zipfile.ZipFile(stream)
        members = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, *_READ_ERRORS) as err:
        raise ImportFileError(1, "file", f"is not a readable zip archive ({err})") from err
    if len(members) > MAX_MEMBERS:
        raise ImportFileError(1, "file", f"the zip holds {len(members)} files; an export has a few")
    total = 0
    for info in members:
        total += info.file_size
        ratio = info.file_size / max(info.compress_size, 1)
        if (
            info.file_size > MAX_UNPACKED_BYTES
            or total > MAX_UNPACKED_BYTES
            or (info.file_size > _SMALL and ratio > MAX_RATIO)
        ):
            raise ImportFileError(
                1, "file", f"{info.filename} would unpack to {info.file_size} bytes: refused"
            )
        if info.flag_bits & 0x1:
            raise ImportFileError(1, "file", f"{info.filename} is encrypted")
    return archive


def open_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> IO[bytes]:
    """One member of ``archive`` to read; a damaged or unsupported one is a clear error."""
    try:
        return archive.open(info)
    except (*_READ_ERRORS, NotImplementedError, RuntimeError) as err:
        raise ImportFileError(1, f"{info.filename}: file", f"cannot be read ({err})") from err


def csv_members(archive: zipfile.ZipFile) -> list[tuple[str, zipfile.ZipInfo]]:
    """The archive's CSV files by base name (lower case), macOS resource forks left out."""
    found = []
    for info in archive.infolist():
        name = info.filename.rsplit("/", 1)[-1].lower()
        if info.is_dir() or info.filename.startswith("__MACOSX/") or name.startswith("._"):
            continue
        if name.endswith(".csv"):
            found.append((name, info))
    return found


def read_rows(
    stream: IO[bytes],
    platform: str,
    required: Sequence[str],
    where: str = "",
    aliases: Mapping[str, str] | None = None,
) -> Iterator[tuple[int, dict[str, str] | LineError]]:
    """Yield (line, cells by normalised header) per row of the CSV in ``stream``.

    ``required`` columns must all be in the header, else this is not ``platform``'s
    export. ``where`` names the member of a zip in every error; ``aliases`` maps the
    platform's other spellings of a column to the one its reader uses.
    """
    aliases = aliases or {}
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
    prefix = f"{where}: " if where else ""
    reader = csv.DictReader(text)
    try:
        try:
            header = [header_name(name) for name in reader.fieldnames or []]
            header = [aliases.get(name, name) for name in header]
        except UnicodeDecodeError as err:
            raise ImportFileError(1, f"{prefix}file", _not_utf8(err)) from err
        except (csv.Error, *_READ_ERRORS) as err:
            raise ImportFileError(1, f"{prefix}file", f"is not readable CSV ({err})") from err
        for column in required:
            if column not in header:
                raise ImportFileError(
                    1,
                    f"{prefix}{column}",
                    f"{platform}'s export has a {column!r} column; is this file from {platform}?",
                )
        reader.fieldnames = header
        while True:
            try:
                row = next(reader)
            except StopIteration:
                return
            except UnicodeDecodeError as err:
                raise ImportFileError(reader.line_num + 1, f"{prefix}file", _not_utf8(err)) from err
            except (csv.Error, *_READ_ERRORS) as err:
                line = reader.line_num + 1
                raise ImportFileError(line, f"{prefix}file", f"unreadable ({err})") from err
            line = reader.line_num
            if None in row:
                yield line, LineError(line, f"{prefix}row", "has more cells than the header")
                continue
            yield line, {name: (value or "").strip() for name, value in row.items()}
    finally:
        text.detach()  # the caller's stream stays open (and tellable, for progress)


def _not_utf8(err: UnicodeDecodeError) -> str:
    return f"is not UTF-8 text ({err.reason} near byte {err.start})"


@dataclass(frozen=True)
class Person:
    """What a platform's row says about its person, before validation."""

    standing: Standing
    name: str | None = None
    signed_up: str = ""  # the platform's timestamp, as written


Describe = Callable[[dict[str, str]], Person]


def platform_rows(
    stream: IO[bytes],
    platform: str,
    required: Sequence[str],
    describe: Describe,
    *,
    check_deliverability: bool,
    where: str = "",
    aliases: Mapping[str, str] | None = None,
) -> Iterator[Row]:
    """Every row of a platform's CSV: ``describe`` reads the platform's columns, this the rest."""
    for line, cells in read_rows(stream, platform, required, where, aliases):
        if isinstance(cells, LineError):
            yield line, cells
            continue
        yield subscriber_row(line, cells, describe, check_deliverability, where)


def subscriber_row(
    line: int,
    cells: dict[str, str],
    describe: Describe,
    check_deliverability: bool,
    where: str = "",
) -> Row:
    """One validated row, or the error naming what is wrong with it."""
    prefix = f"{where}: " if where else ""
    try:
        person = describe(cells)
        name, standing, signed_up = person.name, person.standing, person.signed_up
        raw_email = cells.get("email", "")
        if raw_email.startswith(FORMULA_TRIGGERS):
            raise ValidationError("email", "looks like a spreadsheet formula")
        email = normalise_email(raw_email, check_deliverability=check_deliverability)
        if name and name.startswith(FORMULA_TRIGGERS):
            raise ValidationError("first_name", "looks like a spreadsheet formula")
        first_name = clean_first_name(name)
        when = parse_when(signed_up, "created_at") if signed_up else None
    except ValidationError as err:
        return line, LineError(line, prefix + err.field, err.message)
    return line, NewSubscriber(email, first_name, standing=standing, signed_up_at=when)


def first_word(full_name: str) -> str | None:
    """The first name of a one-field name ("Ada Lovelace" → "Ada"), as letters are greeted."""
    words = full_name.split()
    return words[0] if words else None


_GO_TIME = re.compile(r"^(\S+ \S+?)(?:\.\d+)? ([+-]\d{4})(?: \S+)?$")  # listmonk: Go's String()
_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d")


def parse_when(raw: str, field: str) -> datetime:
    """A platform's timestamp as an aware UTC datetime; naive ones are taken as UTC.

    ISO 8601 (Substack, Ghost, Kit: ``2024-03-01T09:30:00.000Z``), ``2018-02-05 19:28:23``
    (Mailchimp), ``2023-03-24 10:23:10 UTC`` (beehiiv) and Go's
    ``2024-01-15 10:00:00.123456 +0000 UTC`` (listmonk).
    """
    text = raw.strip().removesuffix(" UTC").removesuffix(" GMT")
    go = _GO_TIME.match(raw.strip())
    if go:
        text = f"{go.group(1)}{go.group(2)}"
        formats: Sequence[str] = ("%Y-%m-%d %H:%M:%S%z",)
    else:
        formats = _FORMATS
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        for form in formats:
            try:
                when = datetime.strptime(text, form)
                break
            except ValueError:
                continue
        else:
            raise ValidationError(field, f"{raw!r} is not a date and time") from None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def flag(raw: str, field: str) -> bool:
    """``true``/``false`` as the exports write them (also 1/0, yes/no)."""
    value = raw.strip().lower()
    if value in ("true", "1", "yes", "t"):
        return True
    if value in ("false", "0", "no", "f", ""):
        return False
    raise ValidationError(field, f"{raw!r} is neither true nor false")


def choice(raw: str, field: str, table: dict[str, Standing]) -> Standing:
    """The standing a status value means, or an error listing the values known."""
    try:
        return table[raw.strip().lower()]
    except KeyError:
        known = ", ".join(sorted(table))
        raise ValidationError(field, f"{raw!r} is not one of {known}") from None
