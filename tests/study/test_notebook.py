from __future__ import annotations

from datetime import timedelta

import pytest
from django.http import Http404

from study import notebook

pytestmark = pytest.mark.django_db


def test_every_note_is_gathered_with_a_link_to_its_review(examinee, finished, t0):
    entries = notebook.notebook_entries(user=examinee, now=t0 + timedelta(hours=1))
    notes = {e.response.note: e.review_url for e in entries}
    assert set(notes) == {"Remember: beta blockers first", "Murmur radiating to the carotids"}
    assert notes["Remember: beta blockers first"].endswith("/review/block/1/?item=4")


def test_the_notebook_is_searchable(examinee, finished, t0):
    entries = notebook.notebook_entries(user=examinee, now=t0, query="BETA")
    assert [e.response.note for e in entries] == ["Remember: beta blockers first"]


def test_another_students_notes_are_not_in_my_notebook(other_examinee, finished, t0):
    assert notebook.notebook_entries(user=other_examinee, now=t0) == []


def test_a_note_is_written_at_review_time_on_my_own_closed_block(
    examinee, other_examinee, finished, t0
):
    notebook.note_save(
        user=examinee,
        attempt_uuid=finished.uuid,
        block_number=1,
        position=1,
        text="Check the ECG first",
        now=t0,
    )
    assert finished.responses.get(block__number=1, position=1).note == "Check the ECG first"
    with pytest.raises(Http404):
        notebook.note_save(
            user=other_examinee,
            attempt_uuid=finished.uuid,
            block_number=1,
            position=1,
            text="x",
            now=t0,
        )
    with pytest.raises(notebook.NoteError, match="note"):
        notebook.note_save(
            user=examinee,
            attempt_uuid=finished.uuid,
            block_number=1,
            position=1,
            text="x" * 5001,
            now=t0,
        )
    assert finished.responses.get(block__number=1, position=1).note == "Check the ECG first"


def test_a_note_on_an_item_in_an_open_block_elsewhere_has_no_review_link(
    examinee, finished, open_block_elsewhere, t0
):
    now = t0 + timedelta(hours=2)
    notebook.note_save(
        user=examinee,
        attempt_uuid=finished.uuid,
        block_number=1,
        position=1,
        text="Missed this one",
        now=now,
    )
    open_block_elsewhere(now)
    entries = {
        e.response.note: e.review_url
        for e in notebook.notebook_entries(user=examinee, now=now + timedelta(minutes=1))
    }
    assert entries["Missed this one"] is None
    assert entries["Remember: beta blockers first"] is not None
    text = notebook.notebook_markdown(user=examinee, now=now + timedelta(minutes=1))
    assert "> Missed this one" in text
    assert text.count("[Review this item]") == 2


def test_the_notebook_exports_as_markdown(examinee, finished, t0):
    text = notebook.notebook_markdown(user=examinee, now=t0, base_url="https://mb.example")
    assert text.startswith("# My Mockboard notebook")
    assert "> Remember: beta blockers first" in text
    assert "(https://mb.example/analytics/attempts/" in text
