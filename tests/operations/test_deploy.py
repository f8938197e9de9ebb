"""deploy/: the units run real pulse commands from the virtualenv the README installs."""

from __future__ import annotations

import configparser
import shlex
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipeline.cli import app

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
README = (ROOT / "README.md").read_text(encoding="utf-8")
UNITS = sorted(DEPLOY.glob("*.service"))
VENV_PULSE = "/opt/aise-pulse/venv/bin/pulse"


def unit(path: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(path, encoding="utf-8")
    return parser


@pytest.mark.parametrize("path", UNITS, ids=lambda p: p.name)
def test_each_unit_runs_a_pulse_command_that_exists(path: Path) -> None:
    service = unit(path)["Service"]
    assert service["WorkingDirectory"] == "/var/lib/aise-pulse"
    assert "/var/lib/aise-pulse" in service["ReadWritePaths"]
    assert service["EnvironmentFile"] == "/etc/aise-pulse/pulse.env"
    for key in ("ExecStartPre", "ExecStart"):
        if key not in service:
            continue
        program, *args = shlex.split(service[key].replace("%i", "9111"))
        assert program == VENV_PULSE, f"{path.name} {key}"
        result = CliRunner().invoke(app, [*args, "--help"])
        assert result.exit_code == 0, f"{path.name} {key}: pulse {' '.join(args)}: {result.output}"
    assert path.name in README


def test_the_readme_installs_where_the_units_look() -> None:
    assert "sudo python3 -m venv /opt/aise-pulse/venv" in README
    assert "pip install -c constraints.txt" in README
    assert "FORWARDED_ALLOW_IPS" in README
    assert "FORWARDED_ALLOW_IPS=127.0.0.1" in (DEPLOY / "pulse.env.example").read_text("utf-8")
    nginx = (DEPLOY / "nginx.conf.example").read_text(encoding="utf-8")
    assert "proxy_pass http://127.0.0.1:8000;" in nginx
    assert "location = /metrics" in nginx
