"""The gradebook of one exam: one row per examinee, one column per attempt; CSV and XLSX."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.text import slugify
from django.views.decorators.http import require_GET

from accounts.decorators import instructor_required
from analytics import gradebook as grades
from exams.models import Cohort, Exam
from exams.timezones import in_user_zone
from teach.views.common import uuid_or_404

PAGE_SIZE = 50
EXPORTS = {"csv", "xlsx"}


def _scope(request: HttpRequest, exam_uuid):
    """The exam, the owner's cohorts it is assigned to (the filter's choices) and the one
    chosen; a cohort that is not among them is a 404."""
    exam = get_object_or_404(Exam.objects.filter(owner=request.user), uuid=exam_uuid)
    cohorts = list(
        Cohort.objects.filter(owner=request.user, assignments__exam=exam)
        .distinct()
        .order_by("name")
    )
    cohort = None
    if request.GET.get("cohort"):
        wanted = uuid_or_404(request.GET["cohort"])
        cohort = next((c for c in cohorts if c.uuid == wanted), None)
        if cohort is None:
            raise Http404("No such cohort for this exam.")
    return exam, cohort, cohorts


@require_GET
@instructor_required
@in_user_zone
def gradebook(request: HttpRequest, exam_uuid) -> HttpResponse:
    exam, cohort, cohorts = _scope(request, exam_uuid)
    text = request.GET.get("q", "").strip()[:100]
    users = grades.examinees(exam=exam, cohort=cohort, text=text)
    export = request.GET.get("export")
    if export in EXPORTS:
        book = grades.gradebook(exam=exam, cohort=cohort, users=list(users))
        header, rows = grades.table(book)
        name = slugify(f"{exam.title} {cohort.name if cohort else ''} gradebook") or "gradebook"
        return grades.table_response(
            export, filename=name, header=header, rows=rows, title="Gradebook"
        )
    page = Paginator(users, PAGE_SIZE).get_page(request.GET.get("page"))
    book = grades.gradebook(exam=exam, cohort=cohort, users=list(page.object_list))
    query = request.GET.copy()
    query.pop("page", None)
    query.pop("export", None)
    return render(
        request,
        "teach/gradebook.html",
        {
            "exam": exam,
            "cohort": cohort,
            "book": book,
            "page": page,
            "text": text,
            "query": query.urlencode(),
            "cohorts": cohorts,
            "attempt_numbers": range(1, book.attempt_columns + 1),
        },
    )
