"""The upload preview against the bank: what an import would change, before it writes."""

from __future__ import annotations

import base64
import json

import pytest
from django.core.exceptions import ValidationError

from questions.importing import ImportFile
from questions.models import Bank, Question
from questions.services import bank_column_map_set, import_preview, questions_import
from tests.questions.conftest import counts
from tests.questions.test_files_as_people_have_them import xlsx_file

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 24


def jsonl(*questions: dict) -> ImportFile:
    return ImportFile("q.jsonl", "\n".join(json.dumps(q) for q in questions).encode())


def q(external_id: str, stem: str = "Which drug is monitored by aPTT?", **extra) -> dict:
    return {
        "external_id": external_id,
        "stem": stem,
        "options": ["Heparin", "Warfarin", "Aspirin"],
        "key": "A",
        "explanation": "aPTT tracks heparin.",
        "tags": {"topic": ["anticoagulants"]},
        **extra,
    }


@pytest.fixture
def stored(bank, t0):
    questions_import(bank=bank, files=[jsonl(q("Q1"), q("Q2"), q("Q3"))], now=t0)
    return bank


def test_preview_counts_new_changed_and_unchanged_as_the_import_then_does(stored, t0):
    upload = [jsonl(q("Q1"), q("Q2", stem="Which drug is monitored by INR?"), q("Q4"))]
    before = counts()
    preview = import_preview(files=upload, bank=stored)
    assert (preview.new, preview.changed, preview.unchanged) == (1, 1, 1)
    assert counts() == before  # nothing written
    summary = questions_import(bank=stored, files=upload, now=t0)
    assert (summary.new, summary.new_versions, summary.unchanged) == (1, 1, 1)


def test_each_changed_question_lists_its_changed_fields_with_a_word_diff(stored):
    upload = [
        jsonl(
            q("Q1"),
            q("Q2", stem="Which drug is monitored by INR?", key="B"),
            q("Q3", tags={"topic": ["anticoagulants", "haematology"]}),
        )
    ]
    preview = import_preview(files=upload, bank=stored)
    changes = {c["external_id"]: c for c in preview.changes}
    assert set(changes) == {"Q2", "Q3"}
    rows = {r["field"]: r for r in changes["Q2"]["rows"]}
    assert set(rows) == {"Stem", "Key"}
    assert "<del>aPTT?</del>" in rows["Stem"]["diff"] and "<ins>INR?</ins>" in rows["Stem"]["diff"]
    assert changes["Q3"]["rows"][0]["field"] == "Tags"
    assert "<ins>topic:haematology</ins>" in changes["Q3"]["rows"][0]["diff"]
    assert preview.cleared == 0 and not changes["Q2"]["has_cleared"]


def test_a_field_the_upload_empties_is_flagged_as_cleared(stored):
    upload = [jsonl(q("Q1", explanation="", tags={}), q("Q2"), q("Q3"))]
    preview = import_preview(files=upload, bank=stored)
    assert preview.cleared == 1
    (change,) = preview.changes
    cleared = {r["field"] for r in change["rows"] if r["is_cleared"]}
    assert cleared == {"Explanation", "Tags"}


def test_cleared_fields_are_counted_past_the_changes_shown(stored):
    upload = [jsonl(*(q(f"Q{i}", explanation="") for i in (1, 2, 3)))]
    preview = import_preview(files=upload, bank=stored, changes_limit=1)
    assert len(preview.changes) == 1
    assert (preview.changed, preview.cleared) == (3, 3)


def test_a_field_the_format_cannot_express_is_kept_not_shown_as_cleared(stored):
    # Aiken has no explanation and no tags: the stored ones stay, so nothing changes.
    aiken = b"Which drug is monitored by aPTT?\nA. Heparin\nB. Warfarin\nC. Aspirin\nANSWER: A\n"
    from questions.formats.aiken import external_id_for

    Question.objects.filter(bank=stored, external_id="Q1").update(
        external_id=external_id_for("aiken", "Which drug is monitored by aPTT?")
    )
    preview = import_preview(files=[ImportFile("q.txt", aiken)], format="aiken", bank=stored)
    assert (preview.new, preview.changed, preview.unchanged, preview.cleared) == (0, 0, 1, 0)


def test_an_upload_with_errors_is_not_compared(stored):
    preview = import_preview(files=[jsonl(q("Q1", key="Z"))], bank=stored)
    assert preview.problems
    assert preview.new is None and preview.changes == []


def test_sample_images_are_inlined_with_the_type_their_bytes_say(bank):
    # Declared a GIF, the bytes are a PNG: the preview says what the bytes are.
    declared = "data:image/gif;base64," + base64.b64encode(PNG).decode()
    upload = [jsonl(q("Q1", stem=f'<p>ECG:</p><img src="{declared}" alt="ECG">'))]
    preview = import_preview(files=upload, bank=bank)
    stem = preview.sample[0].stem_html
    assert 'src="data:image/png;base64,' + base64.b64encode(PNG).decode() + '"' in stem
    assert "media:" not in stem


def test_a_changed_picture_is_a_change_of_files_and_the_same_one_is_not(stored, t0):
    first = "data:image/png;base64," + base64.b64encode(PNG).decode()
    second = "data:image/png;base64," + base64.b64encode(PNG + b"\x01").decode()
    questions_import(
        bank=stored, files=[jsonl(q("Q1", stem=f'<img src="{first}" alt="x">'))], now=t0
    )
    changed = import_preview(
        files=[jsonl(q("Q1", stem=f'<img src="{second}" alt="x">'))], bank=stored
    )
    assert changed.changed == 1
    assert [r["field"] for r in changed.changes[0]["rows"]] == ["Stem", "Files"]
    # The stored picture's URL and the upload's file name differ; the bytes do not.
    rekeyed = import_preview(
        files=[jsonl(q("Q1", stem=f'<img src="{first}" alt="x">', key="B"))], bank=stored
    )
    assert [r["field"] for r in rekeyed.changes[0]["rows"]] == ["Key"]


def test_unknown_spreadsheet_headers_are_named_for_the_mapping_step(bank):
    rows = [["Scenario", "A", "B", "Right one"], ["Which drug?", "Heparin", "Warfarin", "A"]]
    preview = import_preview(files=[xlsx_file(rows)], bank=bank)
    assert preview.unknown_columns == [{"file": "bank.xlsx", "headers": ["Scenario", "Right one"]}]
    mapped = import_preview(
        files=[xlsx_file(rows)], bank=bank, column_map={"scenario": "stem", "Right one": "key"}
    )
    assert not mapped.problems and mapped.unknown_columns == []
    assert mapped.new == 1


def test_a_remembered_mapping_joins_the_earlier_one_and_refuses_unknown_columns(bank):
    bank_column_map_set(bank=bank, column_map={"Vignette": "stem", "Notes": ""})
    bank_column_map_set(bank=bank, column_map={"vignette": "explanation", "Right one": "key"})
    assert Bank.objects.get(pk=bank.pk).column_map == {
        "Notes": "",
        "vignette": "explanation",
        "Right one": "key",
    }
    with pytest.raises(ValidationError):
        bank_column_map_set(bank=bank, column_map={"X": "answer_text"})


def test_xlsx_rows_keep_the_numbers_the_sheet_shows_across_empty_rows(bank):
    rows = [
        ["Question", "A", "B", "Answer"],
        ["Which drug?", "Heparin", "Warfarin", "A"],
        [None, None, None, None],
        ["Which nerve?", "Ulnar", "Radial", "F"],
    ]
    preview = import_preview(files=[xlsx_file(rows)], bank=bank)
    assert [str(p) for p in preview.problems] == [
        "bank.xlsx:4: key F points at no option (options: A to B)"
    ]


def test_a_changed_stimulus_and_set_position_are_named(stored, t0):
    def in_set(stimulus: str, position: int) -> dict:
        item_set = {"id": "SET-1", "kind": "sequential", "position": position}
        return q("Q1", item_set={**item_set, "stimulus": stimulus})

    questions_import(bank=stored, files=[jsonl(in_set("<p>A 70-year-old man.</p>", 1))], now=t0)
    preview = import_preview(files=[jsonl(in_set("<p>A 72-year-old man.</p>", 2))], bank=stored)
    rows = {r["field"]: r["diff"] for r in preview.changes[0]["rows"]}
    assert set(rows) == {"Item set", "Stimulus"}
    assert "<del>70-year-old</del> <ins>72-year-old</ins>" in rows["Stimulus"]


def test_sample_files_past_the_inline_limit_are_left_out_of_the_page(bank, monkeypatch):
    import questions.services as services

    big = PNG + b"\x00" * 64
    src = "data:image/png;base64," + base64.b64encode(big).decode()
    monkeypatch.setattr(services, "PREVIEW_INLINE_MAX_BYTES", len(big) - 1)
    preview = import_preview(files=[jsonl(q("Q1", stem=f'<img src="{src}">'))], bank=bank)
    assert "data:" not in preview.sample[0].stem_html
    assert preview.count == 1 and not preview.problems
