"""The notebook: every note a student wrote on an item, gathered, searchable, exportable.

A note is the student's own text (Response.note), so it is always shown to them; the link back
to the item's review appears only when that review may show the item (exams/exposure.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import Q
from django.http import Http404
from django.urls import reverse

from analytics.selectors import block_is_reviewable
from exams import exposure
from exams.models import AttemptBlock, Response

NOTE_MAX_CHARS = 5000


class NoteError(Exception):
    pass


@dataclass
class NotebookEntry:
    response: Response
    review_url: str | None

    @property
    def title(self) -> str:
        r = self.response
        return f"{r.attempt.title} · block {r.block.number} · item {r.position}"


def notebook_entries(*, user, now: datetime, query: str = "") -> list[NotebookEntry]:
    notes = (
        Response.objects.filter(attempt__user=user)
        .exclude(note="")
        .select_related("attempt", "block")
        .prefetch_related("question__tags")
        .order_by("-attempt__started_at", "block__number", "position")
    )
    query = query.strip()
    if query:
        notes = notes.filter(Q(note__icontains=query) | Q(question__tags__name__icontains=query))
    notes = list(notes.distinct())
    withheld = exposure.withheld_ids(
        user=user, question_ids=[r.question_id for r in notes], now=now
    )
    entries = []
    for r in notes:
        url = None
        if r.question_id not in withheld and r.block.state == AttemptBlock.State.CLOSED:
            url = (
                reverse("analytics:block_review", args=[r.attempt.uuid, r.block.number])
                + f"?item={r.position}"
            )
        entries.append(NotebookEntry(response=r, review_url=url))
    return entries


def notebook_markdown(*, user, now: datetime, query: str = "", base_url: str = "") -> str:
    lines = ["# My Mockboard notebook", ""]
    for e in notebook_entries(user=user, now=now, query=query):
        lines.append(f"## {e.title}")
        tags = ", ".join(t.name for t in e.response.question.tags.all())
        if tags:
            lines.append(f"*{tags}*")
        lines.append("")
        lines.extend(f"> {line}" if line else ">" for line in e.response.note.splitlines())
        if e.review_url:
            lines += ["", f"[Review this item]({base_url}{e.review_url})"]
        lines.append("")
    return "\n".join(lines)


def note_save(*, user, attempt_uuid, block_number: int, position: int, text: str, now: datetime):
    """Write the student's note on an item while they review a closed block of theirs."""
    if len(text) > NOTE_MAX_CHARS:
        raise NoteError(f"note: at most {NOTE_MAX_CHARS} characters.")
    with transaction.atomic():
        response = (
            Response.objects.select_for_update(of=("self",))
            .select_related("attempt", "block")
            .filter(
                attempt__user=user,
                attempt__uuid=attempt_uuid,
                block__number=block_number,
                position=position,
            )
            .first()
        )
        if response is None or not block_is_reviewable(response.attempt, response.block):
            raise Http404("No such item to annotate.")
        if response.block.state != AttemptBlock.State.CLOSED:
            # An open (tutor) block saves notes through the exam engine's ordered saves.
            raise NoteError("note: write it in the block while it is open.")
        response.note = text
        response.save(update_fields=["note"])
    return response
