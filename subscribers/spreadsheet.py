"""CSV that spreadsheets open as data, never as formulas (CSV / formula injection).

Excel, LibreOffice and Google Sheets run a cell that starts with ``=``, ``+``, ``-`` or
``@`` (and tab or CR, which they skip before looking) as a formula, so an address such as
``=HYPERLINK(...)@x.com``, a name or a user agent typed into a form could run in the
operator's spreadsheet. OWASP's advice, followed here: prefix such a cell with ``'``.
Every CSV the project writes goes through :func:`safe_writer`.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import Any, TextIO

# The ASCII triggers plus the full-width forms some spreadsheets also accept, and LF.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def spreadsheet_safe(value: str) -> str:
    """``value`` as a cell no spreadsheet runs as a formula."""
    return "'" + value if value.startswith(FORMULA_TRIGGERS) else value


def safe_cells(row: Iterable[Any]) -> list[Any]:
    """Every text cell of ``row`` guarded; numbers and None pass as they are."""
    return [spreadsheet_safe(cell) if isinstance(cell, str) else cell for cell in row]


class SafeCsvWriter:
    """``csv.writer`` whose every text cell is guarded (the header row included)."""

    def __init__(self, out: TextIO, **options: Any) -> None:
        self._writer = csv.writer(out, **options)

    def writerow(self, row: Iterable[Any]) -> None:
        self._writer.writerow(safe_cells(row))


def safe_writer(out: TextIO, **options: Any) -> SafeCsvWriter:
    """A CSV writer for anything people typed: see the module's docstring."""
    return SafeCsvWriter(out, **options)
