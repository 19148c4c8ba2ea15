"""Instructor pages for exams, cohorts, assignments and accommodations (mounted at /teach/)."""

from __future__ import annotations

import secrets
import uuid
from collections import defaultdict
from datetime import timedelta

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, F
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.decorators import instructor_required
from exams import authoring
from exams.instructor_forms import (
    AccommodationForm,
    AddMembersForm,
    AssignmentForm,
    AutofillForm,
    BlueprintForm,
    CohortForm,
    ExamCreateForm,
    FixedFormAddForm,
    FixedFormRemoveForm,
    MemberForm,
    format_weights,
)
from exams.models import Blueprint, Cohort, Exam
from questions.models import Bank

POOL_PAGE_SIZE = 50


def _optional_url(name: str, *args) -> str | None:
    """Links to pages other apps may not have shipped yet."""
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return None


def _add_errors(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc)


def _uuid_or_404(raw: str) -> uuid.UUID:
    try:
        return uuid.UUID(raw)
    except ValueError:
        raise Http404("Not a valid identifier.") from None


def _owned_exams(request: HttpRequest):
    return Exam.objects.filter(owner=request.user)


def _owned_cohorts(request: HttpRequest):
    return Cohort.objects.filter(owner=request.user)


# Exams -----------------------------------------------------------------------------------------


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
    return render(request, "teach/exam_list.html", {"exams": exams})


@require_http_methods(["GET", "POST"])
@instructor_required
def blueprint_create(request: HttpRequest) -> HttpResponse:
    form = BlueprintForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            blueprint = authoring.blueprint_create(owner=request.user, **form.cleaned_data)
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, f"Blueprint “{blueprint.name}” saved.")
            return redirect(f"{reverse('teach:exam_create')}?blueprint={blueprint.uuid}")
    return render(request, "teach/blueprint_create.html", {"form": form})


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
            exam = authoring.exam_create(
                owner=request.user,
                title=data["title"],
                description=data["description"],
                blueprint=data["blueprint"],
                banks=list(data["banks"]),
                mode=data["mode"],
                assembly=data["assembly"],
                discipline_weights=data["discipline_weights"],
                system_weights=data["system_weights"],
                is_public=data["is_public"],
            )
        except ValidationError as exc:
            _add_errors(form, exc)
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


@require_GET
@instructor_required
def exam_detail(request: HttpRequest, exam_uuid) -> HttpResponse:
    exam = get_object_or_404(_owned_exams(request).select_related("blueprint"), uuid=exam_uuid)
    context = _fixed_form_context(request, exam) if exam.assembly == Exam.Assembly.FIXED else {}
    if request.htmx and context:
        return render(request, "teach/_fixed_form_partial.html", context)
    blueprint = exam.blueprint
    context.update(
        {
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
            "stats_url": _optional_url("insights:exam_stats", exam.uuid),
            "day_length": "{} h {:02d} min".format(*divmod(blueprint.day_minutes, 60)),
            "now": timezone.now(),
        }
    )
    return render(request, "teach/exam_detail.html", context)


def _fixed_form_response(request: HttpRequest, exam: Exam, *, error: str | None = None):
    if request.htmx:
        context = _fixed_form_context(request, exam)
        context["error"] = error
        return render(request, "teach/_fixed_form_partial.html", context)
    if error:
        messages.error(request, error)
    return redirect("teach:exam_detail", exam.uuid)


def _message(exc: ValidationError) -> str:
    return " ".join(exc.messages)


@require_POST
@instructor_required
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
                error = _message(exc)
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
            error = _message(exc)
        else:
            if not request.htmx:
                messages.success(request, f"Filled the form with {len(items)} questions.")
    else:
        error = "The seed must be a whole number."
    return _fixed_form_response(request, exam, error=error)


# Cohorts ---------------------------------------------------------------------------------------


@require_GET
@instructor_required
def cohort_list(request: HttpRequest) -> HttpResponse:
    cohorts = _owned_cohorts(request).annotate(
        member_count=Count("members", distinct=True),
        assignment_count=Count("assignments", distinct=True),
    )
    return render(request, "teach/cohort_list.html", {"cohorts": cohorts})


@require_http_methods(["GET", "POST"])
@instructor_required
def cohort_create(request: HttpRequest) -> HttpResponse:
    form = CohortForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            cohort = authoring.cohort_create(owner=request.user, name=form.cleaned_data["name"])
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            return redirect("teach:cohort_detail", cohort.uuid)
    return render(request, "teach/cohort_create.html", {"form": form})


def _members_context(cohort: Cohort, **extra) -> dict:
    return {
        "cohort": cohort,
        # Each member with this cohort's accommodations (the filter's join carries them).
        "members": list(
            get_user_model()
            .objects.filter(membership__cohort=cohort)
            .annotate(
                time_multiplier=F("membership__time_multiplier"),
                extra_break_minutes=F("membership__extra_break_minutes"),
            )
            .order_by("username")
        ),
        "add_form": extra.pop("add_form", None) or AddMembersForm(),
        **extra,
    }


@require_GET
@instructor_required
def cohort_detail(request: HttpRequest, cohort_uuid) -> HttpResponse:
    cohort = get_object_or_404(_owned_cohorts(request), uuid=cohort_uuid)
    context = _members_context(cohort)
    if request.htmx:
        return render(request, "teach/_members_partial.html", context)
    context.update(
        {
            "assignments": list(cohort.assignments.select_related("exam")),
            "stats_url": _optional_url("insights:cohort_stats", cohort.uuid),
            "now": timezone.now(),
        }
    )
    return render(request, "teach/cohort_detail.html", context)


def _members_response(request: HttpRequest, cohort: Cohort, **extra) -> HttpResponse:
    if request.htmx:
        return render(request, "teach/_members_partial.html", _members_context(cohort, **extra))
    if extra.get("error"):
        messages.error(request, extra["error"])
    elif extra.get("notice"):
        messages.success(request, extra["notice"])
    return redirect("teach:cohort_detail", cohort.uuid)


@require_POST
@instructor_required
def cohort_members_add(request: HttpRequest, cohort_uuid) -> HttpResponse:
    cohort = get_object_or_404(_owned_cohorts(request), uuid=cohort_uuid)
    form = AddMembersForm(request.POST)
    if not form.is_valid():
        return _members_response(
            request, cohort, add_form=form, error="Enter at least one username."
        )
    try:
        result = authoring.cohort_add_members(
            cohort=cohort, usernames=form.cleaned_data["usernames"]
        )
    except ValidationError as exc:
        form.add_error("usernames", exc)
        return _members_response(request, cohort, add_form=form, error=_message(exc))
    # One answer for an unknown name, an instructor and an inactive account alike.
    return _members_response(
        request,
        cohort,
        notice=f"{len(result.added)} added; {result.not_added} could not be added.",
    )


@require_POST
@instructor_required
def cohort_member_remove(request: HttpRequest, cohort_uuid) -> HttpResponse:
    cohort = get_object_or_404(_owned_cohorts(request), uuid=cohort_uuid)
    form = MemberForm(request.POST, cohort=cohort)
    if not form.is_valid():
        return _members_response(request, cohort, error="That account is not in this cohort.")
    member = form.cleaned_data["member"]
    authoring.cohort_remove_member(cohort=cohort, member=member)
    return _members_response(request, cohort, notice=f"Removed {member.username}.")


@require_POST
@instructor_required
def cohort_accommodation(request: HttpRequest, cohort_uuid) -> HttpResponse:
    cohort = get_object_or_404(_owned_cohorts(request), uuid=cohort_uuid)
    form = AccommodationForm(request.POST, cohort=cohort)
    if not form.is_valid():
        errors = "; ".join(str(e) for errs in form.errors.values() for e in errs)
        return _members_response(request, cohort, error=f"Not saved: {errors}")
    member = form.cleaned_data["member"]
    try:
        authoring.accommodation_set(
            cohort=cohort,
            member=member,
            time_multiplier=form.cleaned_data["time_multiplier"],
            extra_break_minutes=form.cleaned_data["extra_break_minutes"],
        )
    except ValidationError as exc:
        return _members_response(request, cohort, error=_message(exc))
    return _members_response(request, cohort, notice=f"Saved accommodations for {member.username}.")


# Assignments -----------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@instructor_required
def assignment_create(request: HttpRequest) -> HttpResponse:
    initial: dict = {"max_attempts": 1}
    if request.method == "GET":
        # Links from an exam or cohort page preselect it; someone else's uuid is a 404.
        if request.GET.get("exam"):
            initial["exam"] = get_object_or_404(
                _owned_exams(request), uuid=_uuid_or_404(request.GET["exam"])
            )
        if request.GET.get("cohort"):
            initial["cohort"] = get_object_or_404(
                _owned_cohorts(request), uuid=_uuid_or_404(request.GET["cohort"])
            )
        start = timezone.localtime().replace(second=0, microsecond=0)
        initial["opens_at"] = start
        initial["closes_at"] = start + timedelta(days=7)
    form = AssignmentForm(request.POST or None, owner=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            assignment = authoring.assignment_create(
                exam=data["exam"],
                cohort=data["cohort"],
                opens_at=data["opens_at"],
                closes_at=data["closes_at"],
                max_attempts=data["max_attempts"],
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(
                request, f"Assigned “{assignment.exam.title}” to {assignment.cohort.name}."
            )
            return redirect("teach:cohort_detail", assignment.cohort.uuid)
    return render(request, "teach/assignment_create.html", {"form": form})
