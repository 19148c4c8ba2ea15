"""Cohorts: members, their accommodations, and assigning exams to a cohort."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import Count, F
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts import services as accounts_services
from accounts.decorators import instructor_required
from accounts.models import JoinLink
from accounts.views import site_url
from config.htmx import render_htmx, vary_on_htmx
from exams import authoring
from exams.models import Cohort, Exam
from teach.forms import (
    AccommodationForm,
    AddMembersForm,
    AssignmentForm,
    CohortForm,
    InviteForm,
    JoinLinkForm,
    MemberForm,
)
from teach.views.common import add_errors, message, uuid_or_404


def _owned_cohorts(request: HttpRequest):
    return Cohort.objects.filter(owner=request.user)


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
            add_errors(form, exc)
        else:
            return redirect("teach:cohort_detail", cohort.uuid)
    return render(request, "teach/cohort_create.html", {"form": form})


def _members_context(cohort: Cohort, **extra) -> dict:
    now = timezone.now()
    invitations = list(cohort.invitations.order_by("email"))
    for invitation in invitations:
        invitation.current_status = invitation.status(now)
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
        "invite_form": extra.pop("invite_form", None) or InviteForm(),
        # Open and accepted invitations alike: which addresses had an account is never shown.
        "invitations": invitations,
        "invitation_days": settings.INVITATION_DAYS,
        "join_link": JoinLink.objects.filter(cohort=cohort).first(),
        **extra,
    }


@require_GET
@instructor_required
def cohort_detail(request: HttpRequest, cohort_uuid) -> HttpResponse:
    cohort = get_object_or_404(_owned_cohorts(request), uuid=cohort_uuid)
    return render_htmx(
        request,
        "teach/cohort_detail.html",
        "teach/_members_partial.html",
        _members_context(cohort),
        page_context=lambda: {
            "assignments": list(cohort.assignments.select_related("exam")),
            "stats_url": reverse("teach:cohort_stats", args=[cohort.uuid]),
            "now": timezone.now(),
        },
    )


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
@vary_on_htmx
def cohort_members_add(request: HttpRequest, cohort_uuid) -> HttpResponse:
    cohort = get_object_or_404(_owned_cohorts(request), uuid=cohort_uuid)
    form = AddMembersForm(request.POST)
    if not form.is_valid():
        # The form shows its own error; htmx gets no second copy above the table.
        return _members_response(
            request, cohort, add_form=form, error=None if request.htmx else message_of(form)
        )
    try:
        result = authoring.cohort_add_members(
            cohort=cohort, usernames=form.cleaned_data["usernames"]
        )
    except ValidationError as exc:
        form.add_error("usernames", exc)
        return _members_response(
            request, cohort, add_form=form, error=None if request.htmx else message(exc)
        )
    # One answer for an unknown name, an instructor and an inactive account alike.
    return _members_response(
        request,
        cohort,
        notice=f"{len(result.added)} added; {result.not_added} could not be added.",
    )


@require_POST
@instructor_required
@vary_on_htmx
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
@vary_on_htmx
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
        return _members_response(request, cohort, error=message(exc))
    return _members_response(request, cohort, notice=f"Saved accommodations for {member.username}.")


def message_of(form) -> str:
    return " ".join(str(e) for errors in form.errors.values() for e in errors)


@require_POST
@instructor_required
@vary_on_htmx
def cohort_invite(request: HttpRequest, cohort_uuid) -> HttpResponse:
    """Invite by email, one or a list; a bad line refuses the whole list, naming the line."""
    cohort = get_object_or_404(_owned_cohorts(request), uuid=cohort_uuid)
    form = InviteForm(request.POST, request.FILES)
    if not form.is_valid():
        return _members_response(
            request,
            cohort,
            invite_form=form,
            error="Nobody was invited: fix the list below."
            if request.htmx
            else f"Nobody was invited. {message_of(form)}",
        )
    count = accounts_services.invitations_create(
        cohort=cohort,
        invited_by=request.user,
        invitees=form.cleaned_data["invitees"],
        base_url=site_url(request),
        now=timezone.now(),
    )
    # One count for new and existing accounts alike (no page says whether an account exists).
    people = "person" if count == 1 else "people"
    return _members_response(
        request, cohort, notice=f"{count} {people} invited or enrolled: each gets an email."
    )


@require_POST
@instructor_required
@vary_on_htmx
def cohort_join_link(request: HttpRequest, cohort_uuid) -> HttpResponse:
    cohort = get_object_or_404(_owned_cohorts(request), uuid=cohort_uuid)
    form = JoinLinkForm(request.POST)
    if not form.is_valid():
        return _members_response(request, cohort, error="Choose turn on, turn off or new code.")
    action = form.cleaned_data["action"]
    accounts_services.join_link_set(cohort=cohort, action=action, now=timezone.now())
    notice = {
        "enable": "The join link is on.",
        "disable": "The join link is off: it no longer lets anyone join.",
        "regenerate": "A new join link is on; the old one no longer works.",
    }[action]
    return _members_response(request, cohort, notice=notice)


# Assignments -----------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@instructor_required
def assignment_create(request: HttpRequest) -> HttpResponse:
    initial: dict = {"max_attempts": 1}
    if request.method == "GET":
        # Links from an exam or cohort page preselect it; someone else's uuid is a 404.
        if request.GET.get("exam"):
            initial["exam"] = get_object_or_404(
                Exam.objects.filter(owner=request.user), uuid=uuid_or_404(request.GET["exam"])
            )
        if request.GET.get("cohort"):
            initial["cohort"] = get_object_or_404(
                _owned_cohorts(request), uuid=uuid_or_404(request.GET["cohort"])
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
            add_errors(form, exc)
        else:
            messages.success(
                request, f"Assigned “{assignment.exam.title}” to {assignment.cohort.name}."
            )
            return redirect("teach:cohort_detail", assignment.cohort.uuid)
    return render(request, "teach/assignment_create.html", {"form": form})
