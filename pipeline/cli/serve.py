"""``pulse serve``: the web app."""

from __future__ import annotations

from typing import Annotated

import typer
import uvicorn

from pipeline.cli.common import pulse, require_provider


def serve(
    host: Annotated[str, typer.Option()] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535)] = 8000,
) -> None:
    """Run the web app (signup, unsubscribe, archive, webhooks, admin)."""
    from pipeline.web.app import create_app

    require_provider(pulse())
    # log_config=None: uvicorn's loggers (access log included) propagate to the handler
    # configure_logging installed, so they are JSON when asked and redacted like ours.
    uvicorn.run(
        create_app(pulse()),
        host=host,
        port=port,
        proxy_headers=True,
        log_level="info",
        log_config=None,
    )
