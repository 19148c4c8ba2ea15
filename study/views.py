"""The student's study pages: due cards, the deck export, the notebook and the plan.

Every page shows the signed-in user's own data only; a card or an item of someone else is a
404. Keys go through exams/exposure.py (in study/cards.py and study/notebook.py).
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseForbidden
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from exams.models import Cohort, Response
from study import anki, cards, notebook, plan, selectors
from study.forms import AnswerForm, ExportForm, NoteForm, PlanForm, RateForm
from study.models import StudyPlan


@require_GET
@login_required
def home(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    # Insert-only and idempotent: the cards of blocks closed since the last visit.
    cards.cards_collect(user=request.user, now=now)
    visible = list(cards.visible_cards(user=request.user, now=now).select_related("question__bank"))
    return render(
        request,
        "study/home.html",
        {
            "cards": visible,
            "due_count": sum(1 for c in visible if c.due_at <= now),
            "now": now,
        },
    )


@require_GET
@login_required
def review(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    # As on the study home: the home page's next step links here, counting the misses of blocks
    # closed since the last visit, so the queue must hold them too.
    cards.cards_collect(user=request.user, now=now)
    card = (
        cards.due_cards(user=request.user, now=now)
        .select_related("question__current_version", "question__item_set")
        .first()
    )
    due_count = cards.due_cards(user=request.user, now=now).count()
    return render(request, "study/review.html", {"card": card, "due_count": due_count})


@require_POST
@login_required
def card_answer(request: HttpRequest, card_uuid) -> HttpResponse:
    now = timezone.now()
    card = cards.owned_visible_card(user=request.user, card_uuid=card_uuid, now=now)
    form = AnswerForm(request.POST)
    version = card.question.current_version
    if (
        not form.is_valid()
        or version is None
        or form.cleaned_data["choice"] >= len(version.options)
    ):
        return render(
            request,
            "study/review.html",
            {"card": card, "error": "choice: pick one of the options."},
            status=400,
        )
    choice = form.cleaned_data["choice"]
    options = [
        {
            "letter": chr(65 + i),
            "text": o["text"],
            "explanation": o.get("explanation", ""),
            "is_key": i == version.key_index,
            "is_choice": i == choice,
        }
        for i, o in enumerate(version.options)
    ]
    return render(
        request,
        "study/answer.html",
        {"card": card, "version": version, "choice": choice, "options": options},
    )


@require_POST
@login_required
def card_rate(request: HttpRequest, card_uuid) -> HttpResponse:
    now = timezone.now()
    card = cards.owned_visible_card(user=request.user, card_uuid=card_uuid, now=now)
    form = RateForm(request.POST)
    if not form.is_valid():
        return HttpResponse("rating: choose Again, Hard, Good or Easy.", status=400)
    cards.card_review(
        card=card,
        rating=form.cleaned_data["rating"],
        choice=form.cleaned_data["choice"],
        now=now,
    )
    return redirect("study:review")


@require_POST
@login_required
def card_add(request: HttpRequest, attempt_uuid, number: int, position: int) -> HttpResponse:
    response = get_object_or_404(
        Response.objects.select_related("question"),
        attempt__uuid=attempt_uuid,
        attempt__user=request.user,
        block__number=number,
        position=position,
    )
    try:
        cards.card_add(user=request.user, question=response.question, now=timezone.now())
    except cards.CardError as e:
        return HttpResponse(str(e), status=409)
    messages.success(request, "Added to your review cards.")
    return redirect(_review_url(attempt_uuid, number, position))


def _review_url(attempt_uuid, number: int, position: int) -> str:
    return reverse("analytics:block_review", args=[attempt_uuid, number]) + f"?item={position}"


@require_POST
@login_required
def anki_export(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    owned = cards.visible_cards(user=request.user, now=now).values_list("uuid", flat=True)
    form = ExportForm(request.POST, card_uuids=list(owned))
    if not form.is_valid():
        return HttpResponse("cards: choose among your own cards.", status=400)
    data = anki.anki_package(user=request.user, now=now, card_uuids=form.cleaned_data["cards"])
    response = HttpResponse(data, content_type="application/apkg")
    response["Content-Disposition"] = 'attachment; filename="mockboard-review.apkg"'
    return response


@require_GET
@login_required
def notebook_page(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "")[:200]
    entries = notebook.notebook_entries(user=request.user, now=timezone.now(), query=query)
    return render(request, "study/notebook.html", {"entries": entries, "query": query})


@require_GET
@login_required
def notebook_markdown(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "")[:200]
    text = notebook.notebook_markdown(
        user=request.user,
        now=timezone.now(),
        query=query,
        base_url=request.build_absolute_uri("/").rstrip("/"),
    )
    response = HttpResponse(text, content_type="text/markdown; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="mockboard-notebook.md"'
    return response


@require_POST
@login_required
def note_save(request: HttpRequest, attempt_uuid, number: int, position: int) -> HttpResponse:
    form = NoteForm(request.POST)
    if not form.is_valid():
        return HttpResponse("note: at most 5000 characters.", status=400)
    try:
        notebook.note_save(
            user=request.user,
            attempt_uuid=attempt_uuid,
            block_number=number,
            position=position,
            text=form.cleaned_data["note"],
            now=timezone.now(),
        )
    except notebook.NoteError as e:
        return HttpResponse(str(e), status=409)
    messages.success(request, "Note saved to your notebook.")
    return redirect(_review_url(attempt_uuid, number, position))


@require_http_methods(["GET", "POST"])
@login_required
def plan_page(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    current = StudyPlan.objects.filter(user=request.user).first()
    if request.method == "POST":
        form = PlanForm(request.POST)
        if form.is_valid():
            try:
                plan.plan_set(
                    user=request.user,
                    test_date=form.cleaned_data["test_date"],
                    hours_per_day=form.cleaned_data["hours_per_day"],
                    now=now,
                )
            except plan.PlanError as e:
                form.add_error("test_date" if "date" in str(e) else "hours_per_day", str(e))
            else:
                return redirect("study:plan")
        status_code = 400
    else:
        initial = (
            {"test_date": current.test_date, "hours_per_day": current.hours_per_day}
            if current
            else {}
        )
        form = PlanForm(initial=initial)
        status_code = 200
    status = plan.plan_status(plan=current, now=now) if current else None
    return render(request, "study/plan.html", {"form": form, "status": status}, status=status_code)


@require_GET
@login_required
def plan_ics(request: HttpRequest) -> HttpResponse:
    current = StudyPlan.objects.filter(user=request.user).first()
    if current is None:
        return redirect("study:plan")
    response = HttpResponse(
        plan.plan_ics(plan=current, now=timezone.now()), content_type="text/calendar"
    )
    response["Content-Disposition"] = 'attachment; filename="mockboard-plan.ics"'
    return response


@require_GET
@login_required
def cohort_study(request: HttpRequest, cohort_uuid) -> HttpResponse:
    """An instructor's view of a cohort's study: counts only, never a card or a note."""
    if not request.user.is_instructor:
        return HttpResponseForbidden("Instructors only.")
    cohort = Cohort.objects.filter(uuid=cohort_uuid, owner=request.user).first()
    if cohort is None:
        raise Http404("No such cohort.")
    summary = selectors.cohort_summary(cohort=cohort, now=timezone.now())
    return render(request, "study/cohort.html", {"cohort": cohort, "summary": summary})
