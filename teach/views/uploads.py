"""Uploading questions: a dry run with a preview, then a queued import job to watch."""

from __future__ import annotations

import secrets
import shutil
import tempfile
import zipfile

from django.contrib import messages
from django.core.files.base import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.decorators import instructor_required
from config.htmx import render_htmx
from questions import selectors, services
from questions.importing import ImportFile
from questions.models import ImportJob
from questions.tasks import run_import_job
from teach.forms import ColumnMapForm, ImportConfirmForm, UploadForm

PREVIEW_SAMPLE = 5
SESSION_UPLOADS = "question_uploads"


def _stage_upload(request: HttpRequest, *, bank, files: list, fmt: str, skip: bool, preview) -> str:
    token = secrets.token_urlsafe(24)
    paths = services.staged_upload_save(token=token, files=[(f.name, f) for f in files])
    uploads = request.session.get(SESSION_UPLOADS, {})
    # Only the latest few previews can be confirmed; the files of older ones go at once.
    for old in list(uploads)[:-4]:
        uploads.pop(old, None)
        services.staged_upload_delete(token=old)
    uploads[token] = {
        "bank": str(bank.uuid),
        "paths": paths,
        "names": [f.name for f in files],
        "format": fmt,
        "skip_unsupported": skip,
    }
    _remember_preview(uploads[token], bank=bank, preview=preview)
    request.session[SESSION_UPLOADS] = uploads
    return token


def _remember_preview(staged: dict, *, bank, preview) -> None:
    # The mapping step offers selects for these headers only: they come from the files, as
    # read on the server, never from the posted form.
    staged["unknown_headers"] = _unknown_headers(preview)
    # The import job reads the files with the mapping this preview used.
    staged["column_map"] = dict(bank.column_map)


def _unknown_headers(preview) -> list[str]:
    headers: dict[str, str] = {}
    for entry in preview.unknown_columns:
        for header in entry["headers"]:
            headers.setdefault(header.strip().lower(), header)
    return list(headers.values())


def _import_file(upload) -> ImportFile:
    # FILE_UPLOAD_HANDLERS stream every file to a temporary file; parse it from there.
    if hasattr(upload, "temporary_file_path"):
        return ImportFile(upload.name, path=upload.temporary_file_path())
    return ImportFile(upload.name, upload.read())


def _staged_files(staged: dict) -> list[ImportFile]:
    files = []
    for name, path in zip(staged["names"], staged["paths"], strict=True):
        try:
            files.append(ImportFile(name, path=default_storage.path(path)))
        except NotImplementedError:  # storage without local paths
            with default_storage.open(path, "rb") as handle:
                files.append(ImportFile(name, handle.read()))
    return files


def _preview_context(*, bank, files: list[ImportFile], fmt: str, skip: bool) -> dict:
    """A dry run against the bank, with the bank's remembered column mapping."""
    preview = services.import_preview(
        files=files,
        format=fmt,
        limit=PREVIEW_SAMPLE,
        column_map=bank.column_map or None,
        bank=bank,
    )
    can_import = preview.count > 0 and not preview.problems and (skip or not preview.unsupported)
    return {
        "bank": bank,
        "preview": preview,
        "problems": [str(p) for p in preview.problems],
        "unsupported": [str(u) for u in preview.unsupported],
        "warnings": [str(w) for w in preview.warnings],
        "skip_unsupported": skip,
        "can_import": can_import,
        "file_names": [f.name for f in files],
    }


def _staged(request: HttpRequest, *, bank, token: str, now) -> dict | None:
    """The session's staged upload for `token`, if it is this bank's and still fresh."""
    staged = request.session.get(SESSION_UPLOADS, {}).get(token)
    if (
        staged is None
        or staged["bank"] != str(bank.uuid)
        or not services.staged_upload_is_fresh(paths=staged["paths"], now=now)
    ):
        return None
    return staged


def _forms(context: dict, *, token: str, headers: list[str]) -> None:
    if context["can_import"]:
        context["confirm_form"] = ImportConfirmForm(initial={"token": token})
    if headers:
        context["map_form"] = ColumnMapForm(
            initial={"token": token, **_mapped(context["bank"], headers)}, headers=headers
        )


def _mapped(bank, headers: list[str]) -> dict[str, str]:
    """The remembered choices for these headers, so the selects show them."""
    remembered = {h.strip().lower(): t for h, t in bank.column_map.items()}
    return {f"column_{i}": remembered.get(h.strip().lower(), "") for i, h in enumerate(headers)}


def _render_preview(request: HttpRequest, context: dict) -> HttpResponse:
    return render_htmx(
        request, "teach/upload_preview.html", "teach/_upload_preview_partial.html", context
    )


@require_http_methods(["GET", "POST"])
@instructor_required
def upload(request: HttpRequest, bank_uuid) -> HttpResponse:
    """Step 1: a dry run. Nothing is written to the bank until the preview is confirmed."""
    bank = get_object_or_404(selectors.banks_owned(request.user), uuid=bank_uuid)
    form = UploadForm(request.POST or None, request.FILES or None)
    # Set by questions.uploads.BoundedUploadHandler while the body was read.
    refused = getattr(request, "upload_refused", None)
    if refused:
        context = {"bank": bank, "form": UploadForm(), "upload_refused": refused}
        return render(request, "teach/upload.html", context, status=413)
    if request.method == "POST" and form.is_valid():
        uploads = form.cleaned_data["files"]
        fmt = form.cleaned_data["format"]
        skip = form.cleaned_data["skip_unsupported"]
        context = _preview_context(
            bank=bank, files=[_import_file(f) for f in uploads], fmt=fmt, skip=skip
        )
        preview = context["preview"]
        headers = _unknown_headers(preview)
        # Kept for the confirmation, or for the column-mapping step to read again.
        if context["can_import"] or headers:
            token = _stage_upload(
                request, bank=bank, files=uploads, fmt=fmt, skip=skip, preview=preview
            )
            _forms(context, token=token, headers=headers)
        return _render_preview(request, context)
    return render(request, "teach/upload.html", {"bank": bank, "form": form})


@require_POST
@instructor_required
def upload_map(request: HttpRequest, bank_uuid) -> HttpResponse:
    """The column-mapping step: remember the chosen columns for the bank, preview again."""
    bank = get_object_or_404(selectors.banks_owned(request.user), uuid=bank_uuid)
    token = request.POST.get("token", "")
    staged = _staged(request, bank=bank, token=token, now=timezone.now())
    if staged is None:
        messages.error(request, "That preview has expired. Upload the files again.")
        return redirect("teach:upload", bank.uuid)
    form = ColumnMapForm(request.POST, headers=staged.get("unknown_headers", []))
    files = _staged_files(staged)
    if not form.is_valid():
        context = _preview_context(
            bank=bank, files=files, fmt=staged["format"], skip=staged["skip_unsupported"]
        )
        context["map_form"] = form
        return _render_preview(request, context)
    services.bank_column_map_set(bank=bank, column_map=form.column_map())
    context = _preview_context(
        bank=bank, files=files, fmt=staged["format"], skip=staged["skip_unsupported"]
    )
    uploads = request.session[SESSION_UPLOADS]
    _remember_preview(uploads[token], bank=bank, preview=context["preview"])
    request.session[SESSION_UPLOADS] = uploads
    _forms(context, token=token, headers=uploads[token]["unknown_headers"])
    return _render_preview(request, context)


def _bundle(staged: dict) -> tuple[str, File]:
    """The staged files as the job's one upload: a file as it is, several as one zip.

    Both are copied in chunks through a temporary file, never held whole in memory.
    """
    spool = tempfile.TemporaryFile()  # noqa: SIM115 - closed by upload_confirm
    if len(staged["paths"]) == 1:
        with default_storage.open(staged["paths"][0], "rb") as fh:
            shutil.copyfileobj(fh, spool)
        name = staged["names"][0]
    else:
        with zipfile.ZipFile(spool, "w", zipfile.ZIP_DEFLATED) as archive:
            for member, path in zip(staged["names"], staged["paths"], strict=True):
                with default_storage.open(path, "rb") as fh, archive.open(member, "w") as out:
                    shutil.copyfileobj(fh, out)
        name = "upload.zip"
    spool.seek(0)
    return name, File(spool, name=name)


@require_POST
@instructor_required
def upload_confirm(request: HttpRequest, bank_uuid) -> HttpResponse:
    """Step 2: queue the import of the files the instructor has just previewed."""
    bank = get_object_or_404(selectors.banks_owned(request.user), uuid=bank_uuid)
    form = ImportConfirmForm(request.POST)
    uploads = request.session.get(SESSION_UPLOADS, {})
    token = form.data.get("token", "")
    now = timezone.now()
    staged = _staged(request, bank=bank, token=token, now=now) if form.is_valid() else None
    if staged is None:
        messages.error(request, "That preview has expired. Upload the files again.")
        return redirect("teach:upload", bank.uuid)
    filename, bundle = _bundle(staged)
    try:
        with transaction.atomic():
            job = ImportJob(
                bank=bank,
                owner=request.user,
                filename=filename,
                format=staged["format"],
                skip_unsupported=staged["skip_unsupported"],
                column_map=staged.get("column_map") or {},
                status=ImportJob.Status.QUEUED,
                created_at=now,
            )
            # Out of staging, so the expiry sweep never takes a queued job's file.
            job.upload.save(filename, bundle, save=False)
            job.save()
            run_import_job.delay_on_commit(job.id)
    finally:
        bundle.close()
    services.staged_upload_delete(token=token)
    uploads.pop(token, None)
    request.session[SESSION_UPLOADS] = uploads
    return redirect("teach:import_job", job.uuid)


@require_GET
@instructor_required
def import_job(request: HttpRequest, job_uuid) -> HttpResponse:
    job = get_object_or_404(
        ImportJob.objects.filter(bank__owners=request.user).select_related("bank"),
        uuid=job_uuid,
    )
    return render_htmx(
        request,
        "teach/import_job.html",
        "teach/_job_progress_partial.html",
        {"job": job, "bank": job.bank},
    )
