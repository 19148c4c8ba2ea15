"""Exports re-import to the same questions (same content hashes, within each format's limits)."""

from __future__ import annotations

import dataclasses
import io

import pytest

from questions.formats.common import content_hash
from questions.importing import ImportFile
from questions.models import Question
from questions.services import _MediaNames, parsed_from_version, questions_export, questions_import
from tests.questions.conftest import sample

# What each format cannot carry (docs/formats.md, "What each format carries"): nothing, now
# that Moodle XML, GIFT and QTI carry the rest in a metadata block.
NOT_CARRIED = {"json": set(), "csv": set(), "moodlexml": set(), "gift": set(), "qti": set()}
EMPTY = {
    "objective_html": "",
    "difficulty": None,
    "source": "",
    "licence": "",
    "item_set": None,
    "tags": {},
}


def carried_hashes(bank, fmt: str) -> dict[str, str]:
    names = _MediaNames(bank)
    hashes = {}
    for question in Question.objects.filter(bank=bank).select_related(
        "current_version", "item_set"
    ):
        parsed = parsed_from_version(question, question.current_version, names, question.tags.all())
        parsed = dataclasses.replace(parsed, **{k: EMPTY[k] for k in NOT_CARRIED[fmt]})
        hashes[question.external_id] = content_hash(parsed)
    return hashes


def export(bank, fmt: str) -> ImportFile:
    if fmt == "qti":
        out = io.BytesIO()
        questions_export(bank=bank, format=fmt, out=out)
        return ImportFile("export.zip", out.getvalue())
    out = io.StringIO()
    questions_export(bank=bank, format=fmt, out=out)
    ext = {"json": "json", "csv": "csv", "moodlexml": "xml", "gift": "gift"}[fmt]
    return ImportFile(f"export.{ext}", out.getvalue().encode())


@pytest.fixture
def source_bank(bank, outline_tags, t0):
    questions_import(
        bank=bank,
        files=[sample("bank.json"), sample("all_features.gift"), sample("moodle_export.xml")],
        skip_unsupported=True,
        now=t0,
    )
    return bank


@pytest.mark.parametrize("fmt", ["json", "csv", "moodlexml", "gift", "qti"])
def test_export_then_import_gives_the_same_questions(source_bank, other_bank, fmt, t0):
    summary = questions_import(bank=other_bank, files=[export(source_bank, fmt)], now=t0)
    assert summary.new == Question.objects.filter(bank=source_bank).count() == 10
    assert carried_hashes(other_bank, fmt) == carried_hashes(source_bank, fmt)


@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_full_fidelity_formats_keep_stored_hashes(source_bank, other_bank, fmt, t0):
    questions_import(bank=other_bank, files=[export(source_bank, fmt)], now=t0)
    stored = dict(
        Question.objects.filter(bank=source_bank).values_list(
            "external_id", "current_version__content_hash"
        )
    )
    again = dict(
        Question.objects.filter(bank=other_bank).values_list(
            "external_id", "current_version__content_hash"
        )
    )
    assert again == stored


@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_reimporting_an_export_into_its_own_bank_changes_nothing(source_bank, fmt, t0):
    summary = questions_import(bank=source_bank, files=[export(source_bank, fmt)], now=t0)
    assert (summary.new, summary.new_versions, summary.unchanged) == (0, 0, 10)


def test_export_keeps_media(source_bank, other_bank, t0):
    questions_import(bank=other_bank, files=[export(source_bank, "qti")], now=t0)
    copy = Question.objects.get(bank=other_bank, external_id="CK-0001").current_version
    media = other_bank.media.get()
    assert str(media.uuid) in copy.stem_html and media.file.read().startswith(b"\x89PNG")


def test_retired_questions_are_not_exported(source_bank, t0):
    from questions.services import question_retire

    question_retire(question=Question.objects.get(bank=source_bank, external_id="CK-0002"), now=t0)
    assert b"CK-0002" not in export(source_bank, "json").data
