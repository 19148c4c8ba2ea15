"""Instructor pages for question banks, plus the media endpoint every signed-in user needs."""

from __future__ import annotations

import secrets
import shutil
import tempfile
import zipfile

from csp.decorators import csp_replace
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.files.base import File
from django.core.files.storage import default_storage
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Count
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.decorators import instructor_required
from exams.models import Cohort, Exam
from questions import selectors, services
from questions.formats.common import sniff_media_type
from questions.forms import (
    BankCreateForm,
    BankPracticeForm,
    BankSearchForm,
    ImportConfirmForm,
    RetireForm,
    UploadForm,
)
from questions.importing import ImportFile
from questions.models import ImportJob, Media
from questions.tasks import run_import_job

PAGE_SIZE = 50
PREVIEW_SAMPLE = 5
SESSION_UPLOADS = "question_uploads"


def _template(request: HttpRequest, full: str, partial: str) -> str:
    return partial if request.htmx else full


# Dashboard -------------------------------------------------------------------------------------


@require_GET
@instructor_required
def instructor_home(request: HttpRequest) -> HttpResponse:
    user = request.user
    banks = list(selectors.banks_with_counts(user))
    exams = list(
        Exam.objects.filter(owner=user).select_related("blueprint").order_by("-created_at")[:8]
    )
    cohorts = list(Cohort.objects.filter(owner=user).annotate(member_count=Count("members"))[:8])
    return render(
        request,
        "questions/instructor_home.html",
        {
            "banks": banks,
            "exams": exams,
            "cohorts": cohorts,
            "jobs": list(selectors.recent_import_jobs(user)),
            "question_total": sum(b.active_count for b in banks),
        },
    )


# Banks -----------------------------------------------------------------------------------------


@require_GET
@instructor_required
def bank_list(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "questions/bank_list.html",
        {"banks": selectors.banks_with_counts(request.user)},
    )


@require_http_methods(["GET", "POST"])
@instructor_required
def bank_create(request: HttpRequest) -> HttpResponse:
    form = BankCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            bank = services.bank_create(
                slug=form.cleaned_data["slug"], name=form.cleaned_data["name"], owner=request.user
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, f"Created the bank “{bank.name}”.")
            return redirect(bank)
    return render(request, "questions/bank_create.html", {"form": form})


@require_GET
@instructor_required
def bank_detail(request: HttpRequest, bank_uuid) -> HttpResponse:
    bank = get_object_or_404(selectors.banks_owned(request.user), uuid=bank_uuid)
    form = BankSearchForm(request.GET or None)
    text, tag, status, tag_value = "", None, "", ""
    if form.is_valid():
        text = form.cleaned_data["q"].strip()
        status = form.cleaned_data["status"]
        if form.cleaned_data["tag"]:
            kind, slug = form.cleaned_data["tag"]
            tag_value = f"{kind}:{slug}"
            tag = selectors.tag_for_bank(bank=bank, kind=kind, slug=slug)
            if tag is None:
                form.add_error("tag", "No such tag in this bank.")
    questions = selectors.bank_questions(bank=bank, text=text, tag=tag, status=status)
    if tag_value and tag is None:
        questions = questions.none()
    page = Paginator(questions, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "bank": bank,
        "form": form,
        "page": page,
        "counts": selectors.bank_counts(bank=bank, matching=questions),
        "facets": selectors.bank_tag_facets(bank=bank),
        "tag_value": tag_value,
        "status": status,
        "text": text,
        "query": query.urlencode(),
    }
    if request.htmx:
        return render(request, "questions/_question_table_partial.html", context)
    context["jobs"] = list(bank.import_jobs.order_by("-created_at")[:5])
    return render(request, "questions/bank_detail.html", context)


@require_POST
@instructor_required
def bank_practice(request: HttpRequest, bank_uuid) -> HttpResponse:
    bank = get_object_or_404(selectors.banks_owned(request.user), uuid=bank_uuid)
    form = BankPracticeForm(request.POST)
    if form.is_valid():
        services.bank_practice_set(bank=bank, is_open=form.cleaned_data["action"] == "open")
    if request.htmx:
        return render(request, "questions/_bank_practice_partial.html", {"bank": bank})
    if form.is_valid():
        messages.success(
            request,
            "Bank open for practice." if bank.is_open_for_practice else "Bank closed for practice.",
        )
    else:
        messages.error(request, "That change was not understood: choose open or close.")
    return redirect(bank)


# Questions -------------------------------------------------------------------------------------


@require_GET
@instructor_required
def question_detail(request: HttpRequest, question_uuid) -> HttpResponse:
    question = selectors.question_for_owner(user=request.user, question_uuid=question_uuid)
    if question is None:
        raise Http404("No such question.")
    version = question.current_version
    statistic = selectors.version_statistic(version)
    option_rows = []
    if version is not None:
        counts = list(statistic.option_counts) if statistic else []
        answered = sum(counts) or 0
        for i, option in enumerate(version.options):
            n = counts[i] if i < len(counts) else 0
            option_rows.append(
                {
                    "letter": chr(ord("A") + i),
                    "text": option.get("text", ""),
                    "explanation": option.get("explanation", ""),
                    "is_key": i == version.key_index,
                    "count": n,
                    "share": round(100 * n / answered) if answered else None,
                }
            )
    return render(
        request,
        "questions/question_detail.html",
        {
            "question": question,
            "version": version,
            "versions": list(question.versions.all()),
            "tags": list(question.tags.all()),
            "statistic": statistic,
            "option_rows": option_rows,
            "siblings": selectors.item_set_siblings(question),
            "retire_form": RetireForm(),
        },
    )


@require_POST
@instructor_required
def question_retire(request: HttpRequest, question_uuid) -> HttpResponse:
    question = get_object_or_404(selectors.questions_owned(request.user), uuid=question_uuid)
    form = RetireForm(request.POST)
    if form.is_valid():
        now = timezone.now()
        if form.cleaned_data["action"] == "retire":
            services.question_retire(question=question, now=now)
        else:
            services.question_unretire(question=question, now=now)
        question.refresh_from_db(fields=["is_retired"])
    if request.htmx:
        return render(
            request,
            "questions/_retire_partial.html",
            {"question": question, "retire_form": RetireForm()},
        )
    if form.is_valid():
        messages.success(
            request,
            "Question retired: new exams will not draw it."
            if question.is_retired
            else "Question returned to service.",
        )
    return redirect(question)


# Media -----------------------------------------------------------------------------------------


def _may_see_media(user, item: Media) -> bool:
    """The bank's owners, and examinees who were given a question that shows the file."""
    if item.bank.owners.filter(pk=user.pk).exists():
        return True
    # Any attempt or practice block of theirs that delivered a question using this file.
    return item.versions.filter(question__responses__attempt__user=user).exists()


# Uploaded files are third-party content: even an SVG opened on its own must not run scripts.
@csp_replace({"default-src": ["'none'"], "script-src": ["'none'"], "sandbox": True})
@require_GET
@login_required
def media(request: HttpRequest, media_uuid) -> HttpResponse:
    item = get_object_or_404(Media.objects.select_related("bank"), uuid=media_uuid)
    # 404, not 403, so a uuid does not tell anyone that the file exists.
    if not _may_see_media(request.user, item):
        raise Http404("No such file.")
    try:
        handle = item.file.open("rb")
    except FileNotFoundError:
        raise Http404("The file is missing from storage.") from None
    # Served as what the bytes are: rows stored before sniffing may carry a declared type.
    content_type = sniff_media_type(handle.read(32))
    if content_type is None:
        handle.close()
        raise Http404("No such file.")
    handle.seek(0)
    response = FileResponse(
        handle, content_type=content_type, as_attachment=False, filename=item.original_name
    )
    response["X-Content-Type-Options"] = "nosniff"
    # Media is content-addressed per bank (sha256), so a uuid always names the same bytes.
    response["Cache-Control"] = "private, max-age=86400"
    return response


# Upload and import jobs ------------------------------------------------------------------------


def _stage_upload(request: HttpRequest, *, bank, files: list, fmt: str, skip: bool) -> str:
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
    request.session[SESSION_UPLOADS] = uploads
    return token


def _import_file(upload) -> ImportFile:
    # FILE_UPLOAD_HANDLERS stream every file to a temporary file; parse it from there.
    if hasattr(upload, "temporary_file_path"):
        return ImportFile(upload.name, path=upload.temporary_file_path())
    return ImportFile(upload.name, upload.read())


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
        return render(request, "questions/upload.html", context, status=413)
    context = {"bank": bank, "form": form}
    if request.method == "POST" and form.is_valid():
        uploads = form.cleaned_data["files"]
        files = [_import_file(f) for f in uploads]
        fmt = form.cleaned_data["format"]
        skip = form.cleaned_data["skip_unsupported"]
        preview = services.import_preview(files=files, format=fmt, limit=PREVIEW_SAMPLE)
        can_import = (
            preview.count > 0 and not preview.problems and (skip or not preview.unsupported)
        )
        context.update(
            {
                "preview": preview,
                "problems": [str(p) for p in preview.problems],
                "unsupported": [str(u) for u in preview.unsupported],
                "skip_unsupported": skip,
                "can_import": can_import,
                "file_names": [f.name for f in files],
            }
        )
        if can_import:
            token = _stage_upload(request, bank=bank, files=uploads, fmt=fmt, skip=skip)
            context["confirm_form"] = ImportConfirmForm(initial={"token": token})
        template = _template(
            request, "questions/upload_preview.html", "questions/_upload_preview_partial.html"
        )
        return render(request, template, context)
    return render(request, "questions/upload.html", context)


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
    staged = uploads.get(token) if form.is_valid() else None
    now = timezone.now()
    if (
        staged is None
        or staged["bank"] != str(bank.uuid)
        or not services.staged_upload_is_fresh(paths=staged["paths"], now=now)
    ):
        messages.error(request, "That preview has expired. Upload the files again.")
        return redirect("questions:upload", bank.uuid)
    filename, bundle = _bundle(staged)
    try:
        with transaction.atomic():
            job = ImportJob(
                bank=bank,
                owner=request.user,
                filename=filename,
                format=staged["format"],
                skip_unsupported=staged["skip_unsupported"],
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
    return redirect("questions:import_job", job.uuid)


@require_GET
@instructor_required
def import_job(request: HttpRequest, job_uuid) -> HttpResponse:
    job = get_object_or_404(
        ImportJob.objects.filter(bank__owners=request.user).select_related("bank"),
        uuid=job_uuid,
    )
    template = _template(
        request, "questions/import_job.html", "questions/_job_progress_partial.html"
    )
    return render(request, template, {"job": job, "bank": job.bank})
