"""Writing imports: identity by external id, versions by content hash, tags, sets, media."""

from __future__ import annotations

import json

import pytest

from questions.importing import ImportFile
from questions.models import ItemSet, Media, Question, QuestionVersion, Tag
from questions.services import (
    ImportRejected,
    import_preview,
    question_edit,
    question_retire,
    questions_import,
)
from tests.questions.conftest import counts, sample


def jsonl(*questions: dict) -> ImportFile:
    return ImportFile("q.jsonl", "\n".join(json.dumps(q) for q in questions).encode())


def q(external_id: str, stem: str = "Stem?", **extra) -> dict:
    return {
        "external_id": external_id,
        "stem": stem,
        "options": ["A1", "B1", "C1"],
        "key": "B",
        **extra,
    }


def test_import_creates_questions_versions_tags_sets_and_media(bank, outline_tags, t0):
    summary = questions_import(bank=bank, files=[sample("bank.json")], now=t0)
    assert (summary.new, summary.new_versions, summary.unchanged) == (3, 0, 0)
    first = Question.objects.get(bank=bank, external_id="CK-0001")
    version = first.current_version
    assert version.number == 1 and version.key_index == 0 and version.difficulty == 0.42
    assert version.options[0] == {
        "text": "Aspirin and primary PCI",
        "explanation": "Reperfusion within 90 minutes.",
    }
    # Outline tags are reused; the unknown topic becomes a tag of this bank only.
    tags = {(t.kind, t.slug, t.bank_id) for t in first.tags.all()}
    assert ("discipline", "medicine", None) in tags
    assert ("system", "cardiovascular", None) in tags
    assert ("topic", "acute-coronary-syndrome", bank.pk) in tags
    assert Tag.objects.get(slug="acute-coronary-syndrome").name == "Acute coronary syndrome"
    media = Media.objects.get(bank=bank)
    assert media.content_type == "image/png" and media.original_name == "st-elevation.png"
    assert str(media.uuid) in version.stem_html and "media:" not in version.stem_html
    assert media.file.read().startswith(b"\x89PNG")
    item_set = ItemSet.objects.get(bank=bank, external_id="SET-1")
    assert item_set.kind == "sequential" and "DVT" in item_set.stimulus_html
    positions = dict(
        Question.objects.filter(item_set=item_set).values_list("external_id", "set_position")
    )
    assert positions == {"CK-0002": 1, "CK-0003": 2}


def test_reimport_is_all_unchanged(bank, t0):
    questions_import(bank=bank, files=[sample("bank.json")], now=t0)
    before = counts(), Media.objects.count(), Tag.objects.count()
    summary = questions_import(bank=bank, files=[sample("bank.json")], now=t0)
    assert str(summary) == "imported 3 questions: 0 new, 0 new versions, 3 unchanged"
    assert (counts(), Media.objects.count(), Tag.objects.count()) == before


def test_changed_question_gets_version_two_and_old_version_is_untouched(bank, t0):
    questions_import(bank=bank, files=[jsonl(q("x1"), q("x2"))], now=t0)
    old = QuestionVersion.objects.get(question__external_id="x1")
    old_row = QuestionVersion.objects.filter(pk=old.pk).values().get()
    summary = questions_import(bank=bank, files=[jsonl(q("x1", "A new stem?"), q("x2"))], now=t0)
    assert summary.as_dict() == {"new": 0, "new_versions": 1, "unchanged": 1}
    question = Question.objects.get(external_id="x1")
    assert question.current_version.number == 2
    assert question.current_version.stem_html == "A new stem?"
    assert QuestionVersion.objects.filter(pk=old.pk).values().get() == old_row


def test_tag_change_alone_is_a_new_version(bank, t0):
    questions_import(bank=bank, files=[jsonl(q("x1"))], now=t0)
    questions_import(bank=bank, files=[jsonl(q("x1", tags={"topic": ["sepsis"]}))], now=t0)
    question = Question.objects.get(external_id="x1")
    assert question.current_version.number == 2
    assert [t.slug for t in question.tags.all()] == ["sepsis"]


def test_questions_missing_from_the_file_are_left_alone(bank, t0):
    questions_import(bank=bank, files=[jsonl(q("x1"), q("x2"))], now=t0)
    questions_import(bank=bank, files=[jsonl(q("x1"))], now=t0)
    assert set(Question.objects.values_list("external_id", flat=True)) == {"x1", "x2"}
    assert not Question.objects.filter(is_retired=True).exists()


def test_same_picture_twice_is_stored_once(bank, t0):
    import base64

    picture = base64.b64encode((sample("ecg.png")).data).decode()
    media = [{"name": "a.png", "content_type": "image/png", "data_base64": picture}]
    one = q("m1", '<img src="media:a.png">', media=media)
    two = q("m2", '<p>Again</p><img src="media:a.png">', media=media)
    questions_import(bank=bank, files=[jsonl(one, two)], now=t0)
    assert Media.objects.filter(bank=bank).count() == 1


def test_same_question_in_two_banks_is_independent(bank, other_bank, t0):
    questions_import(bank=bank, files=[jsonl(q("x1"))], now=t0)
    summary = questions_import(bank=other_bank, files=[jsonl(q("x1"))], now=t0)
    assert summary.new == 1 and Question.objects.count() == 2


def test_preview_writes_nothing(bank):
    preview = import_preview(files=[sample("moodle_export.xml")], limit=1)
    assert preview.count == 2 and len(preview.sample) == 1 and len(preview.unsupported) == 5
    assert preview.problems == []
    assert counts() == (0, 0) and Media.objects.count() == 0


def test_unsupported_types_reject_unless_skipped(bank, t0):
    with pytest.raises(ImportRejected) as caught:
        questions_import(bank=bank, files=[sample("moodle_export.xml")], now=t0)
    assert len(caught.value.problems) == 5
    assert counts() == (0, 0)
    summary = questions_import(
        bank=bank, files=[sample("moodle_export.xml")], skip_unsupported=True, now=t0
    )
    assert summary.new == 2


def test_progress_is_reported_per_batch(bank, t0, monkeypatch):
    from questions import services

    monkeypatch.setattr(services, "BATCH_SIZE", 2)
    seen = []
    questions_import(
        bank=bank,
        files=[jsonl(*(q(f"p{i}") for i in range(5)))],
        now=t0,
        progress=lambda done, total: seen.append((done, total)),
    )
    assert seen == [(2, 5), (4, 5), (5, 5)]
    assert Question.objects.filter(bank=bank).count() == 5


def test_dry_run_counts_and_writes_nothing(bank, t0):
    questions_import(bank=bank, files=[jsonl(q("x1"))], now=t0)
    before = counts()
    summary = questions_import(
        bank=bank, files=[jsonl(q("x1", "changed"), q("x9"))], now=t0, dry_run=True
    )
    assert summary.as_dict() == {"new": 1, "new_versions": 1, "unchanged": 0}
    assert counts() == before


def test_edit_always_makes_a_new_version(bank, t0):
    questions_import(bank=bank, files=[sample("bank.json")], now=t0)
    question = Question.objects.get(external_id="CK-0001")
    first = question.current_version
    version = question_edit(question=question, difficulty=0.5, now=t0)
    question.refresh_from_db()
    assert version.number == 2 and question.current_version == version
    assert version.stem_html == first.stem_html and version.difficulty == 0.5
    assert version.content_hash != first.content_hash
    again = question_edit(question=question, now=t0)
    assert again.number == 3 and again.content_hash == version.content_hash


def test_edit_is_sanitised_and_checked(bank, t0):
    from django.core.exceptions import ValidationError

    questions_import(bank=bank, files=[jsonl(q("x1"))], now=t0)
    question = Question.objects.get(external_id="x1")
    version = question_edit(
        question=question, stem_html="<p onclick='x()'>New</p><script>x</script>", now=t0
    )
    assert version.stem_html == "<p>New</p>"
    with pytest.raises(ValidationError):
        question_edit(question=question, key_index=7, now=t0)
    assert question.versions.count() == 2


def test_retire_keeps_versions(bank, t0):
    questions_import(bank=bank, files=[jsonl(q("x1"))], now=t0)
    question = Question.objects.get(external_id="x1")
    question_retire(question=question, now=t0)
    question.refresh_from_db()
    assert question.is_retired and question.versions.count() == 1
