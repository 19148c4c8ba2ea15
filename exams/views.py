"""Exam delivery views. Each fetches the examinee's own attempt (404 for anyone else), applies
the server's clock, calls one service and renders, redirects or answers JSON for the save queue.

In timed and untimed mode nothing here ever puts an answer key, explanation or peer statistic
into a response for an open block; only tutor mode reveals them, item by item, once answered.
"""

from __future__ import annotations

import json
import zoneinfo
from functools import lru_cache
from pathlib import Path

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.html import strip_tags
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from config.compression import gzip_without_secrets
from config.htmx import render_htmx
from exams import access, answers, exposure, fragments, practice
from exams import clock as exam_clock
from exams.attempts import attempt_start
from exams.errors import BlockClosed, ExamError, NotFound
from exams.forms import PracticeForm, SaveForm
from exams.limits import rate_limited
from exams.models import Attempt, AttemptBlock, Exam, Response
from exams.timezones import in_user_zone
from questions.models import Tag
from study import selectors as study_selectors

LAB_VALUES_PATH = Path(__file__).resolve().parent / "data" / "lab_values.json"


def _own_attempt(request: HttpRequest, uuid) -> Attempt:
    return get_object_or_404(Attempt, uuid=uuid, user=request.user)


def _bad_position(request: HttpRequest, position: int) -> HttpResponse | None:
    """A 400 that says why for a position no block can have (the column is a smallint)."""
    if 1 <= position <= answers.MAX_POSITION:
        return None
    message = f"position must be from 1 to {answers.MAX_POSITION}"
    if request.method == "GET" and not request.headers.get("Accept", "").startswith(
        "application/json"
    ):
        return HttpResponse(message, status=400, content_type="text/plain; charset=utf-8")
    return JsonResponse(
        {"ok": False, "error": "invalid", "errors": {"position": [message]}}, status=400
    )


@require_GET
@login_required
@in_user_zone
def examinee_home(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    user = request.user
    exams = {
        e.id: e
        for e in Exam.objects.filter(is_public=True, archived_at__isnull=True).select_related(
            "blueprint"
        )
    }
    assignments: dict[int, access.Effective] = {}
    assigned = Exam.objects.filter(
        assignments__cohort__members=user, archived_at__isnull=True
    ).select_related("blueprint")
    for exam in assigned.distinct():
        effective = access.best_open(user=user, exam=exam, now=now)
        if effective is not None:
            exams[exam.id] = exam
            assignments[exam.id] = effective
    available = []
    for exam in sorted(exams.values(), key=lambda e: e.title):
        left = access.attempts_left(user=user, exam=exam, now=now)
        available.append(
            {
                "exam": exam,
                "assignment": assignments.get(exam.id),
                "attempts_left": left,
                "can_start": left is None or left > 0,
                "start_url": reverse("exams:exam_start", args=[exam.uuid]),
            }
        )
    attempts = list(Attempt.objects.filter(user=user).order_by("-started_at")[:50])
    for attempt in attempts:
        attempt.review_url = reverse("analytics:attempt_review", args=[attempt.uuid])
        attempt.report_url = reverse("analytics:score_report", args=[attempt.uuid])
    return render(
        request,
        "exams/home.html",
        {
            "available": available,
            "in_progress": [a for a in attempts if a.state != Attempt.State.FINISHED],
            "finished": [a for a in attempts if a.state == Attempt.State.FINISHED],
            "practice_url": reverse("exams:practice_new"),
            "next_step": study_selectors.next_step(user=user, now=now),
        },
    )


@require_POST
@login_required
def exam_start(request: HttpRequest, uuid) -> HttpResponse:
    exam = get_object_or_404(Exam, uuid=uuid)
    now = timezone.now()
    if not exam.is_public and not access.open_assignments(user=request.user, exam=exam, now=now):
        raise Http404("No such exam for you.")
    try:
        attempt = attempt_start(user=request.user, exam=exam, now=now)
    except ExamError as exc:
        messages.error(request, str(exc))
        return redirect("exams:examinee_home")
    return redirect(attempt)


@require_GET
@login_required
def attempt_detail(request: HttpRequest, uuid) -> HttpResponse:
    now = timezone.now()
    attempt = exam_clock.attempt_refresh(attempt=_own_attempt(request, uuid), now=now)
    if attempt.state == Attempt.State.IN_BLOCK:
        block = attempt.blocks.get(state=AttemptBlock.State.ACTIVE)
        if exam_clock.block_time_is_up(block=block, now=now):
            # Inside the grace: answers in flight may still land, but nothing more is shown.
            # The page reloads once the grace is over and the block has closed.
            return render(
                request,
                "exams/time_up.html",
                {
                    "attempt": attempt,
                    "block": block,
                    "reload_seconds": max(
                        1, int((block.deadline_at + exam_clock.grace() - now).total_seconds()) + 1
                    ),
                },
            )
        return redirect("exams:item", attempt.uuid, block.current_position)
    clock = exam_clock.clock_state(attempt=attempt, now=now)
    if attempt.state == Attempt.State.TUTORIAL:
        return render(
            request,
            "exams/tutorial.html",
            {
                "attempt": attempt,
                "clock": clock,
                "end_tutorial_url": reverse("exams:tutorial_end", args=[attempt.uuid]),
            },
        )
    summary = exam_clock.time_summary(attempt=attempt, now=now)
    if attempt.state == Attempt.State.BETWEEN_BLOCKS:
        return render(
            request,
            "exams/between_blocks.html",
            {
                "attempt": attempt,
                "clock": clock,
                "summary": summary,
                "start_block_url": reverse("exams:block_start", args=[attempt.uuid]),
                "next_block_number": attempt.block_count - summary["blocks_left"] + 1,
            },
        )
    return render(
        request,
        "exams/finished.html",
        {
            "attempt": attempt,
            "summary": summary,
            "review_url": reverse("analytics:attempt_review", args=[attempt.uuid]),
            "report_url": reverse("analytics:score_report", args=[attempt.uuid]),
        },
    )


@require_GET
@login_required
def clock(request: HttpRequest, uuid) -> JsonResponse:
    try:
        read = exam_clock.clock_read(attempt_uuid=uuid, user_id=request.user.pk, now=timezone.now())
    except NotFound:
        raise Http404("No such exam session.") from None
    return JsonResponse(read.state)


@require_POST
@login_required
def tutorial_end(request: HttpRequest, uuid) -> HttpResponse:
    attempt = exam_clock.tutorial_end(attempt=_own_attempt(request, uuid), now=timezone.now())
    return redirect(attempt)


@require_POST
@login_required
def block_start(request: HttpRequest, uuid) -> HttpResponse:
    try:
        attempt = exam_clock.block_start(attempt=_own_attempt(request, uuid), now=timezone.now())
    except ExamError as exc:
        messages.error(request, str(exc))
        return redirect("exams:attempt", uuid)
    block = attempt.blocks.filter(state=AttemptBlock.State.ACTIVE).only("current_position").first()
    if block is None:
        return redirect(attempt)
    # Straight to the block's first item: a whole cohort starts its next block in the same
    # seconds after a deadline, and the attempt page would only redirect here.
    return redirect("exams:item", attempt.uuid, block.current_position)


@require_http_methods(["GET", "POST"])
@login_required
def block_end(request: HttpRequest, uuid) -> HttpResponse:
    now = timezone.now()
    attempt = exam_clock.attempt_refresh(attempt=_own_attempt(request, uuid), now=now)
    if request.method == "POST":
        exam_clock.block_end(attempt=attempt, now=now)
        return redirect(attempt)
    block = attempt.blocks.filter(state=AttemptBlock.State.ACTIVE).first()
    if block is None:
        return redirect(attempt)
    rows = list(block.responses.order_by("position").values("position", "choice", "is_marked"))
    return render(
        request,
        "exams/block_end_confirm.html",
        {
            "attempt": attempt,
            "block": block,
            "attempt_block": block,
            "unanswered": [r["position"] for r in rows if r["choice"] is None],
            "marked": [r["position"] for r in rows if r["is_marked"]],
            "clock": exam_clock.clock_state(attempt=attempt, now=now, block=block),
        },
    )


@require_POST
@login_required
def exam_suspend(request: HttpRequest, uuid) -> HttpResponse:
    try:
        attempt = exam_clock.exam_suspend(attempt=_own_attempt(request, uuid), now=timezone.now())
    except ExamError as exc:
        messages.error(request, str(exc))
        return redirect("exams:attempt", uuid)
    if attempt.is_finished:
        return redirect(attempt)
    if attempt.day_deadline_at:
        until = timezone.localtime(attempt.day_deadline_at).strftime("%H:%M on %d %b %Y")
        messages.info(
            request,
            f"Exam suspended. The exam day's clock keeps running: time away is break time, "
            f"and the exam can be resumed until {until}, when blocks not taken close.",
        )
    else:
        messages.info(request, "Exam suspended. Resume it from My exams whenever you like.")
    return redirect("exams:examinee_home")


@require_http_methods(["GET", "POST"])
@login_required
def exam_end(request: HttpRequest, uuid) -> HttpResponse:
    now = timezone.now()
    attempt = exam_clock.attempt_refresh(attempt=_own_attempt(request, uuid), now=now)
    review_url = reverse("analytics:attempt_review", args=[attempt.uuid])
    if request.method == "POST":
        exam_clock.exam_end(attempt=attempt, now=now)
        return redirect(review_url)
    if attempt.is_finished:
        return redirect(review_url)
    blocks = list(attempt.blocks.exclude(state=AttemptBlock.State.CLOSED).order_by("number"))
    return render(
        request,
        "exams/exam_end_confirm.html",
        {
            "attempt": attempt,
            "open_block": next((b for b in blocks if b.state == AttemptBlock.State.ACTIVE), None),
            "not_taken": [b for b in blocks if b.state == AttemptBlock.State.PENDING],
            "items_per_block": attempt.responses.filter(block__number=1).count(),
        },
    )


def _item_context(
    *,
    attempt: Attempt,
    block: AttemptBlock,
    current: Response,
    nav_rows: list[tuple],
    now,
    set_size: int = 0,
    with_tutor: bool = True,
) -> dict:
    """What the item screen shows. `nav_rows` are (position, choice, is_marked, field_seqs)
    for the whole block: the navigator needs no more, so only `current` is a full row."""
    position = current.position
    version = current.version
    item_set = current.question.item_set
    item = {
        "position": position,
        "count": len(nav_rows),
        "stem_html": fragments.stem_html(version),
        "highlights": fragments.highlights_attr(current.highlights),
        "stimulus_html": item_set.stimulus_html if item_set else "",
        "set_kind": item_set.kind if item_set else "",
        "set_position": current.question.set_position if item_set else None,
        "set_size": set_size,
    }
    tutor = None
    tutor_withheld = (
        with_tutor
        and attempt.mode == Exam.Mode.TUTOR
        and current.choice is not None
        and current.is_locked
        # Not while another open block (a timed exam's, say) holds the same question.
        and not exposure.may_see_key(
            user=attempt.user_id, question_id=current.question_id, now=now, viewing_block=block
        )
    )
    if (
        with_tutor
        and attempt.mode == Exam.Mode.TUTOR
        and current.choice is not None
        and current.is_locked
        and not tutor_withheld
    ):
        stat = getattr(version, "statistic", None)
        shares = None
        if stat is not None and stat.responses:
            shares = [c / stat.responses for c in stat.option_counts]
        tutor = {
            "key_index": version.key_index,
            "key_letter": version.key_letter,
            "explanation_html": version.explanation_html,
            "objective_html": version.objective_html,
            "option_explanations": [o.get("explanation", "") for o in version.options],
            "option_shares": shares,
        }
    # The options come from the version's shared fragment; the key marks only in tutor mode.
    item["options_html"] = fragments.options_html(
        version=version,
        choice=current.choice,
        struck=current.struck,
        key_index=tutor["key_index"] if tutor else None,
    )
    # One reverse() for the whole navigator: a 40-item block would otherwise resolve 40 URLs
    # on every item view.
    item_base = reverse("exams:item", args=[attempt.uuid, 1])[: -len("1/")]
    count = len(nav_rows)
    return {
        "attempt": attempt,
        "block": block,
        # Inside a template's {% block %} tag Django's own `block` hides the variable above.
        "attempt_block": block,
        "mode": attempt.mode,
        "tutor": tutor,
        "tutor_withheld_note": exposure.HIDDEN_NOTE if tutor_withheld else "",
        "item": item,
        "response": current,
        "nav": [
            {
                "position": pos,
                "is_answered": choice is not None,
                "is_marked": is_marked,
                "is_current": pos == position,
                "url": f"{item_base}{pos}/",
            }
            for pos, choice, is_marked, _ in nav_rows
        ],
        "item_url": f"{item_base}{position}/",
        "prev_url": f"{item_base}{position - 1}/" if position > 1 else None,
        "next_url": f"{item_base}{position + 1}/" if position < count else None,
        "save_url": f"{item_base}{position}/save/",
        "visit_url": f"{item_base}{position}/visit/",
        "review_screen_url": reverse("exams:review_screen", args=[attempt.uuid]),
        "end_block_url": reverse("exams:block_end", args=[attempt.uuid]),
        "lab_values_url": reverse("exams:lab_values"),
        "clock": exam_clock.clock_state(
            attempt=attempt,
            now=now,
            block=block,
            last_seq=max((s for *_, seqs in nav_rows for s in seqs.values()), default=0),
        ),
    }


def _block_nav(block: AttemptBlock) -> list[tuple]:
    return list(
        Response.objects.filter(block=block)
        .order_by("position")
        .values_list("position", "choice", "is_marked", "field_seqs")
    )


def _block_items(block: AttemptBlock) -> list[Response]:
    """The whole block's rows, version, question and item set joined (never statistics, and
    none of the columns only the tutor's answer or the search read)."""
    return list(
        Response.objects.filter(block=block)
        .select_related("version", "question__item_set")
        .defer("version__search_vector", "version__explanation_html", "version__objective_html")
        .order_by("position")
    )


def _set_size(block: AttemptBlock, current: Response) -> int:
    if current.question.item_set_id is None:
        return 0
    return Response.objects.filter(
        block=block, question__item_set_id=current.question.item_set_id
    ).count()


@require_GET
@login_required
@gzip_without_secrets
def item(request: HttpRequest, uuid, position: int) -> HttpResponse:
    if bad := _bad_position(request, position):
        return bad
    now = timezone.now()
    try:
        # Finds the examinee's own attempt and locks it in one statement (404 for others).
        block = answers.item_visit_locked(
            attempt_uuid=uuid, user_id=request.user.pk, position=position, now=now
        )
    except NotFound:
        raise Http404("No such exam session.") from None
    except BlockClosed:
        return redirect("exams:attempt", uuid)
    except ExamError:
        raise Http404("No such item.") from None
    context = _item_context(
        attempt=block.attempt,
        block=block,
        current=block.current_response,
        nav_rows=_block_nav(block),
        now=now,
        set_size=_set_size(block, block.current_response),
    )
    # The fragment is shown by the script, which saves through the queue: its no-JavaScript
    # form needs no token, and without one the fragment may be compressed (config/compression.py).
    context["omit_form_token"] = bool(request.htmx)
    return render_htmx(request, "exams/item.html", "exams/_item_partial.html", context)


@require_POST
@login_required
@rate_limited
def visit(request: HttpRequest, uuid, position: int) -> JsonResponse:
    """The browser showed an item from its cache: record the move (time per item, the
    current item) and answer with the clock. The same service as the item page, without
    rendering it: moving between items is the most frequent request of a sitting cohort."""
    if bad := _bad_position(request, position):
        return bad
    now = timezone.now()
    try:
        done = answers.item_visit(
            attempt_uuid=uuid, user_id=request.user.pk, position=position, now=now
        )
    except NotFound:
        raise Http404("No such exam session.") from None
    except BlockClosed as exc:
        return JsonResponse({"ok": False, "error": exc.code, "message": str(exc)}, status=409)
    except ExamError as exc:
        return JsonResponse({"ok": False, "error": exc.code, "message": str(exc)}, status=400)
    return JsonResponse(
        {
            "ok": True,
            "position": position,
            "is_locked": done.is_locked,
            # The attempt's last seq is a floor here (it may lag by ACTIVITY_RESOLUTION); a
            # page load gives the browser the exact figure.
            "clock": exam_clock.clock_state(attempt=done.attempt, now=now, block=done.block),
        }
    )


def _open_block(attempt: Attempt, now) -> AttemptBlock:
    attempt = exam_clock.attempt_refresh(attempt=attempt, now=now)
    block = attempt.blocks.filter(state=AttemptBlock.State.ACTIVE).first()
    if block is None or exam_clock.block_time_is_up(block=block, now=now):
        raise Http404("No open block.")
    block.attempt = attempt
    return block


@require_GET
@login_required
@gzip_without_secrets
def block_items(request: HttpRequest, uuid) -> HttpResponse:
    """Every item of the open block in one response, for the browser's offline cache.

    The same read-only rules as a single prefetch (no visit, no time, no lock, never tutor
    content), in one request per page load instead of one per item: a cohort that loads its
    blocks together would otherwise send block-size requests per examinee at that moment.
    Items of a sequential set not yet reached stay on the server (the browser loads those
    pages one at a time).
    """
    now = timezone.now()
    block = _open_block(_own_attempt(request, uuid), now)
    nav_rows = _block_nav(block)
    items = _block_items(block)
    set_members = [r for r in items if r.question.item_set_id is not None]
    set_sizes: dict[int, int] = {}
    for r in set_members:
        set_sizes[r.question.item_set_id] = set_sizes.get(r.question.item_set_id, 0) + 1
    items = [
        r
        for r in items
        if not answers.is_withheld(response=r, current_position=block.current_position)
    ]
    contexts = []
    nav_html = None
    for r in items:
        context = _item_context(
            attempt=block.attempt,
            block=block,
            current=r,
            nav_rows=nav_rows,
            now=now,
            set_size=set_sizes.get(r.question.item_set_id, 0),
            with_tutor=False,
        )
        context["omit_form_token"] = True  # read by the script only, and compressed
        if nav_html is None:
            # The navigator is the same list for every item but the "current" mark, which the
            # browser sets when it stores each item: rendered once, not items × items times.
            for n in context["nav"]:
                n["is_current"] = False
            nav_html = mark_safe(render_to_string("exams/_item_nav.html", context))  # noqa: S308 - our template's output
        context["nav_html"] = nav_html
        contexts.append(render_to_string("exams/_item_partial.html", context, request=request))
    return HttpResponse("".join(contexts))


@require_POST
@login_required
@rate_limited
def save(request: HttpRequest, uuid, position: int) -> HttpResponse:
    if bad := _bad_position(request, position):
        return bad
    now = timezone.now()
    form = SaveForm(request.POST)
    wants_json = request.htmx or request.headers.get("Accept", "").startswith("application/json")
    if not form.is_valid():
        _own_attempt(request, uuid)  # another user's attempt is a 404, valid or not
        if wants_json:
            return JsonResponse(
                {"ok": False, "error": "invalid", "errors": form.errors}, status=400
            )
        messages.error(request, "That save was not understood.")
        return redirect("exams:item", uuid, position)
    try:
        # One statement in the common case; it also checks the attempt is this user's, so
        # the save costs no separate fetch.
        result = answers.answer_save(
            attempt_uuid=uuid,
            user_id=request.user.pk,
            position=position,
            now=now,
            **form.service_kwargs(),
        )
    except NotFound:
        raise Http404("No such exam session.") from None
    except ExamError as exc:
        status = {"closed": 409, "locked": 423}.get(exc.code, 400)
        if wants_json:
            return JsonResponse(
                {
                    "ok": False,
                    "error": exc.code,
                    "message": str(exc),
                    "clock": exam_clock.clock_state(attempt=_own_attempt(request, uuid), now=now),
                },
                status=status,
            )
        messages.error(request, str(exc))
        return (
            redirect("exams:attempt", uuid)
            if status == 409
            else redirect("exams:item", uuid, position)
        )
    return _saved(request, uuid, position, form=form, result=result, now=now)


def _saved(
    request: HttpRequest, uuid, position: int, *, form: SaveForm, result, now
) -> HttpResponse:
    if request.htmx or request.headers.get("Accept", "").startswith("application/json"):
        return JsonResponse(
            {
                "ok": True,
                "applied": result.applied,
                "stale": result.stale,
                "clock": exam_clock.clock_state(
                    attempt=result.attempt,
                    now=now,
                    block=result.block,
                    last_seq=form.cleaned_data["seq"],
                ),
            }
        )
    next_position = form.cleaned_data.get("go")
    return redirect("exams:item", uuid, next_position or position)


@require_GET
@login_required
@gzip_without_secrets
def review_screen(request: HttpRequest, uuid) -> HttpResponse:
    now = timezone.now()
    attempt = exam_clock.attempt_refresh(attempt=_own_attempt(request, uuid), now=now)
    block = attempt.blocks.filter(state=AttemptBlock.State.ACTIVE).first()
    if block is None or exam_clock.block_time_is_up(block=block, now=now):
        return redirect(attempt)
    show = request.GET.get("show", "all")
    responses = list(
        block.responses.select_related("version", "question__item_set").order_by("position")
    )
    rows = []
    for r in responses:
        if show == "unanswered" and r.choice is not None:
            continue
        if show == "marked" and not r.is_marked:
            continue
        text = (
            ""
            if answers.is_withheld(response=r, current_position=block.current_position)
            else strip_tags(r.version.stem_html)
        )
        rows.append(
            {
                "position": r.position,
                "is_answered": r.choice is not None,
                "is_marked": r.is_marked,
                "url": reverse("exams:item", args=[attempt.uuid, r.position]),
                "excerpt": (text[:90] + "…") if len(text) > 90 else text,
            }
        )
    counts = {
        "answered": sum(1 for r in responses if r.choice is not None),
        "unanswered": sum(1 for r in responses if r.choice is None),
        "marked": sum(1 for r in responses if r.is_marked),
    }
    return render_htmx(
        request,
        "exams/review_screen.html",
        "exams/_review_screen_partial.html",
        {
            "attempt": attempt,
            "block": block,
            "attempt_block": block,
            "rows": rows,
            "counts": counts,
            "show": show,
            "clock": exam_clock.clock_state(attempt=attempt, now=now, block=block),
        },
    )


@lru_cache(maxsize=1)
def _lab_sections() -> list[dict]:
    if not LAB_VALUES_PATH.exists():
        return []
    data = json.loads(LAB_VALUES_PATH.read_text(encoding="utf-8"))
    return data["sections"] if isinstance(data, dict) else data


@require_GET
@login_required
@gzip_without_secrets
def lab_values(request: HttpRequest) -> HttpResponse:
    return render_htmx(
        request,
        "exams/lab_values.html",
        "exams/_lab_values_partial.html",
        {"sections": _lab_sections()},
    )


def _outline_choices(kind: str) -> list[Tag]:
    return list(Tag.objects.filter(kind=kind, bank__isnull=True).order_by("name"))


@require_GET
@login_required
def practice_new(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    disciplines = _outline_choices(Tag.Kind.DISCIPLINE)
    systems = _outline_choices(Tag.Kind.SYSTEM)
    form = PracticeForm(request.GET or None, disciplines=disciplines, systems=systems)
    chosen_d = form.data.getlist("disciplines") if form.is_bound else []
    chosen_s = form.data.getlist("systems") if form.is_bound else []
    counts = practice.practice_pool_counts(
        user=request.user, disciplines=chosen_d, systems=chosen_s, now=now
    )
    return render(
        request,
        "exams/practice_new.html",
        {
            "form": form
            if form.is_bound
            else PracticeForm(disciplines=disciplines, systems=systems),
            "pool_counts": counts,
            "disciplines": [{"slug": t.slug, "name": t.name} for t in disciplines],
            "systems": [{"slug": t.slug, "name": t.name} for t in systems],
        },
    )


@require_POST
@login_required
def practice_create(request: HttpRequest) -> HttpResponse:
    form = PracticeForm(
        request.POST,
        disciplines=_outline_choices(Tag.Kind.DISCIPLINE),
        systems=_outline_choices(Tag.Kind.SYSTEM),
    )
    if not form.is_valid():
        messages.error(request, "Check the practice block's settings: " + form.errors.as_text())
        return redirect("exams:practice_new")
    try:
        attempt = practice.practice_create(
            user=request.user, now=timezone.now(), **form.cleaned_data
        )
    except ExamError as exc:
        messages.error(request, str(exc))
        return redirect("exams:practice_new")
    return redirect(attempt)


@require_http_methods(["GET", "POST"])
@login_required
def time_zone(request: HttpRequest) -> HttpResponse:
    """Choose the zone every time is shown (and, for an instructor, entered) in."""
    from django.core.exceptions import ValidationError

    from exams import timezones

    current = timezones.user_zone_name(request.user)
    error = None
    if request.method == "POST":
        chosen = request.POST.get("time_zone", "").strip()
        try:
            timezones.time_zone_set(user=request.user, time_zone=chosen)
        except ValidationError as exc:
            error = " ".join(exc.messages)
        else:
            messages.success(request, f"Times are now shown in {chosen}.")
            return redirect("exams:time_zone")
    with timezone.override(zoneinfo.ZoneInfo(current)):
        return render(
            request,
            "exams/time_zone.html",
            {
                "current": current,
                "zones": sorted(timezones.zone_names()),
                "error": error,
                "now": timezone.now(),
            },
            status=400 if error else 200,
        )
