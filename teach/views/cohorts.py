"""Cohorts: members, their accommodations, and assigning exams to a cohort."""

from __future__ import annotations

import zoneinfo
from datetime import timedelta
from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, F, Q
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
from exams.models import Assignment, AssignmentOverride, Cohort, Exam
from exams.timezones import cohort_zone
from teach.forms import (
    AccommodationForm,
    AddMembersForm,
    AssignmentEditForm,
    AssignmentForm,
    CohortEditForm,
    CohortForm,
    InviteForm,
    JoinLinkForm,
    MemberForm,
    OverrideForm,
)
from teach.views.common import add_errors, message, uuid_or_404


def _owned_cohorts(request: HttpRequest):
    return Cohort.objects.filter(owner=request.user)


COHORT_SORTS = {"name": "name", "members": "member_count", "created": "created_at"}
PAGE_SIZE = 50


@require_GET
@instructor_required
def cohort_list(request: HttpRequest) -> HttpResponse:
    """The owner's cohorts: filtered by name, current or archived, sorted, paginated, and
    exported whole as CSV or XLSX."""
    from analytics.gradebook import table_response

    show_archived = request.GET.get("archived") == "1"
    text = request.GET.get("q", "").strip()[:100]
    cohorts = _owned_cohorts(request).filter(archived_at__isnull=not show_archived)
    if text:
        cohorts = cohorts.filter(name__icontains=text)
    sort = request.GET.get("sort", "name")
    if sort.removeprefix("-") not in COHORT_SORTS:
        sort = "name"
    field = COHORT_SORTS[sort.removeprefix("-")]
    cohorts = cohorts.annotate(
        member_count=Count("members", distinct=True),
        assignment_count=Count("assignments", distinct=True),
    ).order_by(f"-{field}" if sort.startswith("-") else field, "pk")
    export = request.GET.get("export")
    if export in ("csv", "xlsx"):
        header = ["Cohort", "Members", "Assignments", "Created (UTC)"]
        rows = [
            [c.name, c.member_count, c.assignment_count, c.created_at.strftime("%Y-%m-%d %H:%M")]
            for c in cohorts
        ]
        return table_response(export, filename="cohorts", header=header, rows=rows, title="Cohorts")
    page = Paginator(cohorts, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    sort_links = {}
    for name in COHORT_SORTS:
        q = request.GET.copy()
        q.pop("page", None)
        q["sort"] = f"-{name}" if sort == name else name
        sort_links[name] = f"?{q.urlencode()}"
    return render(
        request,
        "teach/cohort_list.html",
        {
            "cohorts": list(page.object_list),
            "page": page,
            "query": query.urlencode(),
            "text": text,
            "show_archived": show_archived,
            "sort_links": sort_links,
        },
    )


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


MEMBER_PAGE_SIZE = 50


def _members_context(cohort: Cohort, *, params=None, **extra) -> dict:
    """The members and invitations tables, each one page of 50 and filtered by name or email
    (`mq`), and the forms under them. `params` is the request's query (none after a POST: the
    first page, unfiltered)."""
    params = params if params is not None else {}
    text = params.get("mq", "").strip()[:100]
    members = (
        get_user_model()
        .objects.filter(membership__cohort=cohort)
        # Each member with this cohort's accommodations (the filter's join carries them).
        .annotate(
            time_multiplier=F("membership__time_multiplier"),
            extra_break_minutes=F("membership__extra_break_minutes"),
        )
        .order_by("username")
    )
    invitations = cohort.invitations.order_by("email")
    if text:
        members = members.filter(
            Q(username__icontains=text)
            | Q(first_name__icontains=text)
            | Q(last_name__icontains=text)
            | Q(email__icontains=text)
        )
        invitations = invitations.filter(Q(email__icontains=text) | Q(name__icontains=text))
    member_page = Paginator(members, MEMBER_PAGE_SIZE).get_page(params.get("page"))
    invitation_page = Paginator(invitations, MEMBER_PAGE_SIZE).get_page(params.get("ipage"))
    now = timezone.now()
    invitation_rows = list(invitation_page.object_list)
    for invitation in invitation_rows:
        invitation.current_status = invitation.status(now)
    query = {k: v for k, v in params.items() if k == "mq" and v}
    return {
        "cohort": cohort,
        "members": list(member_page.object_list),
        "member_page": member_page,
        "member_text": text,
        "member_query": urlencode(
            {**query, **({"ipage": params["ipage"]} if params.get("ipage") else {})}
        ),
        "add_form": extra.pop("add_form", None) or AddMembersForm(),
        "invite_form": extra.pop("invite_form", None) or InviteForm(),
        # Open and accepted invitations alike: which addresses had an account is never shown.
        "invitations": invitation_rows,
        "invitation_page": invitation_page,
        "invitation_query": urlencode(
            {**query, **({"page": params["page"]} if params.get("page") else {})}
        ),
        "invitation_days": settings.INVITATION_DAYS,
        "join_link": JoinLink.objects.filter(cohort=cohort).first(),
        **extra,
    }


@require_GET
@instructor_required
def cohort_detail(request: HttpRequest, cohort_uuid) -> HttpResponse:
    cohort = get_object_or_404(_owned_cohorts(request), uuid=cohort_uuid)
    zone = cohort_zone(cohort, request.user)
    # The cohort's windows and overrides are shown in its zone, as they were entered.
    with timezone.override(zone):
        return _cohort_page(request, cohort, zone)


def _cohort_page(request: HttpRequest, cohort: Cohort, zone) -> HttpResponse:
    return render_htmx(
        request,
        "teach/cohort_detail.html",
        "teach/_members_partial.html",
        _members_context(cohort, params=request.GET),
        page_context=lambda: {
            "assignments": list(
                cohort.assignments.select_related("exam").annotate(
                    attempt_count=Count("attempts", distinct=True)
                )
            ),
            "overrides": list(
                AssignmentOverride.objects.filter(assignment__cohort=cohort)
                .select_related("assignment__exam", "user")
                .order_by("assignment__exam__title", "user__username")
            ),
            "stats_url": reverse("teach:cohort_stats", args=[cohort.uuid]),
            "now": timezone.now(),
            "zone": zone,
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


@require_http_methods(["GET", "POST"])
@instructor_required
def cohort_member_edit(request: HttpRequest, cohort_uuid, user_id: int) -> HttpResponse:
    """One member's accommodations in this cohort, on a page of its own (the members table
    holds 200 people: a form per row would not fit)."""
    cohort = get_object_or_404(_owned_cohorts(request), uuid=cohort_uuid)
    membership = get_object_or_404(cohort.membership_set.select_related("user"), user_id=user_id)
    member = membership.user
    data = None
    if request.method == "POST":
        data = request.POST.copy()
        data["member"] = member.username
    form = AccommodationForm(
        data,
        cohort=cohort,
        initial={
            "member": member.username,
            "time_multiplier": membership.time_multiplier,
            "extra_break_minutes": membership.extra_break_minutes,
        },
    )
    # The member comes from the URL; the field only carries it to the form's checks.
    form.fields["member"].widget = forms.HiddenInput()
    if request.method == "POST" and form.is_valid():
        try:
            authoring.accommodation_set(
                cohort=cohort,
                member=member,
                time_multiplier=form.cleaned_data["time_multiplier"],
                extra_break_minutes=form.cleaned_data["extra_break_minutes"],
            )
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(request, f"Saved accommodations for {member.username}.")
            return redirect("teach:cohort_detail", cohort.uuid)
    return render(
        request,
        "teach/cohort_member.html",
        {"cohort": cohort, "member": member, "form": form},
    )


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
    cohort = None
    if request.method == "GET":
        # Links from an exam or cohort page preselect it; someone else's uuid is a 404.
        if request.GET.get("exam"):
            initial["exam"] = get_object_or_404(
                Exam.objects.filter(owner=request.user), uuid=uuid_or_404(request.GET["exam"])
            )
        if request.GET.get("cohort"):
            cohort = initial["cohort"] = get_object_or_404(
                _owned_cohorts(request), uuid=uuid_or_404(request.GET["cohort"])
            )
    else:
        try:
            cohort = _owned_cohorts(request).filter(uuid=request.POST.get("cohort", "")).first()
        except ValidationError:
            cohort = None
    # The window is entered in the cohort's zone (its own, else the instructor's).
    if cohort is not None:
        zone = cohort_zone(cohort, request.user)
    else:
        from exams.timezones import user_zone_name

        zone = zoneinfo.ZoneInfo(user_zone_name(request.user))
    with timezone.override(zone):
        if request.method == "GET":
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
        return render(request, "teach/assignment_create.html", {"form": form, "zone": zone})


# Editing, archiving and deleting ---------------------------------------------------------------


def _owned_assignments(request: HttpRequest):
    return Assignment.objects.filter(cohort__owner=request.user, exam__owner=request.user)


@require_http_methods(["GET", "POST"])
@instructor_required
def cohort_edit(request: HttpRequest, cohort_uuid) -> HttpResponse:
    cohort = get_object_or_404(_owned_cohorts(request), uuid=cohort_uuid)
    form = CohortEditForm(
        request.POST or None, initial={"name": cohort.name, "time_zone": cohort.time_zone}
    )
    if request.method == "POST" and form.is_valid():
        try:
            authoring.cohort_update(cohort=cohort, **form.cleaned_data)
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(request, "Saved.")
            return redirect("teach:cohort_detail", cohort.uuid)
    has_attempts = cohort.assignments.filter(attempts__isnull=False).exists()
    return render(
        request,
        "teach/cohort_edit.html",
        {"form": form, "cohort": cohort, "has_attempts": has_attempts},
    )


@require_POST
@instructor_required
def cohort_archive(request: HttpRequest, cohort_uuid) -> HttpResponse:
    cohort = get_object_or_404(_owned_cohorts(request), uuid=cohort_uuid)
    if request.POST.get("action") == "restore":
        authoring.cohort_restore(cohort=cohort)
        messages.success(request, f"Restored {cohort.name}.")
    else:
        authoring.cohort_archive(cohort=cohort, now=timezone.now())
        messages.success(
            request, f"Archived {cohort.name}: its members can start none of its exams."
        )
    return redirect("teach:cohort_detail", cohort.uuid)


@require_POST
@instructor_required
def cohort_delete(request: HttpRequest, cohort_uuid) -> HttpResponse:
    cohort = get_object_or_404(_owned_cohorts(request), uuid=cohort_uuid)
    try:
        authoring.cohort_delete(cohort=cohort)
    except ValidationError as exc:
        messages.error(request, message(exc))
        return redirect("teach:cohort_edit", cohort.uuid)
    messages.success(request, f"Deleted {cohort.name}.")
    return redirect("teach:cohort_list")


@require_http_methods(["GET", "POST"])
@instructor_required
def assignment_edit(request: HttpRequest, assignment_uuid) -> HttpResponse:
    assignment = get_object_or_404(
        _owned_assignments(request).select_related("exam", "cohort"), uuid=assignment_uuid
    )
    zone = cohort_zone(assignment.cohort, request.user)
    with timezone.override(zone):
        form = AssignmentEditForm(
            request.POST or None,
            initial={
                "opens_at": timezone.localtime(assignment.opens_at),
                "closes_at": timezone.localtime(assignment.closes_at),
                "max_attempts": assignment.max_attempts,
            },
        )
        if request.method == "POST" and form.is_valid():
            try:
                authoring.assignment_update(assignment=assignment, **form.cleaned_data)
            except ValidationError as exc:
                add_errors(form, exc)
            else:
                messages.success(request, "Saved. Attempts already started are not affected.")
                return redirect("teach:cohort_detail", assignment.cohort.uuid)
        return render(
            request,
            "teach/assignment_edit.html",
            {
                "form": form,
                "assignment": assignment,
                "zone": zone,
                "attempt_count": assignment.attempts.count(),
            },
        )


@require_POST
@instructor_required
def assignment_remove(request: HttpRequest, assignment_uuid) -> HttpResponse:
    """Close the window now (action=close) or delete an assignment nobody has sat."""
    assignment = get_object_or_404(
        _owned_assignments(request).select_related("cohort"), uuid=assignment_uuid
    )
    try:
        if request.POST.get("action") == "close":
            authoring.assignment_close(assignment=assignment, now=timezone.now())
            messages.success(request, "Closed: nobody can start it now.")
        else:
            authoring.assignment_delete(assignment=assignment)
            messages.success(request, "Assignment deleted.")
    except ValidationError as exc:
        messages.error(request, message(exc))
    return redirect("teach:cohort_detail", assignment.cohort.uuid)


@require_http_methods(["GET", "POST"])
@instructor_required
def assignment_override(request: HttpRequest, assignment_uuid) -> HttpResponse:
    """Set (or, with action=delete, remove) one examinee's override on an assignment."""
    assignment = get_object_or_404(
        _owned_assignments(request).select_related("exam", "cohort"), uuid=assignment_uuid
    )
    cohort = assignment.cohort
    zone = cohort_zone(cohort, request.user)
    with timezone.override(zone):
        initial = {}
        if request.method == "GET" and request.GET.get("member"):
            existing = assignment.overrides.filter(user__username=request.GET["member"]).first()
            initial["member"] = request.GET["member"]
            if existing is not None:
                initial.update(
                    closes_at=existing.closes_at and timezone.localtime(existing.closes_at),
                    extra_attempts=existing.extra_attempts,
                    extra_block_minutes=existing.extra_block_minutes,
                    extra_break_minutes=existing.extra_break_minutes,
                    reason=existing.reason,
                )
        form = OverrideForm(request.POST or None, cohort=cohort, initial=initial)
        if request.method == "POST" and request.POST.get("action") == "delete":
            override = get_object_or_404(
                assignment.overrides, user__username=request.POST.get("member", "")
            )
            authoring.override_delete(override=override)
            messages.success(request, f"Removed the override for {override.user.username}.")
            return redirect("teach:cohort_detail", cohort.uuid)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                authoring.override_set(
                    assignment=assignment,
                    member=data["member"],
                    closes_at=data["closes_at"],
                    extra_attempts=data["extra_attempts"],
                    extra_block_minutes=data["extra_block_minutes"],
                    extra_break_minutes=data["extra_break_minutes"],
                    reason=data["reason"],
                    now=timezone.now(),
                )
            except ValidationError as exc:
                add_errors(form, exc)
            else:
                messages.success(request, f"Saved the override for {data['member'].username}.")
                return redirect("teach:cohort_detail", cohort.uuid)
        return render(
            request,
            "teach/assignment_override.html",
            {"form": form, "assignment": assignment, "zone": zone},
        )
