"""Each step's email: ``email/series/<step>.mjml`` and ``.txt``, with a subject up front.

A step's MJML starts with a Jinja comment holding its front matter::

    {#---
    subject: Start here: the issues readers liked most
    preheader: Three issues to read first.
    ---#}
    {% extends "email/series/layout.mjml" %}

``subject`` is required, ``preheader`` optional; nothing else is allowed. The layout is the
weekly issue's (the same head and footer partials), so a restyled issue restyles the series.
Rendered once per step and pass, with merge placeholders for the per-reader links, exactly
as an issue is (Jinja2 → MJML → HTML, plus the plain-text part).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import TemplateError

from pipeline.errors import ConfigError, IssueError
from pipeline.issues.markdown import strip_controls
from pipeline.issues.merge import MERGE_FIELDS, MergeTemplate, placeholder
from pipeline.issues.render import Footer, compile_mjml, environment
from pipeline.welcome.series import Step
from subscribers.display import header_text_problem

FOLDER = "email/series"
MAX_SUBJECT = 150
_FRONT = re.compile(r"\A\{#---\n(?P<body>.*?)\n---#\}\n", re.DOTALL)
_LINE = re.compile(r"(?P<name>[a-z]+):[ \t]*(?P<value>.*)")
_NAMES = ("subject", "preheader")


@dataclass(frozen=True)
class FrontMatter:
    subject: str
    preheader: str = ""


@dataclass(frozen=True)
class ArchiveIssue:
    """A sent issue the "start here" email points at."""

    number: int
    week_key: str
    subject: str
    url: str


@dataclass(frozen=True)
class SeriesContent:
    """What the steps' templates may show besides the reader's own links."""

    list_name: str
    base_url: str
    best_issues: tuple[ArchiveIssue, ...] = ()
    latest_issue: ArchiveIssue | None = None

    @property
    def archive_url(self) -> str:
        return f"{self.base_url}/issues"


@dataclass(frozen=True)
class StepEmail:
    """One step rendered for everyone; ``html`` and ``text`` keep the merge placeholders."""

    step: Step
    subject: str
    html: MergeTemplate
    text: MergeTemplate


def template_paths(folder: Path, step: Step) -> tuple[Path, Path]:
    return folder / FOLDER / f"{step.key}.mjml", folder / FOLDER / f"{step.key}.txt"


def read_front_matter(path: Path) -> FrontMatter:
    """The step's subject and preheader; :class:`ConfigError` naming the file and line."""
    try:
        source = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(f"{path}: cannot be read ({err})") from None
    match = _FRONT.match(source.replace("\r\n", "\n"))
    if match is None:
        raise ConfigError(f"{path}: must begin with a {{#--- subject: … ---#}} block")
    found: dict[str, str] = {}
    for number, line in enumerate(match.group("body").split("\n"), start=2):
        if not line.strip():
            continue
        entry = _LINE.fullmatch(line.strip())
        if entry is None or entry.group("name") not in _NAMES:
            raise ConfigError(f"{path}: line {number}: expected 'subject: …' or 'preheader: …'")
        name, value = entry.group("name"), entry.group("value").strip()
        if name in found:
            raise ConfigError(f"{path}: line {number}: {name} given twice")
        problem = header_text_problem(value) if name == "subject" else None
        if problem:
            raise ConfigError(f"{path}: line {number}: subject {problem}")
        if name == "subject" and not 0 < len(value) <= MAX_SUBJECT:
            raise ConfigError(f"{path}: line {number}: subject must be 1-{MAX_SUBJECT} characters")
        found[name] = value
    if "subject" not in found:
        raise ConfigError(f"{path}: the front matter has no 'subject: …' line")
    return FrontMatter(subject=found["subject"], preheader=found.get("preheader", ""))


def check_templates(folder: Path, steps: tuple[Step, ...]) -> dict[str, FrontMatter]:
    """Every step has both templates and a valid front matter; raise :class:`ConfigError`."""
    found: dict[str, FrontMatter] = {}
    for step in steps:
        mjml_path, text_path = template_paths(folder, step)
        for path in (mjml_path, text_path):
            if not path.is_file():
                raise ConfigError(f"PULSE_WELCOME_SERIES: step {step.key!r} has no template {path}")
        found[step.key] = read_front_matter(mjml_path)
    return found


def _context(
    step: Step, front: FrontMatter, content: SeriesContent, footer: Footer
) -> dict[str, Any]:
    return {
        "step": step.key,
        "subject": front.subject,
        "preheader": front.preheader,
        "series": content,
        # The issue's footer, untracked: series links go straight where they point.
        "footer": Footer(
            base_url=footer.base_url,
            postal_address=strip_controls(footer.postal_address),
            reason=footer.reason,
        ),
        "web_url": "",  # no "view in your browser": a series email has no web version
        "merge": {name: placeholder(name) for name in MERGE_FIELDS},
    }


def render_step(folder: Path, step: Step, content: SeriesContent, footer: Footer) -> StepEmail:
    """Render a step once for all its readers; :class:`ConfigError` names a broken file."""
    mjml_path, _text_path = template_paths(folder, step)
    front = read_front_matter(mjml_path)
    env = environment(folder)
    context = _context(step, front, content, footer)
    try:
        source = env.get_template(f"{FOLDER}/{step.key}.mjml").render(context)
        html = compile_mjml(source)
        text = env.get_template(f"{FOLDER}/{step.key}.txt").render(context)
        return StepEmail(
            step=step,
            subject=front.subject,
            html=MergeTemplate.parse(html),
            text=MergeTemplate.parse(text),
        )
    except (TemplateError, IssueError, ValueError) as err:
        raise ConfigError(f"{mjml_path} (or its .txt) did not render: {err}") from err
