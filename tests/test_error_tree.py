"""One exception tree: every project error is a PulseError, and pulse_core.errors documents it."""

from __future__ import annotations

import importlib
import pkgutil
import re

import pytest

import pulse_core.errors
from pulse_core.errors import PulseError

PACKAGES = ("pulse_core", "subscribers", "pipeline")
# Exception classes allowed outside the root, each with the reason. None today: keep it so.
OUTSIDE_THE_ROOT: dict[str, str] = {}
# A tree line: the drawing, the class name, the module it lives in.
TREE_LINE = re.compile(r"^    (?P<drawing>[│├└─ ]*)(?P<name>\w+)\s+(?P<module>[\w.]+)$")


def project_exceptions() -> list[type[BaseException]]:
    """Every exception class defined at module level anywhere in the project's packages."""
    found: list[type[BaseException]] = []
    for package in PACKAGES:
        root = importlib.import_module(package)
        for info in pkgutil.walk_packages(root.__path__, f"{package}."):
            module = importlib.import_module(info.name)
            for value in vars(module).values():
                if (
                    isinstance(value, type)
                    and issubclass(value, BaseException)
                    and value.__module__ == module.__name__
                ):
                    found.append(value)
    return found


def documented_tree() -> dict[str, tuple[str | None, str]]:
    """Each class the docstring tree names: its documented parent and module."""
    doc = pulse_core.errors.__doc__ or ""
    tree: dict[str, tuple[str | None, str]] = {}
    parents: list[str] = []  # the current path from the root, one name per depth
    for line in doc.splitlines():
        match = TREE_LINE.match(line)
        if match is None:
            continue
        depth = len(match["drawing"]) // 4
        del parents[depth:]
        assert len(parents) == depth, f"tree line out of order: {line!r}"
        parent = parents[-1] if parents else None
        assert match["name"] not in tree, f"{match['name']} is listed twice"
        tree[match["name"]] = (parent, match["module"])
        parents.append(match["name"])
    return tree


def test_the_walk_finds_errors_in_every_package() -> None:
    modules = {cls.__module__.split(".")[0] for cls in project_exceptions()}
    assert modules == set(PACKAGES)


def test_every_project_error_derives_from_pulse_error() -> None:
    outside = [
        f"{cls.__module__}.{cls.__qualname__}"
        for cls in project_exceptions()
        if not issubclass(cls, PulseError) and cls.__qualname__ not in OUTSIDE_THE_ROOT
    ]
    assert outside == []


def test_the_docstring_tree_lists_every_error_under_its_real_parent_and_module() -> None:
    tree = documented_tree()
    assert tree["PulseError"] == (None, "pulse_core.errors")
    errors = [cls for cls in project_exceptions() if issubclass(cls, PulseError)]
    actual = {
        cls.__qualname__: (
            None if cls is PulseError else cls.__bases__[0].__qualname__,
            cls.__module__,
        )
        for cls in errors
    }
    assert tree == actual


@pytest.mark.parametrize("name", ["DeskError", "FormRejected", "SendFailed"])
def test_the_errors_that_stood_outside_are_under_the_root_now(name: str) -> None:
    # DeskError and FormRejected derived from Exception; SendFailed did not exist (issue 14).
    classes = {cls.__qualname__: cls for cls in project_exceptions()}
    assert issubclass(classes[name], PulseError)
