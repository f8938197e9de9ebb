"""The README keeps up with the code: every setting and every command is documented.

The lists come from the code itself (``Settings`` and the Typer app), as Datasette's docs
tests do, so a new setting or command fails here until the README says what it is.
``.env.example`` is checked against the same settings in tests/operations/test_packaging.py.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.main import get_command

from pipeline.cli import app
from pipeline.config import Settings, setting_names

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
CODE = re.compile(r"`([^`]+)`")


def _section(title: str) -> str:
    """The README's ``## title`` section, up to the next ``## ``."""
    start = README.index(f"\n## {title}\n")
    end = README.find("\n## ", start + 1)
    return README[start : end if end != -1 else len(README)]


def _first_cells(title: str) -> list[str]:
    """The first cell of every row of the tables in a README section."""
    rows = [line for line in _section(title).splitlines() if line.startswith("| ")]
    return [re.split(r"(?<!\\) \| ", row[2:])[0] for row in rows]


def documented_variables() -> list[str]:
    """The names in the Configuration table's first column, shorthand expanded.

    ``PULSE_SMTP_HOST``, ``_PORT`` means ``PULSE_SMTP_PORT`` (the first name without its last
    word, then the suffix); ``PULSE_<PROVIDER>_API_URL`` stands for every provider's.
    """
    names = []
    for cell in _first_cells("Configuration"):
        found = CODE.findall(cell)
        if not found or not found[0].startswith("PULSE_"):
            continue
        stem = found[0].rsplit("_", 1)[0]
        names += [stem + name if name.startswith("_") else name for name in found]
    return names


def _documents(pattern: str, variable: str) -> bool:
    return re.fullmatch(re.escape(pattern).replace("<PROVIDER>", "[A-Z]+"), variable) is not None


@pytest.mark.parametrize("variable", setting_names())
def test_every_setting_is_in_the_configuration_table(variable: str) -> None:
    assert any(_documents(name, variable) for name in documented_variables()), (
        f"{variable} is a setting (pipeline/config.py) but not in README.md's Configuration table"
    )


def test_the_configuration_table_names_only_settings() -> None:
    unknown = [
        name
        for name in documented_variables()
        if not any(_documents(name, variable) for variable in setting_names())
    ]
    assert unknown == []
    assert len(setting_names()) == len(Settings.model_fields)


def _commands(command: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    subcommands = getattr(command, "commands", None)
    if subcommands is None:
        yield path
        return
    for name, sub in subcommands.items():
        if not sub.hidden:
            yield from _commands(sub, (*path, name))


COMMANDS = sorted(_commands(get_command(app)))


def _command_words(cell: str) -> set[str]:
    """The words a Command line row names: ``add\\|list [--format json]``, ``edit ID`` …"""
    plain = re.sub(r"\[[^\]]*\]", " ", cell.replace("\\|", " "))
    return set(re.split(r"[\s`,()]+", plain))


def is_documented(path: tuple[str, ...]) -> bool:
    """A row starts ``pulse <group…>`` and names the command (``issue send\\|resume``)."""
    *group, leaf = path
    prefix = " ".join(["`pulse", *group])
    for cell in _first_cells("Command line"):
        if not group and re.match(rf"`pulse {re.escape(leaf)}[ `]", cell):
            return True
        if group and cell.startswith(prefix + " ") and leaf in _command_words(cell):
            return True
    return False


def test_the_cli_has_the_commands_this_test_walks() -> None:
    assert ("issue", "send") in COMMANDS and ("jobs", "sources", "add") in COMMANDS
    assert ("serve",) in COMMANDS and len(COMMANDS) > 40


@pytest.mark.parametrize("path", COMMANDS, ids=" ".join)
def test_every_command_is_in_the_command_line_table(path: tuple[str, ...]) -> None:
    assert is_documented(path), f"`pulse {' '.join(path)}` is not in README.md's Command line"


def test_an_undocumented_command_or_setting_is_caught() -> None:
    assert not is_documented(("issue", "teleport"))
    assert not is_documented(("teleport",))
    assert not any(_documents(name, "PULSE_TELEPORT") for name in documented_variables())
    assert any(_documents(name, "PULSE_SMTP_PORT") for name in documented_variables())
    assert any(_documents(name, "PULSE_RESEND_API_URL") for name in documented_variables())
