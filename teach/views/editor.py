"""The in-browser question editor: edit, preview as the examinee sees it, save a version."""

from __future__ import annotations

from types import SimpleNamespace

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from accounts.decorators import instructor_required
from questions import selectors, services
from questions.formats.common import guess_content_type, inline_media
from teach.forms import QuestionEditForm

MAX_MEDIA_BYTES = 5 * 1024 * 1024


def _preview(draft) -> SimpleNamespace:
    """The checked draft with its files inlined as data: URIs (the CSP's img-src allows them),
    so a file added in this edit shows before it is saved."""
    return SimpleNamespace(
        stem_html=inline_media(draft, draft.stem_html),
        options=[{"text": inline_media(draft, o["text"])} for o in draft.options],
        key_index=draft.key_index,
        explanation_html=inline_media(draft, draft.explanation_html),
        stimulus=inline_media(draft, (draft.item_set or {}).get("stimulus_html", "")),
    )


@require_http_methods(["GET", "POST"])
@instructor_required
def question_edit(request: HttpRequest, question_uuid) -> HttpResponse:
    question = selectors.question_for_owner(user=request.user, question_uuid=question_uuid)
    if question is None or question.current_version is None:
        raise Http404("No such question.")
    draft = services.question_draft(question=question)
    if request.method == "GET":
        form = QuestionEditForm(
            initial=QuestionEditForm.initial_from(draft), option_count=len(draft.options)
        )
        return render(request, "teach/question_edit.html", {"question": question, "form": form})
    form = QuestionEditForm(request.POST, request.FILES, option_count=len(draft.options))
    preview, problems = None, []
    if form.is_valid():
        draft = form.apply_to(draft)
        upload = form.cleaned_data.get("media_file")
        if upload is not None:
            if upload.size > MAX_MEDIA_BYTES:
                form.add_error("media_file", "Files are limited to 5 MB.")
            else:
                draft.media.append((upload.name, guess_content_type(upload.name), upload.read()))
    if form.is_valid() and not form.errors:
        if request.POST.get("action") == "save":
            try:
                version = services.question_save(question=question, draft=draft, now=timezone.now())
            except ValidationError as exc:
                problems = exc.messages
            else:
                messages.success(request, f"Saved as version {version.number}.")
                return redirect(question)
        else:
            problems = services.question_check(draft=draft)
            if not problems:
                preview = _preview(draft)
    return render(
        request,
        "teach/question_edit.html",
        {"question": question, "form": form, "preview": preview, "problems": problems},
        status=400 if problems or form.errors else 200,
    )
