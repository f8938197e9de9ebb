"""Writes ``.env.example``: every setting of :class:`~pipeline.config.Settings` with its default.

Run ``make env-example`` (``python -m pipeline.envexample``) after adding a setting; a test
fails until the file matches the settings model.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from pydantic.fields import FieldInfo

from pipeline.config import Settings

HEADER = """\
# AISE Pulse Brief: every PULSE_* setting with its default (README.md "Configuration" says
# what each one means). Copy to .env (or /etc/aise-pulse/pulse.env) and uncomment what you change.
# Generated from pipeline/config.py by `make env-example`; do not edit by hand.
"""


def variable_name(name: str, info: FieldInfo) -> str:
    return info.alias if info.alias else f"PULSE_{name.upper()}"


def _default(info: FieldInfo) -> str:
    value: Any = None if info.is_required() else info.default
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    return f'"{text}"' if any(ch in text for ch in " #'\"") else text


def _kind(info: FieldInfo) -> str:
    annotation = str(info.annotation).replace("typing.", "").replace("pathlib.", "")
    annotation = annotation.replace("pydantic.types.", "").replace("<class '", "")
    annotation = annotation.replace("'>", "").replace("SecretStr", "secret")
    if annotation.endswith(" | None"):
        annotation = annotation.removesuffix(" | None") + ", optional"
    bounds = []
    for item in info.metadata:  # annotated-types constraints (Ge, Gt, Le, Lt)
        for attribute, symbol in (("ge", ">="), ("gt", ">"), ("le", "<="), ("lt", "<")):
            bound = getattr(item, attribute, None)
            if bound is not None:
                bounds.append(f"{symbol}{bound}")
    return annotation + (f", {' '.join(bounds)}" if bounds else "")


def render() -> str:
    """The text of ``.env.example``."""
    lines = [HEADER]
    for name, info in Settings.model_fields.items():
        lines.append(f"# {_kind(info)}")
        lines.append(f"# {variable_name(name, info)}={_default(info)}")
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Write ``.env.example`` (or the path given) from the settings model."""
    args = sys.argv[1:] if argv is None else argv
    target = Path(args[0]) if args else Path(".env.example")
    target.write_text(render(), encoding="utf-8")
    print(f"wrote {target} ({len(Settings.model_fields)} settings)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
