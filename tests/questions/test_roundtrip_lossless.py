"""Issue #13, item 4: re-importing a bank's own export changes nothing, in every format, and a
file that cannot express a field never clears it."""

from __future__ import annotations

import json
import re

import pytest

from questions.formats import EXPORT_FORMATS
from questions.importing import ImportFile
from questions.models import Question
from questions.services import questions_import
from tests.questions.conftest import sample
from tests.questions.test_export_roundtrip import export


def snapshot(bank) -> dict[str, tuple]:
    """Everything a question holds beyond its text: tags, metadata, item set, version."""
    rows = {}
    for q in Question.objects.filter(bank=bank).select_related("current_version", "item_set"):
        v = q.current_version
        rows[q.external_id] = (
            sorted((t.kind, t.slug) for t in q.tags.all()),
            v.source,
            v.licence,
            v.objective_html,
            v.difficulty,
            v.explanation_html,
            [o["explanation"] for o in v.options],
            q.item_set.external_id if q.item_set else None,
            q.set_position,
            v.number,
            v.content_hash,
        )
    return rows


@pytest.fixture
def full_bank(bank, outline_tags, t0):
    """A bank whose questions hold every field: tags of each kind, objective, difficulty,
    source, licence, option explanations, an item set and media."""
    questions_import(
        bank=bank,
        files=[sample("bank.json"), sample("all_features.gift"), sample("moodle_export.xml")],
        skip_unsupported=True,
        now=t0,
    )
    return bank


def test_the_full_bank_holds_every_field(full_bank):
    first = Question.objects.get(bank=full_bank, external_id="CK-0001").current_version
    assert first.source and first.licence and first.objective_html and first.difficulty
    kinds = set(
        Question.objects.get(bank=full_bank, external_id="CK-0001").tags.values_list(
            "kind", flat=True
        )
    )
    assert kinds == {"discipline", "system", "task", "topic"}
    assert Question.objects.filter(bank=full_bank, item_set__isnull=False).count() == 2


@pytest.mark.parametrize("fmt", EXPORT_FORMATS)
def test_reimporting_an_export_into_its_own_bank_makes_no_new_version(full_bank, fmt, t0):
    before = snapshot(full_bank)
    summary = questions_import(bank=full_bank, files=[export(full_bank, fmt)], now=t0)
    assert (summary.new, summary.new_versions, summary.unchanged) == (0, 0, len(before))
    assert snapshot(full_bank) == before


@pytest.mark.parametrize("fmt", ["moodlexml", "gift", "qti"])
def test_an_export_carries_every_field_into_a_new_bank(full_bank, other_bank, fmt, t0):
    questions_import(bank=other_bank, files=[export(full_bank, fmt)], now=t0)
    source = {k: v[:9] for k, v in snapshot(full_bank).items()}
    copy = {k: v[:9] for k, v in snapshot(other_bank).items()}
    assert copy == source


def _without_metadata(file: ImportFile, fmt: str) -> ImportFile:
    text = file.data.decode()
    if fmt == "gift":
        text = re.sub(r"^// mockboard:.*\n", "", text, flags=re.MULTILINE)
    else:
        text = re.sub(r"<!-- mockboard:.*?-->\n?\s*", "", text)
    assert "mockboard:" not in text
    return ImportFile(file.name, text.encode())


@pytest.mark.parametrize("fmt", ["gift", "moodlexml"])
def test_a_file_without_metadata_keeps_what_it_cannot_express(full_bank, fmt, t0):
    """An export made before formats carried metadata (or by Moodle) wipes nothing."""
    before = snapshot(full_bank)
    plain = _without_metadata(export(full_bank, fmt), fmt)
    summary = questions_import(bank=full_bank, files=[plain], now=t0)
    # GIFT cannot name tag kinds, so only a file without categories keeps every tag.
    assert summary.new_versions == 0
    assert snapshot(full_bank) == before


def _json(**question) -> str:
    return json.dumps({"format": "mockboard", "questions": [question]})


def test_aiken_reimport_keeps_tags_explanations_and_metadata(bank, outline_tags, t0):
    aiken = ImportFile(
        "quiz.aiken", b"Which drug is monitored by aPTT?\nA. Heparin\nB. Warfarin\nANSWER: A\n"
    )
    questions_import(bank=bank, files=[aiken], now=t0)
    external_id = Question.objects.get(bank=bank).external_id
    enriched = _json(
        external_id=external_id,
        stem="Which drug is monitored by aPTT?",
        options=[{"text": "Heparin", "explanation": "Yes."}, "Warfarin"],
        key="A",
        explanation="aPTT tracks heparin.",
        tags={"system": ["cardiovascular"]},
        source="Ward notes",
        licence="CC BY 4.0",
        difficulty=0.3,
    )
    questions_import(bank=bank, files=[ImportFile("rich.json", enriched.encode())], now=t0)
    before = snapshot(bank)

    summary = questions_import(bank=bank, files=[aiken], now=t0)

    assert (summary.new, summary.new_versions) == (0, 0)
    assert snapshot(bank) == before
    assert before[external_id][0] == [("system", "cardiovascular")]


def test_aiken_key_change_keeps_tags_and_source_on_the_new_version(bank, outline_tags, t0):
    stem = b"Which drug is monitored by aPTT?\nA. Heparin\nB. Warfarin\n"
    questions_import(bank=bank, files=[ImportFile("q.aiken", stem + b"ANSWER: B\n")], now=t0)
    question = Question.objects.get(bank=bank)
    question.tags.add(outline_tags[2])
    enriched = _json(
        external_id=question.external_id,
        stem="Which drug is monitored by aPTT?",
        options=["Heparin", "Warfarin"],
        key="B",
        tags={"system": ["cardiovascular"]},
        source="Ward notes",
    )
    questions_import(bank=bank, files=[ImportFile("rich.json", enriched.encode())], now=t0)

    summary = questions_import(
        bank=bank, files=[ImportFile("q.aiken", stem + b"ANSWER: A\n")], now=t0
    )

    question.refresh_from_db()
    assert summary.new_versions == 1
    assert question.current_version.key_index == 0
    assert question.current_version.source == "Ward notes"
    assert list(question.tags.values_list("slug", flat=True)) == ["cardiovascular"]
