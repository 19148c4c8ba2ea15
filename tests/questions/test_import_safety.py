"""Sanitising in every format, hostile XML, hostile archives, and media types."""

from __future__ import annotations

import io
import json
import zipfile

import pytest

from questions.formats import WRITERS
from questions.formats.common import MAX_ARCHIVE_TOTAL_BYTES, ParsedQuestion, question_html_fields
from questions.importing import ImportFile, scan
from questions.models import Media
from questions.services import ImportRejected, questions_import
from tests.questions.conftest import counts, zip_members

# Well-formed XHTML, so it can sit inside QTI and Moodle XML as it is.
PAYLOAD = (
    '<p style="color:red" onclick="steal()">Dose</p><script>alert(1)</script>'
    '<img src="https://example.org/x.png" onerror="alert(2)" alt="x" />'
    '<a href="javascript:alert(3)">link</a>'
    "<table><tr><td>H<sub>2</sub>O and Ca<sup>2+</sup></td></tr></table>"
    '<img src="https://example.org/ok.png" alt="kept" />'
)


def hostile() -> ParsedQuestion:
    return ParsedQuestion(
        external_id="evil-1",
        stem_html=PAYLOAD,
        options=[
            {"text": PAYLOAD, "explanation": PAYLOAD},
            {"text": PAYLOAD, "explanation": PAYLOAD},
        ],
        key_index=1,
        explanation_html=PAYLOAD,
        objective_html=PAYLOAD,
        item_set={"external_id": "s", "kind": "abstract", "position": 1, "stimulus_html": PAYLOAD},
    )


def written(fmt: str) -> ImportFile:
    if fmt == "qti":
        out = io.BytesIO()
        WRITERS[fmt]([hostile()], out)
        return ImportFile("evil.zip", out.getvalue())
    out = io.StringIO()
    WRITERS[fmt]([hostile()], out)
    return ImportFile(
        f"evil.{ {'json': 'json', 'csv': 'csv', 'moodlexml': 'xml', 'gift': 'gift'}[fmt] }",
        out.getvalue().encode(),
    )


@pytest.mark.parametrize("fmt", ["json", "csv", "moodlexml", "gift", "qti"])
def test_every_html_field_is_sanitised(fmt):
    result = scan([written(fmt)], sample=1)
    assert result.problems == []
    (q,) = result.sample
    fields = [f for f in question_html_fields(q) if f]
    # Each format carries a different set of fields, but stem, options and feedback always.
    assert len(fields) >= 5
    for value in fields:
        lowered = value.lower()
        assert "<script" not in lowered and "alert(1)" not in lowered
        assert "onerror" not in lowered and "onclick" not in lowered
        assert "javascript:" not in lowered and "style=" not in lowered
        assert "<table>" in value and "<sub>2</sub>" in value and "<sup>2+</sup>" in value
        assert '<img src="https://example.org/ok.png" alt="kept">' in value


@pytest.mark.parametrize("fmt", ["aiken", "medqa"])
def test_plain_text_formats_escape_markup(fmt):
    if fmt == "aiken":
        data = f"{PAYLOAD}\nA. {PAYLOAD}\nB. b\nANSWER: A\n".encode()
    else:
        data = json.dumps(
            {
                "question": PAYLOAD,
                "options": {"A": PAYLOAD, "B": "b"},
                "answer_idx": "A",
                "answer": PAYLOAD,
            }
        ).encode()
    result = scan([ImportFile("evil.txt", data)], format=fmt, sample=1)
    (q,) = result.sample
    for value in (q.stem_html, q.options[0]["text"]):
        assert "<script" not in value and "<img" not in value
        assert "&lt;script&gt;" in value


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<quiz><question type="multichoice"><name><text>&lol3;</text></name></question></quiz>
"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE quiz [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<quiz><question type="multichoice"><name><text>&xxe;</text></name></question></quiz>
"""


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (BILLION_LAUGHS, "XML entity declaration 'lol' refused"),
        (EXTERNAL_ENTITY, "XML entity declaration 'xxe' refused"),
    ],
)
def test_xml_entity_attacks_are_refused(bank, t0, data, expected):
    with pytest.raises(ImportRejected) as caught:
        questions_import(bank=bank, files=[ImportFile("attack.xml", data)], now=t0)
    (problem,) = caught.value.problems
    assert str(problem).startswith("attack.xml:") and expected in str(problem)
    assert counts() == (0, 0)


def test_entity_attack_inside_a_qti_package_is_refused(bank, t0):
    attack = BILLION_LAUGHS.replace(b"<quiz>", b"<assessmentItem>").replace(
        b"</quiz>", b"</assessmentItem>"
    )
    package = zip_members({"imsmanifest.xml": b"<manifest/>", "items/a.xml": attack})
    with pytest.raises(ImportRejected) as caught:
        questions_import(bank=bank, files=[ImportFile("p.zip", package)], now=t0)
    assert "entity declaration" in str(caught.value.problems[0])


@pytest.mark.parametrize(
    "name", ["../evil.xml", "/etc/evil.xml", "items/../../evil.xml", "C:/evil.xml"]
)
def test_zip_path_traversal_is_refused(bank, t0, name):
    package = zip_members({"imsmanifest.xml": b"<manifest/>", name: b"<assessmentItem/>"})
    with pytest.raises(ImportRejected) as caught:
        questions_import(bank=bank, files=[ImportFile("p.zip", package)], now=t0)
    (problem,) = caught.value.problems
    assert str(problem).startswith("p.zip:item 2: member path") and "escapes the archive" in str(
        problem
    )
    assert counts() == (0, 0)


def test_zip_bomb_ratio_is_refused(bank, t0):
    package = zip_members(
        {"imsmanifest.xml": b"<manifest/>", "items/big.xml": b"\0" * (20 * 1024 * 1024)}
    )
    assert len(package) < 100_000
    with pytest.raises(ImportRejected) as caught:
        questions_import(bank=bank, files=[ImportFile("bomb.zip", package)], now=t0)
    assert "likely zip bomb" in str(caught.value.problems[0])
    assert str(caught.value.problems[0]).startswith("bomb.zip:item 2: ")


def test_zip_total_size_is_limited(bank, t0, monkeypatch):
    from questions.formats import common

    monkeypatch.setattr(common, "MAX_ARCHIVE_TOTAL_BYTES", 1000)
    package = zip_members({f"items/{i}.xml": bytes(range(256)) * 2 for i in range(3)})
    with pytest.raises(ImportRejected) as caught:
        questions_import(bank=bank, files=[ImportFile("big.zip", package)], now=t0)
    assert "archive expands to more than 1000 bytes" in str(caught.value.problems[0])
    assert MAX_ARCHIVE_TOTAL_BYTES > 1000


def test_lying_zip_header_is_refused(bank, t0):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        archive.writestr("items/a.xml", b"<assessmentItem/>" * 10)
    raw = bytearray(buffer.getvalue())
    # Shrink the declared size in the central directory: the reader must not trust it.
    central = raw.rfind(b"PK\x01\x02")
    raw[central + 24 : central + 28] = (5).to_bytes(4, "little")
    with pytest.raises(ImportRejected):
        questions_import(bank=bank, files=[ImportFile("liar.zip", bytes(raw))], now=t0)
    assert counts() == (0, 0)


def test_oversized_file_is_refused(bank, t0, monkeypatch):
    from questions import importing

    monkeypatch.setattr(importing, "MAX_FILE_BYTES", 100)
    with pytest.raises(ImportRejected) as caught:
        questions_import(bank=bank, files=[ImportFile("big.jsonl", b" " * 101)], now=t0)
    assert str(caught.value.problems[0]) == "big.jsonl:1: file is 101 bytes (limit 100)"


@pytest.mark.parametrize(
    ("name", "content_type"),
    [("x.svg", "image/svg+xml"), ("x.html", "text/html"), ("x.exe", "application/octet-stream")],
)
def test_only_image_audio_and_video_media(bank, t0, name, content_type):
    question = {
        "external_id": "m1",
        "stem": f'<img src="media:{name}">',
        "options": ["a", "b"],
        "key": "A",
        "media": [{"name": name, "content_type": content_type, "data_base64": "PHN2Zz4="}],
    }
    with pytest.raises(ImportRejected) as caught:
        questions_import(
            bank=bank, files=[ImportFile("m.jsonl", json.dumps(question).encode())], now=t0
        )
    assert "only images, audio and video" in str(caught.value.problems[0])
    assert Media.objects.count() == 0


# --- nested archives --------------------------------------------------------------------------


def test_nested_archives_count_toward_the_expansion_cap(bank, t0, monkeypatch):
    from questions.formats import common

    # Each inner package and the outer archive are under the cap on their own; together not.
    monkeypatch.setattr(common, "MAX_ARCHIVE_TOTAL_BYTES", 3000)
    inner = zip_members({f"items/{i}.xml": b"<assessmentItem/>" + b" " * 900 for i in range(2)})
    outer = zip_members({f"pkg{n}.zip": inner for n in range(4)})
    result = scan([ImportFile("nested.zip", outer)])
    assert result.problems, "four 1.8 kB packages must not pass a 3 kB expansion cap"
    assert any(
        "more than 3000 bytes" in p.message and p.origin.startswith("nested.zip")
        for p in result.problems
    )


# --- malformed text -------------------------------------------------------------------------


def _jsonl(**fields) -> ImportFile:
    question = {"external_id": "q1", "stem": "Which?", "options": ["a", "b"], "key": "A"}
    question.update(fields)
    # ensure_ascii keeps \u escapes, as a hand-edited or generated file would have them.
    return ImportFile("bad.jsonl", ("\n" + json.dumps(question) + "\n").encode())


@pytest.mark.parametrize(
    ("fields", "what"),
    [
        ({"external_id": "q\u00001"}, "NUL"),
        ({"external_id": "q\ud8001"}, "lone surrogate"),
        ({"stem": "Which\u0000?"}, "NUL"),
        ({"stem": "Which\udfff?"}, "lone surrogate"),
        ({"options": ["a\u0000", "b"]}, "NUL"),
        ({"source": "Ref \ud800"}, "lone surrogate"),
        ({"explanation": "bell \u0007"}, "control character"),
        ({"tags": {"topic": ["ok\u0000tag"]}}, "NUL"),
    ],
)
def test_malformed_text_is_a_line_error_in_the_preview_and_writes_nothing(bank, t0, fields, what):
    result = scan([_jsonl(**fields)])
    assert result.count == 0
    (problem,) = result.problems
    assert problem.origin == "bad.jsonl:2"
    assert what in problem.message
    with pytest.raises(ImportRejected):
        questions_import(bank=bank, files=[_jsonl(**fields)], now=t0)
    assert counts() == (0, 0)


def test_malformed_text_preview_page_is_not_a_500(client, instructor, bank):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.urls import reverse

    bank.owners.add(instructor)
    client.force_login(instructor)
    for fields in ({"external_id": "q\ud800"}, {"external_id": "q\u0000"}):
        response = client.post(
            reverse("teach:upload", args=[bank.uuid]),
            {"files": SimpleUploadedFile("bad.jsonl", _jsonl(**fields).data), "format": "auto"},
        )
        assert response.status_code == 200
        assert not response.context["can_import"]
        assert response.context["problems"][0].startswith("bad.jsonl:2: ")


# --- media types are sniffed from the bytes -----------------------------------------------------

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 32
SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'


def _with_media(name: str, content_type: str, data: bytes) -> ImportFile:
    import base64

    question = {
        "external_id": "m1",
        "stem": f'<img src="media:{name}">',
        "options": ["a", "b"],
        "key": "A",
        "media": [
            {
                "name": name,
                "content_type": content_type,
                "data_base64": base64.b64encode(data).decode(),
            }
        ],
    }
    return ImportFile("m.jsonl", json.dumps(question).encode())


@pytest.mark.parametrize(
    "content_type",
    [
        "image/svg+xml ",
        "image/svg+xml;charset=utf-8",
        "image/x-svg+xml",
        "IMAGE/SVG+XML",
        "image/png",
        "",
    ],
)
def test_svg_is_refused_however_it_is_labelled(bank, t0, content_type):
    with pytest.raises(ImportRejected) as caught:
        questions_import(bank=bank, files=[_with_media("x.png", content_type, SVG)], now=t0)
    assert "only images, audio and video" in str(caught.value.problems[0])
    assert Media.objects.count() == 0


@pytest.mark.parametrize(
    ("data", "sniffed"),
    [
        (PNG, "image/png"),
        (b"\xff\xd8\xff\xe0" + b"\0" * 16, "image/jpeg"),
        (b"GIF89a" + b"\0" * 16, "image/gif"),
        (b"RIFF\x10\0\0\0WEBPVP8 " + b"\0" * 8, "image/webp"),
        (b"ID3\x04\0\0" + b"\0" * 16, "audio/mpeg"),
        (b"OggS\0\x02" + b"\0" * 16, "audio/ogg"),
        (b"RIFF\x10\0\0\0WAVEfmt " + b"\0" * 8, "audio/wav"),
        (b"\0\0\0\x18ftypisom" + b"\0" * 12, "video/mp4"),
        (b"\0\0\0\x18ftypM4A " + b"\0" * 12, "audio/mp4"),
        (b"\x1a\x45\xdf\xa3" + b"\0" * 16, "video/webm"),
    ],
)
def test_media_is_stored_with_the_type_sniffed_from_its_bytes(bank, t0, data, sniffed):
    questions_import(
        bank=bank, files=[_with_media("file.bin", "application/octet-stream", data)], now=t0
    )
    assert Media.objects.get().content_type == sniffed
