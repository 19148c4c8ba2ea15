"""Question banks and their questions: browse, create, open for practice, retire."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.decorators import instructor_required
from analytics.selectors import version_statistic
from config.htmx import render_htmx, vary_on_htmx
from questions import selectors, services
from questions.text import version_diff
from teach.forms import BankCreateForm, BankPracticeForm, BankSearchForm, RetireForm

PAGE_SIZE = 50


@require_GET
@instructor_required
def bank_list(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "teach/bank_list.html",
        {"banks": selectors.banks_with_counts(request.user)},
    )


@require_http_methods(["GET", "POST"])
@instructor_required
def bank_create(request: HttpRequest) -> HttpResponse:
    form = BankCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            bank = services.bank_create(
                slug=form.cleaned_data["slug"], name=form.cleaned_data["name"], owner=request.user
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, f"Created the bank “{bank.name}”.")
            return redirect(bank)
    return render(request, "teach/bank_create.html", {"form": form})


@require_GET
@instructor_required
def bank_detail(request: HttpRequest, bank_uuid) -> HttpResponse:
    bank = get_object_or_404(selectors.banks_owned(request.user), uuid=bank_uuid)
    form = BankSearchForm(request.GET or None)
    text, tag, status, tag_value = "", None, "", ""
    if form.is_valid():
        text = form.cleaned_data["q"].strip()
        status = form.cleaned_data["status"]
        if form.cleaned_data["tag"]:
            kind, slug = form.cleaned_data["tag"]
            tag_value = f"{kind}:{slug}"
            tag = selectors.tag_for_bank(bank=bank, kind=kind, slug=slug)
            if tag is None:
                form.add_error("tag", "No such tag in this bank.")
    questions = selectors.bank_questions(bank=bank, text=text, tag=tag, status=status)
    if tag_value and tag is None:
        questions = questions.none()
    page = Paginator(questions, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "bank": bank,
        "form": form,
        "page": page,
        "counts": selectors.bank_counts(bank=bank, matching=questions),
        "facets": selectors.bank_tag_facets(bank=bank),
        "tag_value": tag_value,
        "status": status,
        "text": text,
        "query": query.urlencode(),
    }
    return render_htmx(
        request,
        "teach/bank_detail.html",
        "teach/_question_table_partial.html",
        context,
        page_context=lambda: {"jobs": list(bank.import_jobs.order_by("-created_at")[:5])},
    )


@require_POST
@instructor_required
@vary_on_htmx
def bank_practice(request: HttpRequest, bank_uuid) -> HttpResponse:
    bank = get_object_or_404(selectors.banks_owned(request.user), uuid=bank_uuid)
    form = BankPracticeForm(request.POST)
    if form.is_valid():
        services.bank_practice_set(bank=bank, is_open=form.cleaned_data["action"] == "open")
    if request.htmx:
        return render(request, "teach/_bank_practice_partial.html", {"bank": bank})
    if form.is_valid():
        messages.success(
            request,
            "Bank open for practice." if bank.is_open_for_practice else "Bank closed for practice.",
        )
    else:
        messages.error(request, "That change was not understood: choose open or close.")
    return redirect(bank)


# Questions -------------------------------------------------------------------------------------


@require_GET
@instructor_required
def question_detail(request: HttpRequest, question_uuid) -> HttpResponse:
    question = selectors.question_for_owner(user=request.user, question_uuid=question_uuid)
    if question is None:
        raise Http404("No such question.")
    version = question.current_version
    statistic = version_statistic(version)
    option_rows = []
    if version is not None:
        counts = list(statistic.option_counts) if statistic else []
        answered = sum(counts) or 0
        for i, option in enumerate(version.options):
            n = counts[i] if i < len(counts) else 0
            option_rows.append(
                {
                    "letter": chr(ord("A") + i),
                    "text": option.get("text", ""),
                    "explanation": option.get("explanation", ""),
                    "is_key": i == version.key_index,
                    "count": n,
                    "share": round(100 * n / answered) if answered else None,
                }
            )
    return render(
        request,
        "teach/question_detail.html",
        {
            "question": question,
            "version": version,
            "versions": list(question.versions.all()),
            "tags": list(question.tags.all()),
            "statistic": statistic,
            "option_rows": option_rows,
            "siblings": selectors.item_set_siblings(question),
            "retire_form": RetireForm(),
        },
    )


@require_POST
@instructor_required
@vary_on_htmx
def question_retire(request: HttpRequest, question_uuid) -> HttpResponse:
    question = get_object_or_404(selectors.questions_owned(request.user), uuid=question_uuid)
    form = RetireForm(request.POST)
    if form.is_valid():
        now = timezone.now()
        if form.cleaned_data["action"] == "retire":
            services.question_retire(question=question, now=now)
        else:
            services.question_unretire(question=question, now=now)
        question.refresh_from_db(fields=["is_retired"])
    if request.htmx:
        return render(
            request,
            "teach/_retire_partial.html",
            {"question": question, "retire_form": RetireForm()},
        )
    if form.is_valid():
        messages.success(
            request,
            "Question retired: new exams will not draw it."
            if question.is_retired
            else "Question returned to service.",
        )
    return redirect(question)


@require_GET
@instructor_required
def question_version(request: HttpRequest, question_uuid, number: int) -> HttpResponse:
    """One version's content, and what changed from the version before it."""
    question = get_object_or_404(
        selectors.questions_owned(request.user).select_related("bank"), uuid=question_uuid
    )
    version = get_object_or_404(question.versions, number=number)
    previous = question.versions.filter(number__lt=number).order_by("-number").first()
    return render(
        request,
        "teach/question_version.html",
        {
            "question": question,
            "version": version,
            "previous": previous,
            "diff": version_diff(previous, version) if previous else [],
        },
    )


EXPORT_CHOICES = {
    "json": ("Mockboard JSON", "json", "application/json"),
    "csv": ("CSV (spreadsheet)", "csv", "text/csv"),
    "moodlexml": ("Moodle XML", "xml", "application/xml"),
    "gift": ("GIFT", "gift.txt", "text/plain"),
    "qti": ("IMS QTI (zip)", "zip", "application/zip"),
}


@require_GET
@instructor_required
def bank_export(request: HttpRequest, bank_uuid) -> HttpResponse:
    """The bank's current questions in the format the instructor chose on the bank page."""
    import io

    from django.utils.text import slugify

    bank = get_object_or_404(selectors.banks_owned(request.user), uuid=bank_uuid)
    fmt = request.GET.get("format", "")
    if fmt not in EXPORT_CHOICES:
        return HttpResponse(
            "format must be one of: " + ", ".join(EXPORT_CHOICES),
            status=400,
            content_type="text/plain; charset=utf-8",
        )
    _, extension, content_type = EXPORT_CHOICES[fmt]
    if services.is_binary_export(fmt):
        buffer = io.BytesIO()
        services.questions_export(bank=bank, format=fmt, out=buffer)
        body = buffer.getvalue()
    else:
        text = io.StringIO(newline="")
        services.questions_export(bank=bank, format=fmt, out=text)
        body = text.getvalue().encode()
        content_type += "; charset=utf-8"
    response = HttpResponse(body, content_type=content_type)
    name = slugify(bank.slug) or "bank"
    response["Content-Disposition"] = f'attachment; filename="{name}.{extension}"'
    return response
