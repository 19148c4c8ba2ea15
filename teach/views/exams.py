"""Exams: the list, blueprints, creating an exam, its page and its fixed-form editor."""

from __future__ import annotations

import secrets
from collections import defaultdict

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.decorators import instructor_required
from config.htmx import render_htmx, vary_on_htmx
from exams import authoring
from exams.models import Blueprint, Exam
from exams.timezones import in_user_zone
from questions.models import Bank
from teach.forms import (
    AutofillForm,
    BlueprintForm,
    ExamCreateForm,
    ExamEditForm,
    FixedFormAddForm,
    FixedFormRemoveForm,
    format_weights,
)
from teach.views.common import add_errors, message

POOL_PAGE_SIZE = 50


def _owned_exams(request: HttpRequest):
    return Exam.objects.filter(owner=request.user)


@require_GET
@instructor_required
def exam_list(request: HttpRequest) -> HttpResponse:
    exams = (
        _owned_exams(request)
        .select_related("blueprint")
        .annotate(
            bank_count=Count("banks", distinct=True),
            assignment_count=Count("assignments", distinct=True),
        )
        .order_by("-created_at")
    )
    show_archived = request.GET.get("archived") == "1"
    exams = exams.filter(archived_at__isnull=not show_archived)
    return render(
        request,
        "teach/exam_list.html",
        {
            "exams": exams,
            "show_archived": show_archived,
            "blueprints": list(Blueprint.objects.filter(owner=request.user).order_by("name")),
        },
    )


@require_http_methods(["GET", "POST"])
@instructor_required
def blueprint_create(request: HttpRequest) -> HttpResponse:
    form = BlueprintForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            blueprint = authoring.blueprint_create(owner=request.user, **form.cleaned_data)
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(request, f"Blueprint “{blueprint.name}” saved.")
            return redirect(f"{reverse('teach:exam_create')}?blueprint={blueprint.uuid}")
    return render(request, "teach/blueprint_create.html", {"form": form})


def _exam_fields(data: dict) -> dict:
    """The exam form's cleaned data as the keywords exam_create and exam_update take."""
    return {
        "title": data["title"],
        "description": data["description"],
        "blueprint": data["blueprint"],
        "banks": list(data["banks"]),
        "mode": data["mode"],
        "assembly": data["assembly"],
        "discipline_weights": data["discipline_weights"],
        "system_weights": data["system_weights"],
        "is_public": data["is_public"],
    }


@require_http_methods(["GET", "POST"])
@instructor_required
def exam_create(request: HttpRequest) -> HttpResponse:
    initial = {}
    if request.method == "GET":
        disciplines, systems = authoring.default_weights(Bank.objects.none())
        initial = {
            "blueprint": request.GET.get("blueprint"),
            "discipline_weights": format_weights(disciplines),
            "system_weights": format_weights(systems),
        }
    form = ExamCreateForm(request.POST or None, owner=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            exam = authoring.exam_create(owner=request.user, **_exam_fields(data))
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(request, f"Created “{exam.title}”.")
            return redirect("teach:exam_detail", exam.uuid)
    presets = Blueprint.objects.filter(owner__isnull=True).order_by("name")
    return render(request, "teach/exam_create.html", {"form": form, "presets": presets})


def _fixed_form_context(request: HttpRequest, exam: Exam) -> dict:
    blueprint = exam.blueprint
    blocks: dict[int, list] = defaultdict(list)
    for item in exam.fixed_items.select_related("question__current_version").order_by(
        "block_number", "position"
    ):
        blocks[item.block_number].append(item)
    text = request.GET.get("q", "").strip()[:200]
    pool = Paginator(authoring.exam_pool_questions(exam=exam, text=text), POOL_PAGE_SIZE)
    return {
        "exam": exam,
        "blocks": [
            {"number": n, "items": blocks.get(n, []), "free": blueprint.items_per_block}
            for n in range(1, blueprint.block_count + 1)
        ],
        "placed": sum(len(v) for v in blocks.values()),
        "pool_page": pool.get_page(request.GET.get("page")),
        "pool_text": text,
        "block_numbers": range(1, blueprint.block_count + 1),
    }


def _exam_page_context(exam: Exam) -> dict:
    blueprint = exam.blueprint
    return {
        "exam": exam,
        "blueprint": blueprint,
        "block_numbers": range(1, blueprint.block_count + 1),
        "banks": list(exam.banks.annotate(n=Count("questions")).order_by("name")),
        "pool": authoring.exam_pool_report(exam=exam),
        "assignments": list(
            exam.assignments.select_related("cohort").annotate(
                member_count=Count("cohort__members")
            )
        ),
        "stats_url": reverse("teach:exam_stats", args=[exam.uuid]),
        "day_length": "{} h {:02d} min".format(*divmod(blueprint.day_minutes, 60)),
        "attempt_count": exam.attempts.count(),
        "now": timezone.now(),
    }


@require_GET
@instructor_required
@in_user_zone
def exam_detail(request: HttpRequest, exam_uuid) -> HttpResponse:
    exam = get_object_or_404(_owned_exams(request).select_related("blueprint"), uuid=exam_uuid)
    if exam.assembly != Exam.Assembly.FIXED:
        # No fixed form, so no fragment: htmx and a plain request get the same page.
        return render(request, "teach/exam_detail.html", _exam_page_context(exam))
    return render_htmx(
        request,
        "teach/exam_detail.html",
        "teach/_fixed_form_partial.html",
        _fixed_form_context(request, exam),
        page_context=lambda: _exam_page_context(exam),
    )


def _fixed_form_response(request: HttpRequest, exam: Exam, *, error: str | None = None):
    if request.htmx:
        context = _fixed_form_context(request, exam)
        context["error"] = error
        return render(request, "teach/_fixed_form_partial.html", context)
    if error:
        messages.error(request, error)
    return redirect("teach:exam_detail", exam.uuid)


@require_POST
@instructor_required
@vary_on_htmx
def fixed_form_edit(request: HttpRequest, exam_uuid) -> HttpResponse:
    exam = get_object_or_404(_owned_exams(request).select_related("blueprint"), uuid=exam_uuid)
    action = request.POST.get("action")
    error = None
    if action == "add":
        form = FixedFormAddForm(request.POST, exam=exam)
        if form.is_valid():
            try:
                authoring.fixed_form_add(
                    exam=exam,
                    block_number=form.cleaned_data["block_number"],
                    questions=list(form.cleaned_data["questions"]),
                )
            except ValidationError as exc:
                error = message(exc)
        else:
            error = "Tick at least one question and choose a block that exists."
    elif action == "remove":
        form = FixedFormRemoveForm(request.POST, exam=exam)
        if form.is_valid():
            authoring.fixed_form_remove(exam=exam, question=form.cleaned_data["question"])
        else:
            error = "That question is not on the form."
    elif action == "clear":
        authoring.fixed_form_set(exam=exam, items=[])
    else:
        error = "Unknown action."
    return _fixed_form_response(request, exam, error=error)


@require_POST
@instructor_required
@vary_on_htmx
def fixed_form_autofill(request: HttpRequest, exam_uuid) -> HttpResponse:
    exam = get_object_or_404(_owned_exams(request).select_related("blueprint"), uuid=exam_uuid)
    form = AutofillForm(request.POST)
    error = None
    if form.is_valid():
        seed = form.cleaned_data["seed"]
        if seed is None:
            seed = secrets.randbelow(2**31)
        try:
            items = authoring.fixed_form_autofill(exam=exam, seed=seed)
        except ValidationError as exc:
            error = message(exc)
        else:
            if not request.htmx:
                messages.success(request, f"Filled the form with {len(items)} questions.")
    else:
        error = "The seed must be a whole number."
    return _fixed_form_response(request, exam, error=error)


# Editing, archiving and deleting ---------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@instructor_required
def exam_edit(request: HttpRequest, exam_uuid) -> HttpResponse:
    exam = get_object_or_404(_owned_exams(request).select_related("blueprint"), uuid=exam_uuid)
    initial = {
        "title": exam.title,
        "description": exam.description,
        "blueprint": exam.blueprint.uuid,
        "banks": list(exam.banks.all()),
        "mode": exam.mode,
        "assembly": exam.assembly,
        "discipline_weights": format_weights(exam.discipline_weights or {}),
        "system_weights": format_weights(exam.system_weights or {}),
        "is_public": exam.is_public,
    }
    form = ExamEditForm(request.POST or None, owner=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            authoring.exam_update(exam=exam, **_exam_fields(data))
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(request, "Saved. Attempts already started keep their form.")
            return redirect("teach:exam_detail", exam.uuid)
    return render(
        request,
        "teach/exam_edit.html",
        {"form": form, "exam": exam, "attempt_count": exam.attempts.count()},
    )


@require_POST
@instructor_required
def exam_archive(request: HttpRequest, exam_uuid) -> HttpResponse:
    exam = get_object_or_404(_owned_exams(request), uuid=exam_uuid)
    if request.POST.get("action") == "restore":
        authoring.exam_restore(exam=exam)
        messages.success(request, f"Restored “{exam.title}”.")
    else:
        authoring.exam_archive(exam=exam, now=timezone.now())
        messages.success(request, f"Archived “{exam.title}”: nobody can start it now.")
    return redirect("teach:exam_detail", exam.uuid)


@require_POST
@instructor_required
def exam_delete(request: HttpRequest, exam_uuid) -> HttpResponse:
    exam = get_object_or_404(_owned_exams(request), uuid=exam_uuid)
    try:
        authoring.exam_delete(exam=exam)
    except ValidationError as exc:
        messages.error(request, message(exc))
        return redirect("teach:exam_detail", exam.uuid)
    messages.success(request, f"Deleted “{exam.title}”.")
    return redirect("teach:exam_list")


def _owned_blueprints(request: HttpRequest):
    return Blueprint.objects.filter(owner=request.user)


@require_http_methods(["GET", "POST"])
@instructor_required
def blueprint_edit(request: HttpRequest, blueprint_uuid) -> HttpResponse:
    blueprint = get_object_or_404(_owned_blueprints(request), uuid=blueprint_uuid)
    fields = [
        "name",
        "block_count",
        "items_per_block",
        "block_minutes",
        "break_minutes",
        "tutorial_minutes",
    ]
    form = BlueprintForm(request.POST or None, initial={f: getattr(blueprint, f) for f in fields})
    if request.method == "POST" and form.is_valid():
        try:
            authoring.blueprint_update(blueprint=blueprint, **form.cleaned_data)
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(request, f"Blueprint “{blueprint.name}” saved.")
            return redirect("teach:exam_list")
    exams = list(blueprint.exam_set.order_by("title"))
    return render(
        request,
        "teach/blueprint_edit.html",
        {"form": form, "blueprint": blueprint, "exams": exams},
    )


@require_POST
@instructor_required
def blueprint_delete(request: HttpRequest, blueprint_uuid) -> HttpResponse:
    blueprint = get_object_or_404(_owned_blueprints(request), uuid=blueprint_uuid)
    try:
        authoring.blueprint_delete(blueprint=blueprint)
    except ValidationError as exc:
        messages.error(request, message(exc))
        return redirect("teach:blueprint_edit", blueprint.uuid)
    messages.success(request, f"Deleted the blueprint “{blueprint.name}”.")
    return redirect("teach:exam_list")
