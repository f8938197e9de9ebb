"""Where the bundled templates and migrations are, in a wheel and in a source checkout.

A built wheel carries ``templates/`` and ``migrations/`` as package data under
``pipeline/_data/`` (``setup.py`` copies them at build time); an editable install or a plain
checkout reads the top-level folders, which stay the source of truth. ``PULSE_TEMPLATES_DIR``
points at an operator's own copy of the templates (see :func:`templates_dir`).
"""

from __future__ import annotations

import shutil
from importlib.resources import files
from pathlib import Path

__all__ = ["bundled", "copy_templates", "templates_dir", "use_templates"]

_override: Path | None = None


def bundled(name: str) -> Path:
    """The shipped folder ``name`` (``templates`` or ``migrations``) as a filesystem path."""
    package = files("pipeline")
    packaged = package / "_data" / name
    if packaged.is_dir():
        return Path(str(packaged))
    checkout = Path(str(package)).parent / name  # editable install / source checkout
    if checkout.is_dir():
        return checkout
    raise FileNotFoundError(
        f"the {name}/ folder is missing from this installation; reinstall aise-pulse-brief"
    )


def use_templates(path: Path | None) -> None:
    """Render from ``path`` (an operator's copy) instead of the bundled templates; None resets."""
    global _override
    _override = path


def templates_dir() -> Path:
    """The templates in use: ``PULSE_TEMPLATES_DIR`` when set, else the bundled ones."""
    return _override if _override is not None else bundled("templates")


def copy_templates(destination: Path) -> int:
    """Copy the bundled templates into ``destination`` (which must not exist); count the files."""
    if destination.exists():
        raise FileExistsError(f"{destination} already exists; choose a new folder")
    shutil.copytree(bundled("templates"), destination)
    return sum(1 for item in destination.rglob("*") if item.is_file())
