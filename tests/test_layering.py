"""The layers point down: an import check over pipeline/, subscribers/ and pulse_core/.

Bottom to top (the README's "How it works" draws the same map)::

    pulse_core      database basics and the root error
    subscribers     the list and its public pages; never imports pipeline
    stages          content, issues, intake, delivery, events, analytics, deliverability,
                    gauges and the leaf utilities (errors, resources, extras, logs, metrics, weeks,
                    schedule)
    config          Settings, the only reader of the environment
    wiring          wiring, subscriber_wiring, provider_wiring, stage_configs, db: each
                    stage's small config
    workflow        each use case once
    front ends      cli, web, admin, scheduler (and demo, envexample, tables, ``__main__``)

Every import counts, also one inside a function or under ``TYPE_CHECKING``: a lazy import
that dodges a cycle is still the cycle. The check reads the source with :mod:`ast`; nothing
is imported, so a violation is reported even where it would not fail at run time.
"""

from __future__ import annotations

import ast
import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("pipeline", "subscribers", "pulse_core")

STAGES = frozenset(
    f"pipeline.{name}"
    for name in (
        "content",
        "issues",
        "intake",
        "delivery",
        "events",
        "analytics",
        "deliverability",
        "gauges",
        "weeks",
        "schedule",
        "errors",
        "resources",
        "extras",
        "logs",
        "metrics",
        "welcome",
    )
)
FRONT_ENDS = frozenset(
    f"pipeline.{name}"
    for name in ("cli", "web", "admin", "scheduler", "demo", "envexample", "tables", "__main__")
) | {"pipeline"}
WIRING = frozenset(
    (
        "pipeline.wiring",
        "pipeline.subscriber_wiring",
        "pipeline.provider_wiring",
        "pipeline.stage_configs",
        "pipeline.db",
    )
)
LAYERS: dict[str, int] = {
    "pulse_core": 0,
    "subscribers": 1,
    **dict.fromkeys(STAGES, 2),
    "pipeline.config": 3,
    **dict.fromkeys(WIRING, 4),
    "pipeline.workflow": 5,
    **dict.fromkeys(FRONT_ENDS, 6),
}

# Who may read Settings: the wiring (which hands every stage its small frozen config), the
# database opener, the .env.example writer and the CLI (which loads the settings and reports
# a bad one as one line). The web app and the scheduler receive a built Pulse instead.
SETTINGS_READERS = WIRING | {"pipeline.envexample"}
SETTINGS_READER_PACKAGES = ("pipeline.cli",)



@dataclass(frozen=True)
class Import:
    importer: str
    imported: str
    line: int


def _module_files() -> dict[str, Path]:
    modules: dict[str, Path] = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            modules[".".join(parts)] = path
    return modules


MODULES = _module_files()


def _imports_of(module: str, path: Path) -> Iterator[Import]:
    """Every project module ``module`` imports; ``from pkg import mod`` names the module."""
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            names = []
            base = node.module or ""
            if node.level:
                anchor = package[: len(package) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                full = f"{base}.{alias.name}"
                names.append(full if full in MODULES else base)
        else:
            continue
        for name in names:
            if name.split(".")[0] in PACKAGES:
                yield Import(module, name, node.lineno)


def _all_imports() -> list[Import]:
    """Each (importer, imported) pair once, at its first line."""
    first: dict[tuple[str, str], Import] = {}
    for module, path in MODULES.items():
        for found in _imports_of(module, path):
            first.setdefault((found.importer, found.imported), found)
    return sorted(first.values(), key=lambda found: (found.importer, found.line))


IMPORTS = _all_imports()


def component(module: str) -> str:
    """The package a module belongs to: ``pipeline.<name>``, ``subscribers`` or ``pulse_core``."""
    parts = module.split(".")
    return ".".join(parts[:2]) if parts[0] == "pipeline" else parts[0]


def _counted() -> list[Import]:
    return [
        found
        for found in IMPORTS
        if component(found.importer) != component(found.imported)
    ]


def _report(violations: list[tuple[Import, str]]) -> str:
    return "\n".join(
        f"{found.importer} -> {found.imported} ({rule}; line {found.line})"
        for found, rule in sorted(violations, key=lambda item: (item[0].importer, item[0].line))
    )


def test_every_package_has_a_place_on_the_map() -> None:
    unplaced = sorted({component(module) for module in MODULES} - set(LAYERS))
    assert not unplaced, f"put these on the map in LAYERS (and the README): {unplaced}"


def test_the_readme_map_names_every_package() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## How it works") :]
    section = section[: section.index("\n## ", 1)]
    unnamed = []
    for name in sorted({component(module) for module in MODULES} - {"pipeline"}):
        short = name.removeprefix("pipeline.")
        spellings = (f"{short}/", f"{short}.py") if name.startswith("pipeline.") else (f"{name}/",)
        if not any(s in section for s in spellings):
            unnamed.append(name)
    assert not unnamed, f"README 'How it works' does not name {unnamed}"


def test_no_package_imports_a_layer_above_its_own() -> None:
    """Stages import no wiring, workflow, front end or config; the wiring no workflow; …"""
    violations = [
        (found, "imports an upper layer")
        for found in _counted()
        if LAYERS[component(found.importer)] < LAYERS[component(found.imported)]
    ]
    report = _report(violations)
    assert not report, "\n" + report


def test_subscribers_and_pulse_core_never_import_pipeline() -> None:
    violations = [
        (found, "below pipeline")
        for found in _counted()
        if LAYERS[component(found.importer)] < LAYERS[component(found.imported)]
        and component(found.importer) in ("subscribers", "pulse_core")
    ]
    report = _report(violations)
    assert not report, "\n" + report


def test_only_the_wiring_and_the_cli_import_the_settings() -> None:
    violations = [
        (found, "only the wiring reads Settings")
        for found in _counted()
        if component(found.imported) == "pipeline.config"
        and component(found.importer) not in SETTINGS_READERS
        and not found.importer.startswith(SETTINGS_READER_PACKAGES)
    ]
    report = _report(violations)
    assert not report, "\n" + report


def _shortest_cycle(edges: dict[str, set[str]]) -> list[str]:
    """One shortest cycle of packages, its first package repeated at the end; [] when none."""
    best: list[str] = []
    for start in sorted(edges):
        came_from: dict[str, str] = {}
        frontier, loop = [start], list[str]()
        while frontier and not loop:  # breadth first: the first way back is a shortest one
            following: list[str] = []
            for node in frontier:
                for target in sorted(edges.get(node, ())):
                    if target == start and not loop:
                        path = [node]
                        while path[-1] != start:
                            path.append(came_from[path[-1]])
                        loop = [*reversed(path), start]
                    elif target != start and target not in came_from:
                        came_from[target] = node
                        following.append(target)
            frontier = following
        if loop and (not best or len(loop) < len(best)):
            best = loop
    return best


def test_no_import_cycles_between_packages() -> None:
    counted = _counted()
    edges: dict[str, set[str]] = {}
    for found in counted:
        edges.setdefault(component(found.importer), set()).add(component(found.imported))
    # Cut cycles shortest first: of a cycle's hops that do not point down, report the one
    # made of the fewest imports (the cheapest cut), drop it, and look again. What is
    # reported is a set of imports whose removal leaves no cycle.
    violations: list[tuple[Import, str]] = []
    while loop := _shortest_cycle(edges):
        hops = [hop for hop in itertools.pairwise(loop) if LAYERS[hop[0]] <= LAYERS[hop[1]]]
        imports = {
            hop: [f for f in counted if (component(f.importer), component(f.imported)) == hop]
            for hop in hops
        }
        cut = min(hops, key=lambda hop: len(imports[hop]))
        violations += [(found, "cycle " + " -> ".join(loop)) for found in imports[cut]]
        edges[cut[0]].discard(cut[1])
    report = _report(violations)
    assert not report, "\n" + report


def test_the_check_sees_lazy_and_type_only_imports(tmp_path: Path) -> None:
    source = tmp_path / "probe.py"
    source.write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n"
        "    from pipeline.config import Settings\n"
        "def later() -> None:\n"
        "    from pipeline import wiring\n"
        "from . import db\n",
        encoding="utf-8",
    )
    found = {(item.imported, item.line) for item in _imports_of("pipeline.issues.probe", source)}
    assert found == {
        ("pipeline.config", 3),
        ("pipeline.wiring", 5),
        ("pipeline.issues", 6),  # pipeline.issues.db does not exist: the package is meant
    }


def test_the_cycle_finder_returns_a_shortest_cycle() -> None:
    edges = {"a": {"b"}, "b": {"c", "a"}, "c": {"a"}, "d": {"a"}}
    assert _shortest_cycle(edges) == ["a", "b", "a"]
    edges["b"].discard("a")
    assert _shortest_cycle(edges) == ["a", "b", "c", "a"]
    edges["c"].clear()
    assert _shortest_cycle(edges) == []
