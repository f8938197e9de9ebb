"""Rendering the subscriber pages from ``templates/web/`` (autoescaped Jinja2)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from starlette.responses import HTMLResponse

from subscribers.context import WEB_CONSENT_TEXT


class Pages:
    """Renders a named page with the site-wide context."""

    def __init__(self, templates_dir: Path, list_name: str = "AISE Pulse Brief") -> None:
        self.env = Environment(
            loader=FileSystemLoader(str(templates_dir)),
            # Every page escapes what users typed: autoescape for all HTML templates.
            autoescape=select_autoescape(enabled_extensions=("html",), default=True),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.list_name = list_name

    def render(
        self,
        name: str,
        status_code: int = 200,
        headers: dict[str, str] | None = None,
        **context: Any,
    ) -> HTMLResponse:
        html = self.env.get_template(f"web/{name}.html").render(
            list_name=self.list_name, consent_text=WEB_CONSENT_TEXT, **context
        )
        return HTMLResponse(html, status_code=status_code, headers=headers)

    def message(
        self,
        title: str,
        body: str,
        status_code: int = 200,
        *,
        headers: dict[str, str] | None = None,
        **context: Any,
    ) -> HTMLResponse:
        """The generic page: a heading, a paragraph and optional actions."""
        context.setdefault("actions", [])
        return self.render(
            "message", status_code, headers=headers, title=title, body=body, **context
        )
