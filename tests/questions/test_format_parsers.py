"""Every format parses its sample into the right questions (no database writes here)."""

from __future__ import annotations

import pytest

from questions.formats import detect
from questions.formats.common import ParseContext
from questions.importing import ImportFile, scan
from tests.questions.conftest import sample


def parsed(*files: ImportFile, context: ParseContext | None = None, format: str = "auto"):
    result = scan(list(files), format=format, context=context, sample=100)
    return result, {q.external_id: q for q in result.sample}


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("bank.json", "json"),
        ("excel.csv", "csv"),
        ("moodle_export.xml", "moodlexml"),
        ("all_features.gift", "gift"),
        ("quiz.aiken", "aiken"),
        ("medqa_sample.jsonl", "medqa"),
    ],
)
def test_format_is_detected_from_name_and_content(name, expected):
    assert detect(sample(name)) == expected
    # Content alone is enough too.
    assert detect(ImportFile("upload.txt", sample(name).data)) == expected


def test_qti_package_is_detected(qti_package):
    assert detect(qti_package) == "qti"


def test_mockboard_json_carries_every_field():
    result, qs = parsed(sample("bank.json"))
    assert result.problems == [] and result.count == 3
    q = qs["CK-0001"]
    assert q.key_index == 0
    assert [o["text"] for o in q.options] == [
        "Aspirin and primary PCI",
        "Observation",
        "Thrombolysis after 24 hours",
    ]
    assert q.options[0]["explanation"] == "Reperfusion within 90 minutes."
    assert q.tags == {
        "discipline": ["medicine"],
        "system": ["cardiovascular"],
        "task": ["pharmacotherapy"],
        "topic": ["acute-coronary-syndrome"],
    }
    assert q.difficulty == 0.42 and q.source == "Mockboard authors" and q.licence == "CC BY 4.0"
    assert 'src="media:st-elevation.png"' in q.stem_html
    assert q.media[0][0] == "st-elevation.png" and q.media[0][1] == "image/png"
    assert "<table>" in q.explanation_html
    assert qs["CK-0003"].item_set == {
        "external_id": "SET-1",
        "kind": "sequential",
        "position": 2,
        "stimulus_html": "<p>A 70-year-old man with a DVT.</p>",
    }


def test_mockboard_jsonl_reports_line_numbers():
    data = (
        b'{"external_id": "a", "stem": "S", "options": ["x", "y"], "key": "B"}\n'
        b"\n"
        b'{"external_id": "b", "stem": "S", "options": ["x", "y"], "key": "C"}\n'
    )
    result, qs = parsed(ImportFile("b.jsonl", data))
    assert qs["a"].key_index == 1
    assert [str(p) for p in result.problems] == [
        "b.jsonl:3: key C points at no option (options: A to B)"
    ]


def test_csv_from_excel_with_bom_and_crlf():
    result, qs = parsed(sample("excel.csv"))
    assert result.problems == []
    q = qs["CSV-1"]
    assert q.origin == "excel.csv:2"
    assert q.stem_html == "A 30-year-old has a painless, firm thyroid nodule.\nNext step?"
    assert [o["text"] for o in q.options] == ["TSH", "Fine-needle aspiration", "Thyroidectomy"]
    assert q.tags["topic"] == ["thyroid-nodule", "endocrine-tumours"]
    assert q.tag_names["topic:thyroid-nodule"] == "Thyroid nodule"
    assert q.difficulty == 0.3
    # The quoted stem spans two lines, so the next row starts on line 4.
    assert qs["CSV-2"].origin == "excel.csv:4"
    assert len(qs["CSV-2"].options) == 2


def test_moodle_export_with_categories_media_and_feedback(outline_tags):
    context = ParseContext(outline={"cardiology": "system", "medicine": "discipline"})
    result, qs = parsed(sample("moodle_export.xml"), context=context)
    assert result.problems == []
    q = qs["HF-001"]
    assert q.origin == "moodle_export.xml:14"
    assert q.key_index == 0
    assert q.tags["system"] == ["cardiology"]
    assert q.tags["topic"] == ["heart-failure", "exam-2025"]
    assert q.tags["task"] == ["pharmacotherapy"]
    assert q.options[1]["explanation"] == "Not in acute decompensation."
    assert "Na<sub>2</sub>" in q.explanation_html
    assert 'src="media:ecg strip.png"' in q.stem_html
    assert q.media[0][:2] == ("ecg strip.png", "image/png")
    assert q.media[0][2].startswith(b"\x89PNG")
    tf = qs["PE-TF-1"]
    assert [o["text"] for o in tf.options] == ["True", "False"]
    assert tf.key_index == 0 and tf.tags == {"topic": ["pulmonology"]}
    assert "&amp;" in tf.stem_html


def test_moodle_unsupported_types_are_named_with_position():
    result, _ = parsed(sample("moodle_export.xml"))
    assert [str(p) for p in result.unsupported] == [
        "moodle_export.xml:57: essay question 2 'Describe the NYHA classes' is not supported",
        "moodle_export.xml:99: matching question 4 'Match drugs to classes' is not supported",
        "moodle_export.xml:109: multichoice (multiple answers) question 5 'Pick all bronchodilators' is not supported",
        "moodle_export.xml:123: shortanswer question 6 'Name the vector' is not supported",
        "moodle_export.xml:134: numerical question 7 'Anion gap' is not supported",
    ]


def test_gift_features():
    result, qs = parsed(sample("all_features.gift"))
    assert result.problems == []
    q = qs["AB-001"]
    assert q.origin == "all_features.gift:6"
    assert q.stem_html.startswith("<p>A patient has pH 7.28, PaCO<sub>2</sub>")
    assert q.options[0] == {
        "text": "Metabolic acidosis with respiratory compensation",
        "explanation": "The low bicarbonate drives the pH.",
    }
    assert q.options[2]["explanation"] == ""
    # "\=" is an escaped equals sign inside general feedback.
    assert "expected PaCO2 = 1.5" in q.explanation_html
    assert q.tags == {"topic": ["nephrology", "acid-base"]}
    md = qs["AB-002"]
    assert "<strong>not</strong>" in md.stem_html and "{MUDPILES}" in md.stem_html
    assert md.key_index == 2
    assert "bicarbonate: a <em>normal</em> gap" in md.options[2]["explanation"]
    tf = qs["AB-003"]
    assert tf.stem_html == "Ratio check: is 3 &lt; 4 and 5 &gt; 2 in every case?"
    assert tf.options == [
        {"text": "True", "explanation": "Yes, always."},
        {"text": "False", "explanation": "No, read again."},
    ]
    missing_word = qs["AB-004"]
    assert missing_word.stem_html == "The kidney excretes acid mainly as _____ in chronic acidosis."
    assert [o["text"] for o in missing_word.options] == ["ammonium", "phosphate", "bicarbonate"]
    untitled = next(q for k, q in qs.items() if k.startswith("gift-"))
    assert untitled.tags == {"topic": ["endocrinology"]}


def test_gift_unsupported_types_are_named():
    result, _ = parsed(sample("all_features.gift"))
    assert [str(p) for p in result.unsupported] == [
        "all_features.gift:32: essay question 'ESSAY-1' is not supported",
        "all_features.gift:34: numerical question 'NUM-1' is not supported",
        "all_features.gift:36: matching question 'MATCH-1' is not supported",
        "all_features.gift:41: short answer question 'SHORT-1' is not supported",
        "all_features.gift:43: multiple-response question 'MULTI-1' (weighted answers) is not supported",
    ]


def test_aiken_both_option_styles():
    result, qs = parsed(sample("quiz.aiken"))
    assert result.problems == [] and result.count == 2
    first, second = sorted(qs.values(), key=lambda q: q.origin)
    assert first.origin == "quiz.aiken:1" and second.origin == "quiz.aiken:8"
    assert [o["text"] for o in first.options][0] == "Radial nerve" and first.key_index == 0
    assert second.options[2]["text"] == "Amoxicillin &lt;script&gt;x&lt;/script&gt; for 3 days"


def test_medqa_lines():
    result, qs = parsed(sample("medqa_sample.jsonl"))
    assert result.problems == [] and result.count == 2
    first, second = sorted(qs.values(), key=lambda q: q.origin)
    assert first.key_index == 1 and len(first.options) == 5
    assert first.tags == {"topic": ["medqa-step2-3"]}
    assert "MedQA" in first.source
    # The stray closing quote some upstream stems carry is dropped.
    assert second.stem_html.endswith("most likely responsible?")


def test_qti_package_resolves_image_from_package(qti_package):
    result, qs = parsed(qti_package)
    assert result.problems == []
    q = qs["AF-RATE-1"]
    assert q.origin == "cardio-qti.zip/items/af-rate.xml:2"
    assert 'src="media:images/rhythm.png"' in q.stem_html
    assert "onload" not in q.stem_html
    assert q.stem_html.endswith("Which drug is the best first choice for <em>rate</em> control?")
    assert [o["text"] for o in q.options] == ["Amiodarone", "Metoprolol", "Adenosine"]
    assert q.options[1]["explanation"] == "A beta blocker controls the rate."
    assert q.key_index == 1
    assert "calcium channel blockers" in q.explanation_html
    assert q.media[0][0] == "images/rhythm.png" and q.media[0][2].startswith(b"\x89PNG")


def test_loose_qti_item_without_its_image_reports_missing_media():
    data = sample("qti_package/items/af-rate.xml").data
    result, _ = parsed(ImportFile("af-rate.xml", data))
    assert result.count == 0
    assert [str(p) for p in result.problems] == [
        "af-rate.xml:2: missing media file '../images/rhythm.png' (upload the content package zip)"
    ]


def test_qti_multiple_response_is_unsupported():
    data = sample("qti_package/items/af-rate.xml").data.replace(
        b'cardinality="single" baseType="identifier"',
        b'cardinality="multiple" baseType="identifier"',
    )
    result, _ = parsed(ImportFile("multi.xml", data))
    assert result.count == 0
    assert "multiple response" in str(result.unsupported[0])
    assert str(result.unsupported[0]).startswith("multi.xml:2: ")


def test_format_argument_overrides_detection():
    data = sample("quiz.aiken").data
    result, _ = parsed(ImportFile("quiz.txt", data), format="gift")
    # Read as GIFT the Aiken file has no answer block: the override was honoured.
    assert result.count == 0 and "no answer block" in str(result.problems[0])


def test_real_medqa_file_parses_completely():
    from pathlib import Path

    path = Path("/work/shared/data/medqa/us_4options_test.jsonl")
    if not path.exists():
        pytest.skip("shared MedQA data not present")
    result = scan([ImportFile(path.name, path.read_bytes())])
    assert result.problems == [] and result.count == 1273
