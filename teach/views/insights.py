"""Insights: item and test statistics per exam, bank and cohort, and their CSV exports.

The numbers come from analytics.insights; these views only pick the rows and render them.
"""

from uuid import UUID

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.text import slugify
from django.views.decorators.http import require_GET

from accounts.decorators import instructor_required
from analytics import charts, insights
from analytics.gradebook import table_response
from exams.models import Cohort, Exam
from questions.models import Bank

HISTOGRAM_BINS = 10
TABLE_PAGE_SIZE = 50


def _query_without(request: HttpRequest, name: str) -> str:
    query = request.GET.copy()
    query.pop(name, None)
    return query.urlencode()


def _score_histogram(values: list[float], title: str) -> str:
    return charts.histogram(
        title=title,
        values=values,
        bins=HISTOGRAM_BINS,
        value_range=(0, 100),
        unit="%",
    )


def _sort_links(request: HttpRequest, param: str, current: str, names) -> dict[str, dict]:
    """Header links for server-side sorting: a second click on a column reverses it."""
    links = {}
    for name in names:
        query = request.GET.copy()
        query[param] = f"-{name}" if current == name else name
        state = (
            "ascending" if current == name else "descending" if current == f"-{name}" else "none"
        )
        links[name] = {"href": f"?{query.urlencode()}", "state": state}
    return links


def _item_analysis(request: HttpRequest, matrix) -> dict:
    """The item analysis part shared by the exam, bank and cohort pages: statistics, the test
    table and the item rows sorted by `?sort=`."""
    analysis = insights.analyse(matrix)
    items = insights.item_rows(matrix, analysis)
    item_sort = insights.sort_rows(items, request.GET.get("sort", ""), insights.ITEM_SORTS, "item")
    text = request.GET.get("iq", "").strip()[:100].lower()
    if text:
        items = [i for i in items if text in i["stem"].lower() or text in i["label"].lower()]
    flagged_only = request.GET.get("flagged") == "1"
    if flagged_only:
        items = [i for i in items if i["badges"] and insights.FLAG_TOO_FEW not in i["flags"]]
    page = Paginator(items, TABLE_PAGE_SIZE).get_page(request.GET.get("ipage"))
    return {
        "analysis": analysis,
        "tests": insights.test_rows(analysis),
        "items": list(page.object_list),
        "items_page": page,
        "items_query": _query_without(request, "ipage"),
        "item_text": text,
        "flagged_only": flagged_only,
        "min_flag_sample": insights.MIN_FLAG_SAMPLE,
        "item_sorts": _sort_links(request, "sort", item_sort, insights.ITEM_SORTS),
    }


@require_GET
@instructor_required
def exam_stats(request: HttpRequest, uuid: UUID) -> HttpResponse:
    exam = get_object_or_404(
        Exam.objects.select_related("blueprint"), uuid=uuid, owner=request.user
    )
    matrix = insights.exam_matrix(exam)
    attempts = insights.attempt_rows(matrix, insights.exam_attempts(exam))
    attempt_sort = insights.sort_rows(
        attempts, request.GET.get("asort", ""), insights.ATTEMPT_SORTS, "date"
    )
    attempts_page = Paginator(attempts, TABLE_PAGE_SIZE).get_page(request.GET.get("apage"))
    return render(
        request,
        "teach/insights/exam_stats.html",
        {
            "exam": exam,
            **_item_analysis(request, matrix),
            "attempts": list(attempts_page.object_list),
            "attempts_page": attempts_page,
            "attempts_query": _query_without(request, "apage"),
            "attempt_sorts": _sort_links(request, "asort", attempt_sort, insights.ATTEMPT_SORTS),
            "histogram": _score_histogram(
                insights.score_percents(matrix), f"Score distribution, {exam.title}"
            ),
        },
    )


def _percent_cell(value: float | None) -> str:
    return "" if value is None else f"{100 * value:.2f}"


def _csv_response(filename: str, header: list[str], rows) -> HttpResponse:
    return _export("csv", filename.removesuffix(".csv"), header, rows, title="Export")


def _export(fmt: str, filename: str, header: list[str], rows, *, title: str) -> HttpResponse:
    return table_response(fmt, filename=filename, header=header, rows=rows, title=title)


ITEM_HEADER = [
    "item",
    "question_uuid",
    "attempts",
    "facility_pct",
    "sd_pct",
    "random_guess_score_pct",
    "intended_weight_pct",
    "effective_weight_pct",
    "discrimination_index_pct",
    "discriminative_efficiency_pct",
    "flags",
]


def _items_export(matrix, fmt: str, name: str) -> HttpResponse:
    """The whole item table (every page, every item) of an analysis."""
    items = insights.item_rows(matrix, insights.analyse(matrix), with_distractors=False)
    insights.sort_rows(items, "item", insights.ITEM_SORTS, "item")
    return _export(
        fmt,
        f"{slugify(name) or 'statistics'}-items",
        ITEM_HEADER,
        (
            [
                item["label"],
                item["uuid"],
                item["attempts"],
                _percent_cell(item["facility"]),
                _percent_cell(item["sd"]),
                _percent_cell(item["random_guess_score"]),
                _percent_cell(item["intended_weight"]),
                _percent_cell(item["effective_weight"]),
                _percent_cell(item["discrimination_index"]),
                _percent_cell(item["discriminative_efficiency"]),
                " ".join(item["flags"]),
            ]
            for item in items
        ),
        title="Items",
    )


@require_GET
@instructor_required
def exam_items_csv(request: HttpRequest, uuid: UUID, fmt: str = "csv") -> HttpResponse:
    exam = get_object_or_404(Exam, uuid=uuid, owner=request.user)
    return _items_export(insights.exam_matrix(exam), fmt, exam.title)


@require_GET
@instructor_required
def bank_items_export(request: HttpRequest, uuid: UUID, fmt: str) -> HttpResponse:
    bank = get_object_or_404(Bank, uuid=uuid, owners=request.user)
    return _items_export(insights.bank_matrix(bank), fmt, bank.name)


@require_GET
@instructor_required
def cohort_items_export(request: HttpRequest, uuid: UUID, fmt: str) -> HttpResponse:
    cohort = get_object_or_404(Cohort, uuid=uuid, owner=request.user)
    return _items_export(insights.cohort_matrix(cohort), fmt, cohort.name)


@require_GET
@instructor_required
def exam_attempts_csv(request: HttpRequest, uuid: UUID, fmt: str = "csv") -> HttpResponse:
    exam = get_object_or_404(Exam, uuid=uuid, owner=request.user)
    matrix = insights.exam_matrix(exam)
    attempts = insights.attempt_rows(matrix, insights.exam_attempts(exam))
    insights.sort_rows(attempts, "date", insights.ATTEMPT_SORTS, "date")
    return _export(
        fmt,
        f"{slugify(exam.title) or 'exam'}-attempts",
        [
            "examinee",
            "username",
            "started_at",
            "finished_at",
            "correct",
            "items",
            "percent",
            "minutes",
        ],
        (
            [
                row["examinee"],
                row["username"],
                row["started_at"].isoformat(),
                row["finished_at"].isoformat() if row["finished_at"] else "",
                row["correct"],
                row["items"],
                f"{row['percent']:.2f}",
                f"{row['minutes']:.1f}",
            ]
            for row in attempts
        ),
        title="Attempts",
    )


@require_GET
@instructor_required
def bank_stats(request: HttpRequest, uuid: UUID) -> HttpResponse:
    bank = get_object_or_404(Bank, uuid=uuid, owners=request.user)
    matrix = insights.bank_matrix(bank)
    return render(
        request,
        "teach/insights/bank_stats.html",
        {
            "bank": bank,
            **_item_analysis(request, matrix),
        },
    )


@require_GET
@instructor_required
def cohort_stats(request: HttpRequest, uuid: UUID) -> HttpResponse:
    cohort = get_object_or_404(Cohort, uuid=uuid, owner=request.user)
    matrix = insights.cohort_matrix(cohort)
    return render(
        request,
        "teach/insights/cohort_stats.html",
        {
            "cohort": cohort,
            "areas": insights.cohort_area_table(cohort),
            **_item_analysis(request, matrix),
        },
    )
