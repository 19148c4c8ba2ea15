"""The instructor's dashboard: banks, exams, cohorts and recent imports at a glance."""

from __future__ import annotations

from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from accounts.decorators import instructor_required
from exams.models import Cohort, Exam
from questions import selectors


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
        "teach/instructor_home.html",
        {
            "banks": banks,
            "exams": exams,
            "cohorts": cohorts,
            "jobs": list(selectors.recent_import_jobs(user)),
            "question_total": sum(b.active_count for b in banks),
        },
    )
