"""What an installed pulse needs: its data files, the templates override, metadata, extras."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from pipeline import envexample
from pipeline.config import Settings, load_settings
from pipeline.errors import ConfigError
from pipeline.extras import require_extra
from pipeline.issues.render import environment
from pipeline.resources import bundled, copy_templates, templates_dir, use_templates
from tests.conftest import Cli, Workspace

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _bundled_templates() -> object:
    """The templates override is process-wide: every test starts and ends without one."""
    use_templates(None)
    yield None
    use_templates(None)


def test_bundled_folders_hold_the_templates_and_every_migration() -> None:
    assert (bundled("templates") / "email" / "issue.mjml").is_file()
    assert (bundled("templates") / "web" / "site.css").is_file()
    versions = {p.name for p in (bundled("migrations") / "versions").glob("*.py")}
    assert versions == {p.name for p in (ROOT / "migrations" / "versions").glob("*.py")}
    assert templates_dir() == bundled("templates")


def test_env_example_lists_every_setting_with_its_default() -> None:
    path = ROOT / ".env.example"
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    assert text == envexample.render(), (
        ".env.example is out of date with pipeline/config.py: run `make env-example` "
        "(or `python -m pipeline.envexample .env.example`) and commit the result"
    )
    for name, info in Settings.model_fields.items():
        assert f"# {envexample.variable_name(name, info)}=" in text, name
    assert '# PULSE_FROM="AISE Pulse Brief <pulse@localhost>"' in text
    assert "# PULSE_BATCH_SIZE=500" in text


def test_an_operator_copy_of_the_templates_restyles_the_email(
    cli: Cli, workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    own = workspace.root / "my-templates"
    result = cli("templates", "copy", str(own))
    assert result.exit_code == 0, result.stderr
    footer = own / "email" / "partials" / "footer.mjml"
    footer.write_text(
        footer.read_text(encoding="utf-8") + "\n<mj-raw><!-- restyled by ops --></mj-raw>\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("PULSE_TEMPLATES_DIR", str(own))
    assert cli("demo", "--subscribers", "3", "--no-send").exit_code == 0
    html = next((workspace.root / "var" / "preview").glob("*/issue.html")).read_text("utf-8")
    assert "restyled by ops" in html
    assert environment().loader is not None and templates_dir() == own.resolve()


def test_copying_templates_onto_an_existing_folder_changes_nothing(
    cli: Cli, workspace: Workspace
) -> None:
    target = workspace.root / "exists"
    target.mkdir()
    result = cli("templates", "copy", str(target))
    assert result.exit_code == 1 and "already exists" in result.stderr
    assert list(target.iterdir()) == []
    with pytest.raises(FileExistsError):
        copy_templates(target)


def test_a_templates_dir_without_templates_is_refused_by_name(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"^PULSE_TEMPLATES_DIR: .*email/issue.mjml"):
        load_settings(templates_dir=tmp_path)


@pytest.mark.parametrize(
    ("module", "extra", "needed_for"),
    [("psycopg", "postgres", "PULSE_DATABASE_URL is PostgreSQL"), ("botocore", "ses", "ses")],
)
def test_a_missing_extra_is_named_with_its_install_command(
    monkeypatch: pytest.MonkeyPatch, module: str, extra: str, needed_for: str
) -> None:
    monkeypatch.setattr("pipeline.extras.find_spec", lambda name: None)
    with pytest.raises(ConfigError) as caught:
        require_extra(module, extra, needed_for)
    assert f"pip install 'aise-pulse-brief[{extra}]'" in str(caught.value)
    assert str(caught.value).startswith(needed_for)


def test_postgres_url_without_the_extra_fails_with_one_line(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("pipeline.extras.find_spec", lambda name: None)
    monkeypatch.setenv("PULSE_DATABASE_URL", "postgresql+psycopg://pulse@127.0.0.1:1/none")
    result = cli("status")
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        "error: PULSE_DATABASE_URL is PostgreSQL needs the [postgres] extra, which is not "
        "installed: pip install 'aise-pulse-brief[postgres]'"
    ]


def test_ses_without_the_extra_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    from pipeline.provider_wiring import make_provider

    monkeypatch.setattr("pipeline.extras.find_spec", lambda name: None)
    settings = load_settings(provider="ses", ses_region="us-east-1")
    with pytest.raises(ConfigError, match=r"^PULSE_PROVIDER=ses needs the \[ses\] extra"):
        make_provider(settings)


def test_version_and_python_dash_m_are_the_same_cli(tmp_path: Path) -> None:
    expected = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]["version"]
    pulse = str(Path(sys.executable).with_name("pulse"))
    for command in ([sys.executable, "-m", "pipeline", "--version"], [pulse, "--version"]):
        out = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, check=True)
        assert out.stdout.strip() == f"pulse (aise-pulse-brief) {expected}"
    helped = subprocess.run(
        [sys.executable, "-m", "pipeline", "--help"], cwd=tmp_path, capture_output=True, text=True
    )
    assert "--install-completion" in helped.stdout and "serve" in helped.stdout


def test_shell_completion_script_is_offered(tmp_path: Path) -> None:
    script = subprocess.run(
        [str(Path(sys.executable).with_name("pulse")), "--show-completion", "bash"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert "_pulse_completion" in script.stdout and "complete " in script.stdout


def test_metadata_declares_what_the_code_imports() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))
    build = project["build-system"]["requires"]
    assert build == ["setuptools>=77"]
    deps = " ".join(project["project"]["dependencies"])
    for name in ("starlette", "markupsafe", "urllib3", "itsdangerous>=2.1,<3", "prometheus_client"):
        assert name in deps
    extras = project["project"]["optional-dependencies"]
    assert "botocore" in " ".join(extras["ses"]) and "botocore" not in deps
    assert "psycopg" in " ".join(extras["postgres"]) and "psycopg" not in deps
    assert "playwright" in " ".join(extras["preview"])
    license_text = (ROOT / "LICENSE").read_text("utf-8")
    assert project["project"]["license"] == "MIT" and license_text.startswith("MIT License")
    assert (ROOT / "CHANGELOG.md").is_file()
    pins = (ROOT / "constraints.txt").read_text("utf-8")
    for pinned in ("starlette==", "prometheus_client==", "psycopg-binary==", "botocore=="):
        assert pinned in pins.lower(), f"{pinned} missing from constraints.txt: run `make lock`"
