"""The people page's import form: our CSV or another platform's export, as on the CLI.

Admins only (an import changes the list); the file goes through the same use case as
``pulse subscribers import`` (:mod:`pipeline.workflow.imports`), in a worker thread so a
large file does not stall the server. A dry run shows what would happen on the page.
"""

from __future__ import annotations

import io

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from pipeline.admin.people_page import subscribers_page
from pipeline.admin.web import admin_form, pulse_of, redirect
from pipeline.errors import PulseError
from pipeline.workflow.imports import ImportRequest, import_file
from subscribers.importer import ImportRejected
from subscribers.platforms import PLATFORMS

# The desk takes uploads up to this (web/limits.py caps the body a little above it); a
# larger export is imported with ``pulse subscribers import`` on the server.
MAX_UPLOAD_BYTES = 5 * 1024 * 1024


def upload_name(raw: str) -> str:
    """The uploaded file's own name, as recorded in ``consent_source``: no path, printable."""
    name = raw.replace("\\", "/").rsplit("/", 1)[-1]
    return "".join(ch for ch in name if ch.isprintable()).strip()[:100] or "upload"


def imports_router() -> APIRouter:
    router = APIRouter(prefix="/admin", include_in_schema=False)

    @router.post("/subscribers/import")
    async def import_people(request: Request) -> Response:
        actor = await admin_form(request)
        form = await request.form()
        platform = str(form.get("platform") or "").strip()
        consent = str(form.get("consent") or "")
        dry_run = form.get("dry_run") == "yes"
        values = {"platform": platform, "consent": consent, "dry_run": dry_run}

        def refuse(message: str) -> Response:
            return subscribers_page(request, actor, 400, import_error=message, values=values)

        upload = form.get("file")
        raw = b""
        if isinstance(upload, UploadFile):
            try:
                raw = await upload.read(MAX_UPLOAD_BYTES + 1)
            finally:
                await upload.close()
        if platform and platform not in PLATFORMS:
            return refuse("choose the platform the export comes from")
        if not isinstance(upload, UploadFile) or not upload.filename:
            return refuse("choose a file to upload")
        if len(raw) > MAX_UPLOAD_BYTES:
            return refuse("the file is larger than 5 MB; import it with pulse subscribers import")
        wanted = ImportRequest(
            filename=upload_name(upload.filename),
            consent_text=consent,
            front="desk",
            platform=platform or None,
            dry_run=dry_run,
        )
        pulse = pulse_of(request)
        try:
            result = await run_in_threadpool(import_file, pulse, io.BytesIO(raw), wanted)
        except ImportRejected as err:
            lines = "; ".join(str(error) for error in err.summary.errors[:10])
            return refuse(f"{err.summary.invalid} invalid line(s), nothing was imported: {lines}")
        except PulseError as err:
            return refuse(f"{err} — nothing was imported")
        summary = result.summary.describe()
        if dry_run:
            return subscribers_page(
                request, actor, import_result=f"Dry run, nothing changed: would have {summary}.",
                values=values,
            )  # fmt: skip
        return redirect("/admin/subscribers", message=f"Import done: {summary}.")

    return router
