"""Every class of error is reported as FILE:LINE (or FILE:item N) and nothing is written."""

from __future__ import annotations

import json

import pytest

from questions.importing import ImportFile
from questions.models import Media, Tag
from questions.services import ImportRejected, questions_import
from tests.questions.conftest import counts, sample, zip_members

GOOD = {"external_id": "ok-1", "stem": "Fine?", "options": ["Yes", "No"], "key": "A"}


def rejected(bank, t0, *files: ImportFile, **kwargs) -> list[str]:
    """Import the files next to a valid question; assert nothing at all was written."""
    before = counts(), Media.objects.count(), Tag.objects.count()
    # A forced format applies to every file, so the valid JSON neighbour only comes along on auto.
    good = [] if "format" in kwargs else [ImportFile("good.jsonl", json.dumps(GOOD).encode())]
    with pytest.raises(ImportRejected) as caught:
        questions_import(bank=bank, files=[*good, *files], now=t0, **kwargs)
    assert (counts(), Media.objects.count(), Tag.objects.count()) == before
    return [str(p) for p in caught.value.problems]


def lines(*rows: dict | str) -> ImportFile:
    return ImportFile(
        "bad.jsonl", "\n".join(r if isinstance(r, str) else json.dumps(r) for r in rows).encode()
    )


def row(**fields) -> dict:
    return {"external_id": "b1", "stem": "S?", "options": ["x", "y", "z"], "key": "A", **fields}


def test_missing_key(bank, t0):
    data = lines(row(external_id="b0"), row(key=None))
    assert rejected(bank, t0, data) == ["bad.jsonl:2: missing key (no correct answer is marked)"]


def test_key_pointing_at_no_option(bank, t0):
    assert rejected(bank, t0, lines(row(key="E"))) == [
        "bad.jsonl:1: key E points at no option (options: A to C)"
    ]


def test_too_few_options(bank, t0):
    assert rejected(bank, t0, lines("", row(options=["only"]))) == [
        "bad.jsonl:2: too few options (1; a question needs at least 2)"
    ]


def test_more_than_26_options(bank, t0):
    options = [f"opt {i}" for i in range(27)]
    assert rejected(bank, t0, lines(row(options=options))) == [
        "bad.jsonl:1: too many options (27; at most 26, A to Z)"
    ]


def test_duplicate_external_id_within_the_upload(bank, t0):
    data = lines(row(), row(external_id="ok-1"), row())
    assert rejected(bank, t0, data) == [
        "bad.jsonl:2: duplicate external id 'ok-1' (first at good.jsonl:1)",
        "bad.jsonl:3: duplicate external id 'b1' (first at bad.jsonl:1)",
    ]


def test_unsupported_type_is_named(bank, t0):
    gift = ImportFile("q.gift", b"::E1::Discuss sepsis. {}\n")
    assert rejected(bank, t0, gift) == ["q.gift:1: essay question 'E1' is not supported"]


def test_bad_encoding_says_expected_utf8(bank, t0):
    data = "external_id,stem,option_a,option_b,key\nc1,Fi\u00e8vre?,a,b,A\n".encode("latin-1")
    assert rejected(bank, t0, ImportFile("latin1.csv", data)) == [
        "latin1.csv:2: expected UTF-8, found byte 0xe8"
    ]


def test_utf16_is_named(bank, t0):
    data = "Q?\nA. a\nB. b\nANSWER: A\n".encode("utf-16")
    problems = rejected(bank, t0, ImportFile("u16.txt", data), format="aiken")
    assert problems == ["u16.txt:1: expected UTF-8, found a UTF-16 byte-order mark (save as UTF-8)"]


def test_unbalanced_gift_braces_name_the_line(bank, t0):
    text = "::G1::Fine {=a ~b}\n\n::G2::Broken\n{=a\n~b\n\n::G3::Extra } here {=a ~b}\n"
    problems = rejected(bank, t0, ImportFile("b.gift", text.encode()))
    assert problems == [
        "b.gift:4: unbalanced braces: '{' opened on line 4 is never closed",
        "b.gift:7: unbalanced braces: '}' has no matching '{'",
    ]


def test_malformed_xml_names_the_line(bank, t0):
    text = '<?xml version="1.0"?>\n<quiz>\n  <question type="multichoice">\n    <name><text>x</name>\n</quiz>\n'
    (problem,) = rejected(bank, t0, ImportFile("broken.xml", text.encode()))
    assert problem.startswith("broken.xml:4: malformed XML: mismatched tag")


def test_missing_media_file(bank, t0):
    data = lines(row(stem='<p>See</p><img src="media:xray.png">'))
    assert rejected(bank, t0, data) == ["bad.jsonl:1: missing media file 'xray.png'"]


def test_moodle_plugin_file_without_its_file_element(bank, t0):
    text = sample("moodle_export.xml").data.replace(
        b'<file name="ecg strip.png"', b'<file name="other.png"'
    )
    problems = rejected(bank, t0, ImportFile("m.xml", text), skip_unsupported=True)
    assert problems == ["m.xml:14: missing media file 'ecg strip.png'"]


def test_missing_media_in_qti_package(bank, t0):
    item = sample("qti_package/items/af-rate.xml").data
    package = zip_members({"items/af-rate.xml": item})
    assert rejected(bank, t0, ImportFile("p.zip", package)) == [
        "p.zip/items/af-rate.xml:2: missing media file 'images/rhythm.png' in the package"
    ]


def test_empty_stem(bank, t0):
    assert rejected(bank, t0, lines(row(stem="<p> </p><script>x</script>"))) == [
        "bad.jsonl:1: empty stem"
    ]


def test_empty_option(bank, t0):
    csv = b"external_id,stem,option_a,option_b,option_c,key\nc1,S?,a,,c,A\n"
    assert rejected(bank, t0, ImportFile("e.csv", csv)) == ["e.csv:2: option B is empty"]


def test_aiken_without_answer_line(bank, t0):
    text = b"Q one?\nA. x\nB. y\nANSWER: B\n\nQ two?\nA. x\nB. y\n"
    assert rejected(bank, t0, ImportFile("a.txt", text), format="aiken") == [
        "a.txt:6: question has no ANSWER line (missing key)"
    ]


def test_csv_unknown_column_is_refused(bank, t0):
    csv = b"external_id,stem,option_a,option_b,key,explaination\nc1,S?,a,b,A,x\n"
    assert rejected(bank, t0, ImportFile("c.csv", csv)) == [
        "c.csv:1: unknown column(s): explaination"
    ]


def test_invalid_jsonl_line(bank, t0):
    assert rejected(bank, t0, lines(row(), '{"external_id": ')) == [
        "bad.jsonl:2: invalid JSON: Expecting value"
    ]


def test_medqa_answer_text_must_match_the_letter(bank, t0):
    line = {
        "question": "Q?",
        "options": {"A": "x", "B": "y"},
        "answer_idx": "A",
        "answer": "y",
        "meta_info": "step1",
    }
    assert rejected(bank, t0, ImportFile("m.jsonl", json.dumps(line).encode())) == [
        "m.jsonl:1: answer 'y' is not the text of option A"
    ]


def test_every_problem_in_the_upload_is_reported_at_once(bank, t0):
    data = lines(row(key="Q"), row(external_id="b2", options=[]), row(external_id="b3", stem=""))
    assert len(rejected(bank, t0, data)) == 4  # the second row has no options and no key target


def test_unknown_format_name(bank, t0):
    assert rejected(bank, t0, lines(row()), format="docx") == [
        "format: unknown format 'docx' (one of auto, json, csv, moodlexml, gift, aiken, qti, medqa, xlsx, ods)"
    ]
