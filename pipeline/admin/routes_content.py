"""The content queue pages: snippets, salary data points (form and CSV) and job listings.

Each queued item can be added, edited and removed here; errors are shown on the page.
"""

from __future__ import annotations

import io
from typing import Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from pipeline.admin.content import (
    get_snippet,
    issue_weeks,
    move_snippet,
    retire_snippet,
    salary_usage,
    update_snippet,
)
from pipeline.admin.sessions import Actor
from pipeline.admin.web import (
    EditorActor,
    desk_headers,
    editor_form,
    page,
    pulse_of,
    redirect,
    sanitised_html,
)
from pipeline.content.models import Section
from pipeline.content.queue import (
    SalaryInput,
    add_job,
    add_salary_point,
    add_snippet,
    import_salary_csv,
    list_jobs,
    list_salary_points,
    list_snippets,
)
from pipeline.errors import ImportFileError, NotFoundError, ValidationError
from pipeline.issues.comparisons import (
    SalaryComparison,
    list_comparisons,
    remove_comparison,
    save_comparison,
)
from pipeline.issues.markdown import markdown_to_html
from pipeline.issues.queue_edits import (
    SALARY_FIELDS,
    JobChange,
    get_job,
    get_salary_point,
    job_fields,
    remove_job,
    remove_salary_points,
    salary_fields,
    update_job,
    update_salary_point,
)
from pulse_core.database import transaction, utcnow

MAX_CSV_BYTES = 5 * 1024 * 1024
SNIPPET_FIELDS = ("section", "title", "body", "link", "status", "target_week", "target_roles")


def _snippet_page(
    request: Request, actor: Actor, status: int = 200, **context: Any
) -> HTMLResponse:
    with transaction(pulse_of(request).db.sessions) as session:
        snippets = list_snippets(session)
        weeks = issue_weeks(session)
    return page(
        request,
        "admin/content.html",
        actor,
        status,
        snippets=snippets,
        weeks=weeks,
        sections=list(Section),
        **context,
    )


def _form_values(form: Any) -> dict[str, str]:
    return {name: str(form.get(name) or "") for name in SNIPPET_FIELDS}


def content_router() -> APIRouter:
    router = APIRouter(prefix="/admin", include_in_schema=False)

    @router.get("/content")
    def snippets(request: Request, actor: EditorActor) -> Response:
        return _snippet_page(request, actor, values={"status": "ready"}, error=None)

    @router.post("/content")
    async def add(request: Request) -> Response:
        actor = await editor_form(request)
        values = _form_values(await request.form())
        if (await request.form()).get("action") == "preview":
            preview = sanitised_html(values["body"])
            return _snippet_page(request, actor, values=values, preview=preview, error=None)
        try:
            with transaction(pulse_of(request).db.sessions) as session:
                snippet = add_snippet(
                    session,
                    section=values["section"],
                    title=values["title"],
                    body=values["body"],
                    link=values["link"],
                    status=values["status"] or "ready",
                    target_week=values["target_week"] or None,
                    target_roles=values["target_roles"] or None,
                )
                title = snippet.title
        except ValidationError as err:
            return _snippet_page(request, actor, 400, values=values, error=err)
        return redirect("/admin/content", message=f"Queued “{title}”.")

    @router.post("/content/markdown-preview")
    async def markdown_preview(request: Request) -> Response:
        """The sanitised HTML an issue would carry for this Markdown (for the live preview)."""
        await editor_form(request)
        body = str((await request.form()).get("body") or "")
        response = HTMLResponse(markdown_to_html(body[:20_000]))
        return desk_headers(response)

    @router.get("/content/{snippet_id}/edit")
    def edit_form(request: Request, snippet_id: int, actor: EditorActor) -> Response:
        with transaction(pulse_of(request).db.sessions) as session:
            try:
                snippet = get_snippet(session, snippet_id)
            except NotFoundError as err:
                return page(request, "admin/error.html", actor, 404, message=str(err))
        values = {
            "section": snippet.section.value,
            "title": snippet.title,
            "body": snippet.body_md,
            "link": snippet.link or "",
            "status": snippet.status.value,
            "target_week": snippet.target_week or "",
            "target_roles": snippet.target_roles or "",
        }
        return page(
            request, "admin/snippet_edit.html", actor, snippet=snippet, values=values,
            sections=list(Section), error=None, preview=sanitised_html(snippet.body_md),
        )  # fmt: skip

    @router.post("/content/{snippet_id}/edit")
    async def edit(request: Request, snippet_id: int) -> Response:
        actor = await editor_form(request)
        form = await request.form()
        values = _form_values(form)
        try:
            with transaction(pulse_of(request).db.sessions) as session:
                snippet = get_snippet(session, snippet_id)
                if form.get("action") == "preview":
                    preview = sanitised_html(values["body"])
                    return page(
                        request, "admin/snippet_edit.html", actor, snippet=snippet,
                        values=values, sections=list(Section), error=None, preview=preview,
                    )  # fmt: skip
                update_snippet(
                    session,
                    snippet,
                    section=values["section"],
                    title=values["title"],
                    body=values["body"],
                    link=values["link"],
                    status=values["status"],
                    target_week=values["target_week"],
                    target_roles=values["target_roles"],
                )
        except NotFoundError as err:
            return page(request, "admin/error.html", actor, 404, message=str(err))
        except ValidationError as err:
            with transaction(pulse_of(request).db.sessions) as session:
                snippet = get_snippet(session, snippet_id)
            return page(
                request, "admin/snippet_edit.html", actor, 400, snippet=snippet, values=values,
                sections=list(Section), error=err, preview=None,
            )  # fmt: skip
        return redirect("/admin/content", message="Snippet saved.")

    @router.post("/content/{snippet_id}/move")
    async def move(request: Request, snippet_id: int, direction: str = Form("")) -> Response:
        actor = await editor_form(request)
        try:
            with transaction(pulse_of(request).db.sessions) as session:
                move_snippet(session, get_snippet(session, snippet_id), direction)
        except NotFoundError as err:
            return page(request, "admin/error.html", actor, 404, message=str(err))
        except ValidationError as err:
            return page(request, "admin/error.html", actor, 400, message=str(err))
        return redirect(f"/admin/content#snippet-{snippet_id}")

    @router.post("/content/{snippet_id}/retire")
    async def retire(request: Request, snippet_id: int) -> Response:
        actor = await editor_form(request)
        try:
            with transaction(pulse_of(request).db.sessions) as session:
                retire_snippet(session, get_snippet(session, snippet_id), utcnow())
        except NotFoundError as err:
            return page(request, "admin/error.html", actor, 404, message=str(err))
        except ValidationError as err:
            return page(request, "admin/error.html", actor, 400, message=str(err))
        return redirect("/admin/content", message="Snippet retired.")

    # --- salary data points -------------------------------------------------------------

    def salary_page(request: Request, actor: Actor, status: int = 200, **context: Any) -> Response:
        with transaction(pulse_of(request).db.sessions) as session:
            points = list_salary_points(session, limit=200)
            usage = salary_usage(session, points)
        context.setdefault("values", {})
        context.setdefault("error", None)
        return page(
            request, "admin/salary.html", actor, status, points=points, usage=usage, **context
        )

    @router.get("/salary")
    def salary(request: Request, actor: EditorActor) -> Response:
        return salary_page(request, actor)

    @router.post("/salary")
    async def add_salary(request: Request) -> Response:
        actor = await editor_form(request)
        form = await request.form()
        values = {name: str(form.get(name) or "") for name in SalaryInput.__dataclass_fields__}
        try:
            with transaction(pulse_of(request).db.sessions) as session:
                add_salary_point(session, SalaryInput(**values))
        except ValidationError as err:
            return salary_page(request, actor, 400, values=values, error=err)
        return redirect("/admin/salary", message="Salary data point added.")

    @router.post("/salary/import")
    async def import_salary(request: Request) -> Response:
        actor = await editor_form(request)
        upload = (await request.form()).get("file")
        if not isinstance(upload, UploadFile) or not upload.filename:
            return salary_page(request, actor, 400, import_error="choose a CSV file to upload")
        try:
            raw = await upload.read(MAX_CSV_BYTES + 1)
        finally:
            await upload.close()
        if len(raw) > MAX_CSV_BYTES:
            return salary_page(request, actor, 400, import_error="the file is larger than 5 MB")
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            return salary_page(request, actor, 400, import_error="the file is not UTF-8 text")

        def import_it() -> int:
            with transaction(pulse_of(request).db.sessions) as session:
                return import_salary_csv(session, io.StringIO(text, newline=""))

        try:
            count = await run_in_threadpool(import_it)  # a large file must not stall the server
        except ImportFileError as err:
            message = f"line {err.line}: {err.field}: {err.message} — nothing was imported"
            return salary_page(request, actor, 400, import_error=message)
        return redirect("/admin/salary", message=f"Imported {count} salary data points.")

    # --- job listings -------------------------------------------------------------------

    def jobs_page(request: Request, actor: Actor, status: int = 200, **context: Any) -> Response:
        with transaction(pulse_of(request).db.sessions) as session:
            jobs = list_jobs(session)
            weeks = issue_weeks(session)
        context.setdefault("values", {"currency": "USD"})
        context.setdefault("error", None)
        return page(request, "admin/jobs.html", actor, status, jobs=jobs, weeks=weeks, **context)

    @router.get("/jobs")
    def jobs(request: Request, actor: EditorActor) -> Response:
        return jobs_page(request, actor)

    @router.post("/jobs")
    async def add_job_listing(request: Request) -> Response:
        actor = await editor_form(request)
        form = await request.form()
        names = ("company", "title", "location", "url", "comp_low", "comp_high", "currency")
        values = {name: str(form.get(name) or "").strip() for name in names}
        values["expires_on"] = str(form.get("expires_on") or "").strip()
        try:
            with transaction(pulse_of(request).db.sessions) as session:
                add_job(
                    session,
                    company=values["company"],
                    title=values["title"],
                    location=values["location"],
                    url=values["url"],
                    remote=form.get("remote") == "on",
                    comp_low=_optional_int(values["comp_low"], "comp_low"),
                    comp_high=_optional_int(values["comp_high"], "comp_high"),
                    currency=values["currency"] or "USD",
                    expires_on=values["expires_on"] or None,
                )
        except ValidationError as err:
            return jobs_page(request, actor, 400, values=values, error=err)
        return redirect("/admin/jobs", message="Job listing added.")

    @router.get("/salary/{point_id}/edit")
    def edit_salary_form(request: Request, point_id: int, actor: EditorActor) -> Response:
        with transaction(pulse_of(request).db.sessions) as session:
            try:
                values = salary_fields(get_salary_point(session, point_id))
            except NotFoundError as err:
                return page(request, "admin/error.html", actor, 404, message=str(err))
        return _item_page(request, actor, "salary", point_id, values)

    @router.post("/salary/{point_id}/edit")
    async def edit_salary(request: Request, point_id: int) -> Response:
        actor = await editor_form(request)
        form = await request.form()
        values = {name: str(form.get(name) or "").strip() for name in SALARY_FIELDS}
        try:
            with transaction(pulse_of(request).db.sessions) as session:
                update_salary_point(session, point_id, dict(values))
        except NotFoundError as err:
            return page(request, "admin/error.html", actor, 404, message=str(err))
        except ValidationError as err:
            return _item_page(request, actor, "salary", point_id, values, err)
        return redirect("/admin/salary", message=f"Salary data point {point_id} saved.")

    @router.post("/salary/{point_id}/remove")
    async def remove_salary(request: Request, point_id: int) -> Response:
        actor = await editor_form(request)
        try:
            with transaction(pulse_of(request).db.sessions) as session:
                remove_salary_points(session, [point_id])
        except NotFoundError as err:
            return page(request, "admin/error.html", actor, 404, message=str(err))
        return redirect("/admin/salary", message=f"Salary data point {point_id} removed.")

    @router.get("/jobs/{job_id}/edit")
    def edit_job_form(request: Request, job_id: int, actor: EditorActor) -> Response:
        with transaction(pulse_of(request).db.sessions) as session:
            try:
                job = get_job(session, job_id)
            except NotFoundError as err:
                return page(request, "admin/error.html", actor, 404, message=str(err))
            values, remote = job_fields(job), job.remote
        return _item_page(request, actor, "jobs", job_id, values, remote=remote)

    @router.post("/jobs/{job_id}/edit")
    async def edit_job(request: Request, job_id: int) -> Response:
        actor = await editor_form(request)
        form = await request.form()
        values = {name: str(form.get(name) or "").strip() for name in JOB_FIELDS}
        remote = form.get("remote") == "on"
        try:
            change = JobChange(
                company=values["company"], title=values["title"], location=values["location"],
                url=values["url"], remote=remote,
                comp_low=_optional_int(values["comp_low"], "comp_low"),
                comp_high=_optional_int(values["comp_high"], "comp_high"),
                clear_comp=not values["comp_low"] and not values["comp_high"],
                currency=values["currency"] or None,
                expires_on=values["expires_on"] or None, clear_expiry=not values["expires_on"],
            )  # fmt: skip
            with transaction(pulse_of(request).db.sessions) as session:
                _job, week = update_job(session, job_id, change)
        except NotFoundError as err:
            return page(request, "admin/error.html", actor, 404, message=str(err))
        except ValidationError as err:
            return _item_page(request, actor, "jobs", job_id, values, err, remote=remote)
        return redirect("/admin/jobs", message=f"Job listing {job_id} saved.{_rebuild(week)}")

    @router.post("/jobs/{job_id}/remove")
    async def remove_job_listing(request: Request, job_id: int) -> Response:
        actor = await editor_form(request)
        try:
            with transaction(pulse_of(request).db.sessions) as session:
                week = remove_job(session, job_id)
        except NotFoundError as err:
            return page(request, "admin/error.html", actor, 404, message=str(err))
        except ValidationError as err:
            return jobs_page(request, actor, 400, error=err)
        return redirect("/admin/jobs", message=f"Job listing {job_id} removed.{_rebuild(week)}")

    # --- salary comparisons (the Salary Pulse tables) --------------------------------------

    def comparisons_page(
        request: Request, actor: Actor, status: int = 200, **context: Any
    ) -> Response:
        with transaction(pulse_of(request).db.sessions) as session:
            rows = list_comparisons(session)
        context.setdefault("values", {"first_column": "Level"})
        context.setdefault("error", None)
        return page(request, "admin/comparisons.html", actor, status, comparisons=rows, **context)

    @router.get("/comparisons")
    def comparisons(request: Request, actor: EditorActor, key: str | None = None) -> Response:
        values: dict[str, str] = {"first_column": "Level"}
        if key:
            with transaction(pulse_of(request).db.sessions) as session:
                row = next((r for r in list_comparisons(session) if r.key == key), None)
                if row is not None:
                    values = comparison_fields(row)
        return comparisons_page(request, actor, values=values)

    @router.post("/comparisons")
    async def save(request: Request) -> Response:
        actor = await editor_form(request)
        form = await request.form()
        names = ("key", "title", "levels", "columns", "first_column", "region", "position")
        values = {name: str(form.get(name) or "") for name in names}
        try:
            with transaction(pulse_of(request).db.sessions) as session:
                row = save_comparison(
                    session,
                    key=values["key"],
                    title=values["title"],
                    levels=_lines(values["levels"]),
                    columns=_lines(values["columns"]),
                    first_column=values["first_column"] or "Level",
                    region=values["region"] or None,
                    position=_optional_int(values["position"], "position") or 0,
                )
                saved = row.key
        except ValidationError as err:
            return comparisons_page(request, actor, 400, values=values, error=err)
        return redirect("/admin/comparisons", message=f"Comparison {saved} saved.")

    @router.post("/comparisons/{key}/remove")
    async def remove_table(request: Request, key: str) -> Response:
        actor = await editor_form(request)
        try:
            with transaction(pulse_of(request).db.sessions) as session:
                remove_comparison(session, key)
        except NotFoundError as err:
            return page(request, "admin/error.html", actor, 404, message=str(err))
        return redirect("/admin/comparisons", message=f"Comparison {key} removed.")

    return router


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def comparison_fields(row: SalaryComparison) -> dict[str, str]:
    """A comparison as the form shows it: one level, one ROLE=Heading column per line."""
    return {
        "key": row.key,
        "title": row.title,
        "levels": "\n".join(row.levels),
        "columns": "\n".join(f"{role}={heading}" for role, heading in row.columns),
        "first_column": row.first_column,
        "region": row.region or "",
        "position": str(row.position),
    }


JOB_FIELDS = ("company", "title", "location", "url", "comp_low", "comp_high", "currency",
              "expires_on")  # fmt: skip
ITEM_LABELS = {
    "salary": (
        "salary data point",
        [("role", "Role"), ("level", "Level"), ("currency", "Currency"), ("low", "Low"),
         ("high", "High"), ("region", "Region"), ("source", "Source"),
         ("sample_size", "Sample size"), ("as_of", "As of (YYYY-MM-DD)")],
    ),
    "jobs": (
        "job listing",
        [("company", "Company"), ("title", "Title"), ("location", "Location"), ("url", "URL"),
         ("comp_low", "Comp low (optional)"), ("comp_high", "Comp high (optional)"),
         ("currency", "Currency"), ("expires_on", "Expires on (optional, YYYY-MM-DD)")],
    ),
}  # fmt: skip


def _item_page(
    request: Request,
    actor: Actor,
    kind: str,
    item_id: int,
    values: dict[str, str],
    error: ValidationError | None = None,
    *,
    remote: bool | None = None,
) -> Response:
    """The edit form of one salary point or job listing, with the error beside it."""
    noun, fields = ITEM_LABELS[kind]
    return page(
        request, "admin/item_edit.html", actor, 400 if error else 200, kind=kind,
        item_id=item_id, noun=noun, fields=fields, values=values, error=error, remote=remote,
    )  # fmt: skip


def _rebuild(week: str | None) -> str:
    return f" Issue {week} was built with it: rebuild it on the Preview page." if week else ""


def _optional_int(value: str, field: str) -> int | None:
    if not value:
        return None
    try:
        return int(value.replace(",", ""))
    except ValueError as err:
        raise ValidationError(field, f"{value!r} is not a whole number") from err
