"""The examinee's own analytics: review of closed blocks, the score report, progress over time.

Every page is for the attempt's owner only; anyone else, instructors included, gets a 404 so an
attempt's existence is not revealed either.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from analytics import charts, selectors
from analytics.forms import ReviewQueryForm
from config.htmx import render_htmx
from exams import exposure
from questions.models import Tag

KIND_TITLES = {
    Tag.Kind.DISCIPLINE: "Discipline",
    Tag.Kind.SYSTEM: "System",
    Tag.Kind.TASK: "Physician task",
}


@require_GET
@login_required
def attempt_review(request: HttpRequest, attempt_uuid) -> HttpResponse:
    attempt = selectors.owned_attempt(user=request.user, attempt_uuid=attempt_uuid)
    summaries = selectors.block_summaries(attempt=attempt)
    return render(
        request,
        "analytics/attempt_review.html",
        {
            "attempt": attempt,
            "summaries": summaries,
            "is_tutor": selectors.is_tutor(attempt),
            "exam_url": reverse("exams:attempt", args=[attempt.uuid]),
        },
    )


@require_GET
@login_required
def block_review(request: HttpRequest, attempt_uuid, number: int) -> HttpResponse:
    attempt = selectors.owned_attempt(user=request.user, attempt_uuid=attempt_uuid)
    block = get_object_or_404(attempt.blocks, number=number)
    if not selectors.block_is_reviewable(attempt, block):
        raise Http404("This block is not open for review.")
    requested, which = ReviewQueryForm(request.GET).cleaned()
    items = selectors.review_items(attempt=attempt, block=block, now=timezone.now())
    shown = [item for item in items if item.matches(which)]
    current = next((i for i in shown if i.number == requested), shown[0] if shown else None)
    if requested is not None and current is None:
        current = next((i for i in items if i.number == requested), None)
    previous_item = following_item = None
    if current is not None and current in shown:
        index = shown.index(current)
        previous_item = shown[index - 1] if index > 0 else None
        following_item = shown[index + 1] if index + 1 < len(shown) else None
    context = {
        "attempt": attempt,
        "attempt_block": block,
        "items": items,
        "shown_numbers": {item.number for item in shown},
        "current": current,
        "previous_item": previous_item,
        "following_item": following_item,
        "filter": which,
        "filter_links": [
            (f, sum(1 for i in items if i.matches(f))) for f in selectors.REVIEW_FILTERS
        ],
        "exam_url": reverse("exams:attempt", args=[attempt.uuid]),
        "withheld_note": exposure.HIDDEN_NOTE,
    }
    return render_htmx(
        request, "analytics/block_review.html", "analytics/_review_panel.html", context
    )


def _profile_rows(areas: list[selectors.Area]) -> list[tuple[str, float, float, float]]:
    return [(a.name, round(a.percent, 1), round(a.low, 1), round(a.high, 1)) for a in areas]


@require_GET
@login_required
def score_report(request: HttpRequest, attempt_uuid) -> HttpResponse:
    attempt = selectors.owned_attempt(user=request.user, attempt_uuid=attempt_uuid)
    report = selectors.score_report(attempt=attempt)
    overall = round(report.percent, 1)
    profiles = [
        {
            "kind": kind,
            "title": KIND_TITLES[kind],
            "areas": report.areas[kind],
            "chart": charts.bar_chart(
                title=f"Percent correct by {KIND_TITLES[kind].lower()}",
                rows=_profile_rows(report.areas[kind]),
                reference=overall,
                reference_label="Overall",
            ),
        }
        for kind in selectors.PROFILE_KINDS
        if report.areas[kind]
    ]
    peer_chart = None
    if report.standing and report.standing.percentile is not None:
        peer_chart = charts.histogram(
            title="Percent correct of peers who took this exam",
            values=report.standing.peer_percents,
            bins=10,
            marker=overall,
            marker_label="You",
        )
    return render(
        request,
        "analytics/score_report.html",
        {
            "attempt": attempt,
            "report": report,
            "overall": overall,
            "interval": tuple(round(x, 1) for x in report.interval),
            "profiles": profiles,
            "peer_chart": peer_chart,
            "weak_systems": [a for a in report.weakest if a.kind == Tag.Kind.SYSTEM],
            "weak_disciplines": [a for a in report.weakest if a.kind == Tag.Kind.DISCIPLINE],
            "time_pressure_seconds": selectors.TIME_PRESSURE_SECONDS_LEFT,
            "rushed_seconds": selectors.RUSHED_ITEM_SECONDS,
            "band_percent": 90,
        },
    )


@require_GET
@login_required
def progress(request: HttpRequest) -> HttpResponse:
    data = selectors.progress(user=request.user)
    overall = round(data.percent, 1)
    trend = charts.line_chart(
        title="Percent correct over your finished exams",
        points=[
            (p.attempt.finished_at.strftime("%d %b"), round(p.percent, 1)) for p in data.points
        ],
        reference=overall if data.points else None,
        reference_label=f"All exams {overall}%",
    )
    profiles = [
        {
            "kind": kind,
            "title": KIND_TITLES[kind],
            "areas": data.areas[kind],
            "chart": charts.bar_chart(
                title=f"Percent correct by {KIND_TITLES[kind].lower()}, all finished exams",
                rows=_profile_rows(data.areas[kind]),
                reference=overall,
            ),
        }
        for kind in selectors.PROFILE_KINDS
        if data.areas[kind]
    ]
    return render(
        request,
        "analytics/progress.html",
        {"progress": data, "overall": overall, "trend": trend, "profiles": profiles},
    )
