"""Build step only (metadata lives in pyproject.toml): ship templates/ and migrations/.

The top-level ``templates/`` and ``migrations/`` folders stay the source of truth in the
repository; building a wheel copies them into the package as ``pipeline/_data/`` so an installed
``pulse`` finds them with :mod:`importlib.resources` (see ``pipeline/resources.py``).
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
DATA_FOLDERS = ("templates", "migrations")


class BuildPyWithData(build_py):  # type: ignore[misc]
    """``build_py`` plus a copy of the data folders into ``pipeline/_data/``."""

    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return  # an editable install reads the folders from the checkout itself
        target = Path(self.build_lib) / "pipeline" / "_data"
        for name in DATA_FOLDERS:
            destination = target / name
            if destination.exists():
                shutil.rmtree(destination)
            shutil.copytree(
                ROOT / name,
                destination,
                ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.pyo"),
            )


setup(cmdclass={"build_py": BuildPyWithData})
