"""Key fixes: see the scope of a new key (or a void), confirm it, watch the rescore."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from accounts.decorators import instructor_required
from analytics import rescore
from analytics.models import KeyChange
from config.htmx import render_htmx
from questions import selectors
from teach.forms import KeyFixForm


@require_http_methods(["GET", "POST"])
@instructor_required
def key_fix(request: HttpRequest, question_uuid) -> HttpResponse:
    """GET without a choice: the form. GET with one: the scope. POST: apply and go watch it."""
    question = selectors.question_for_owner(user=request.user, question_uuid=question_uuid)
    if question is None or question.current_version is None:
        raise Http404("No such question.")
    version = question.current_version
    data = (
        request.POST
        if request.method == "POST"
        else (request.GET if "choice" in request.GET else None)
    )
    form = KeyFixForm(data, version=version)
    scope = None
    if form.is_bound and form.is_valid():
        key_index = version.key_index if form.is_voided else form.key_index
        try:
            if request.method == "POST":
                based_on = form.cleaned_data["based_on"] or version.pk
                change = rescore.key_change_apply(
                    question=question,
                    key_index=key_index,
                    is_voided=form.is_voided,
                    based_on=question.versions.model.objects.get(pk=based_on, question=question),
                    actor=request.user,
                    now=timezone.now(),
                    reason=form.cleaned_data["reason"],
                )
                messages.success(request, "Rescore confirmed; the analytics are being rebuilt.")
                return redirect("teach:key_change", change_uuid=change.uuid)
            scope = rescore.key_change_scope(
                question=question, key_index=key_index, is_voided=form.is_voided
            )
            if (key_index, form.is_voided) == (version.key_index, version.is_voided):
                form.add_error("choice", "That is already how this question is scored.")
                scope = None
        except (ValidationError, question.versions.model.DoesNotExist) as exc:
            form.add_error(None, exc if isinstance(exc, ValidationError) else "Unknown version.")
    return render(
        request,
        "teach/key_fix.html",
        {
            "question": question,
            "version": version,
            "form": form,
            "scope": scope,
            "changes": list(KeyChange.objects.filter(question=question).select_related("actor")),
        },
        status=400 if request.method == "POST" else 200,
    )


@require_GET
@instructor_required
def key_change(request: HttpRequest, change_uuid) -> HttpResponse:
    change = get_object_or_404(
        KeyChange.objects.filter(question__bank__owners=request.user).select_related(
            "question__bank", "actor", "from_version", "to_version"
        ),
        uuid=change_uuid,
    )
    return render_htmx(
        request,
        "teach/key_change.html",
        "teach/_key_change_progress_partial.html",
        {"change": change, "question": change.question},
    )
