"""Issue #13, item 6: spreadsheets as people make them, and Moodle's repeated names."""

from __future__ import annotations

import io
import zipfile

import pytest
from openpyxl import Workbook

from questions.importing import ImportFile
from questions.models import Question
from questions.services import ImportRejected, import_preview, questions_import
from tests.questions.conftest import counts


def csv_file(text: str, name: str = "sheet.csv") -> ImportFile:
    return ImportFile(name, text.encode())


def xlsx_file(rows: list[list[object]], name: str = "bank.xlsx") -> ImportFile:
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return ImportFile(name, buffer.getvalue())


def ods_file(rows: list[list[object]], name: str = "bank.ods") -> ImportFile:
    def cell(value: object) -> str:
        if isinstance(value, (int, float)):
            return (
                f'<table:table-cell office:value-type="float" office:value="{value}">'
                f"<text:p>{value}</text:p></table:table-cell>"
            )
        return f'<table:table-cell office:value-type="string"><text:p>{value}</text:p></table:table-cell>'

    body = "".join(
        "<table:table-row>"
        + "".join(cell(v) for v in row)
        # The padding LibreOffice writes up to the sheet's last column.
        + '<table:table-cell table:number-columns-repeated="16370"/>'
        + "</table:table-row>"
        for row in rows
    )
    content = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
        '<office:body><office:spreadsheet><table:table table:name="Sheet1">'
        f"{body}"
        '<table:table-row table:number-rows-repeated="1048000"><table:table-cell/></table:table-row>'
        "</table:table></office:spreadsheet></office:body></office:document-content>"
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(
            "mimetype", "application/vnd.oasis.opendocument.spreadsheet", zipfile.ZIP_STORED
        )
        archive.writestr("content.xml", content, zipfile.ZIP_DEFLATED)
        archive.writestr("META-INF/manifest.xml", "<manifest/>")
    return ImportFile(name, buffer.getvalue())


HUMAN_ROWS = [
    ["ID", "Question", "A", "B", "C", "D", "Correct Answer", "Rationale", "Subject"],
    [101, "Which drug is monitored by aPTT?", "Heparin", "Warfarin", "Aspirin", "Digoxin",
     "A", "aPTT tracks heparin.", "Medicine"],
    [102, "First-line drug for absence seizures?", "Phenytoin", "Ethosuximide", "Carbamazepine",
     "Gabapentin", "b", "Ethosuximide blocks T-type channels.", ""],
]  # fmt: skip


def test_csv_with_common_headers_imports(bank, t0):
    text = "\n".join(
        ",".join(f'"{c}"' for c in row) for row in HUMAN_ROWS
    )  # "Correct Answer", "A".."D", "Question": none of them our own names
    summary = questions_import(bank=bank, files=[csv_file(text)], now=t0)
    assert summary.new == 2
    q = Question.objects.get(bank=bank, external_id="102").current_version
    assert q.key_index == 1 and q.explanation_html == "Ethosuximide blocks T-type channels."
    assert [o["text"] for o in q.options] == [
        "Phenytoin",
        "Ethosuximide",
        "Carbamazepine",
        "Gabapentin",
    ]


@pytest.mark.parametrize(
    ("key_header", "key_value"),
    [("answer", "C"), ("ANSWER", "(c)"), ("Correct", "3"), ("key", "Aspirin"), ("Answer Key", "c")],
)
def test_csv_key_aliases_and_forms(bank, t0, key_header, key_value):
    text = f"question,option a,Option B,choice_c,{key_header}\nStem?,Heparin,Warfarin,Aspirin,{key_value}\n"
    questions_import(bank=bank, files=[csv_file(text)], now=t0)
    assert Question.objects.get(bank=bank).current_version.key_index == 2


def test_csv_without_ids_derives_them_from_the_wording(bank, t0):
    text = "question,a,b,answer\nStem one?,x,y,A\n"
    questions_import(bank=bank, files=[csv_file(text)], now=t0)
    again = questions_import(bank=bank, files=[csv_file(text)], now=t0)
    assert Question.objects.get(bank=bank).external_id.startswith("csv-")
    assert again.unchanged == 1


def test_unknown_header_is_refused_by_name_and_accepted_with_a_mapping(bank, t0):
    text = "Frage,A,B,Lösung\nWelches Medikament?,Heparin,Warfarin,A\n"
    with pytest.raises(ImportRejected) as caught:
        questions_import(bank=bank, files=[csv_file(text)], now=t0)
    assert caught.value.lines()[0].startswith("sheet.csv:1: unknown column(s): Frage, Lösung")

    summary = questions_import(
        bank=bank,
        files=[csv_file(text)],
        now=t0,
        column_map={"frage": "stem", "LÖSUNG": "key"},
    )
    assert summary.new == 1


def test_a_mapping_can_ignore_a_column(bank, t0):
    text = "question,a,b,answer,notes\nStem?,x,y,B,internal\n"
    preview = import_preview(files=[csv_file(text)], column_map={"notes": ""})
    assert preview.count == 1 and not preview.problems


def test_two_headers_meaning_the_same_column_are_refused(bank, t0):
    text = "question,a,b,answer,key\nStem?,x,y,B,B\n"
    with pytest.raises(ImportRejected) as caught:
        questions_import(bank=bank, files=[csv_file(text)], now=t0)
    assert "both give key" in caught.value.lines()[0]


def test_csv_without_tag_columns_keeps_the_tags(bank, outline_tags, t0):
    full = (
        "external_id,stem,option_a,option_b,key,system,source\nQ1,Stem?,x,y,A,cardiovascular,Ward\n"
    )
    questions_import(bank=bank, files=[csv_file(full)], now=t0)
    bare = "id,question,a,b,answer\nQ1,Stem?,x,y,A\n"
    summary = questions_import(bank=bank, files=[csv_file(bare)], now=t0)
    q = Question.objects.get(bank=bank, external_id="Q1")
    assert summary.unchanged == 1
    assert list(q.tags.values_list("slug", flat=True)) == ["cardiovascular"]
    assert q.current_version.source == "Ward"


@pytest.mark.parametrize("maker", [xlsx_file, ods_file])
def test_spreadsheets_are_read_directly(bank, t0, maker):
    summary = questions_import(bank=bank, files=[maker(HUMAN_ROWS)], now=t0)
    assert summary.new == 2
    q = Question.objects.get(bank=bank, external_id="101")
    assert q.current_version.key_index == 0
    assert q.current_version.options[3]["text"] == "Digoxin"
    assert list(q.tags.values_list("slug", flat=True)) == ["medicine"]


def test_spreadsheet_problems_name_the_file_and_row(bank, t0):
    rows = [HUMAN_ROWS[0], [*HUMAN_ROWS[1][:6], "F", "", ""]]
    with pytest.raises(ImportRejected) as caught:
        questions_import(bank=bank, files=[xlsx_file(rows)], now=t0)
    assert caught.value.lines() == ["bank.xlsx:2: key F points at no option (options: A to D)"]


def test_an_xlsx_chosen_as_csv_is_still_read_as_a_workbook(bank, t0):
    summary = questions_import(bank=bank, files=[xlsx_file(HUMAN_ROWS)], format="csv", now=t0)
    assert summary.new == 2


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("name", "data", "says"),
    [
        (
            "notes.docx",
            _zip({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w:document/>"}),
            "a Word document (.docx)",
        ),
        ("old.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, "old binary Office file"),
        ("scan.pdf", b"%PDF-1.7\n%\xe2\xe3\n1 0 obj", "a PDF document"),
        ("fake.xlsx", b"question,a,b,answer\n", "named as a spreadsheet but is not one"),
    ],
)
def test_a_file_that_is_neither_csv_nor_a_spreadsheet_gets_one_clear_error(
    bank, t0, name, data, says
):
    before = counts()
    with pytest.raises(ImportRejected) as caught:
        questions_import(bank=bank, files=[ImportFile(name, data)], now=t0)
    lines = caught.value.lines()
    assert len(lines) == 1 and lines[0].startswith(f"{name}:1: ") and says in lines[0]
    assert "assessmentItem" not in lines[0]
    assert counts() == before


MOODLE_GIFT = b"""// From Moodle's GIFT test fixture: two questions share a title.
::2-08 TSL::Which is a lipid-lowering drug?{=Atorvastatin ~Aspirin ~Heparin}

::2-08 TSL::Which drug is an anticoagulant?{~Atorvastatin ~Aspirin =Heparin}

::2-08 TSL (2)::A third, named like a derived id.{=Yes ~No}
"""


def test_repeated_gift_titles_get_derived_ids_and_a_warning(bank, t0):
    preview = import_preview(files=[ImportFile("moodle.gift", MOODLE_GIFT)])
    assert preview.count == 3 and not preview.problems
    assert [str(w) for w in preview.warnings] == [
        "moodle.gift:4: the name '2-08 TSL' is also used at moodle.gift:2: "
        "imported as '2-08 TSL (2)'",
        "moodle.gift:6: the name '2-08 TSL (2)' is also used at moodle.gift:4: "
        "imported as '2-08 TSL (2) (2)'",
    ]
    summary = questions_import(bank=bank, files=[ImportFile("moodle.gift", MOODLE_GIFT)], now=t0)
    assert summary.new == 3 and len(summary.warnings) == 2
    again = questions_import(bank=bank, files=[ImportFile("moodle.gift", MOODLE_GIFT)], now=t0)
    assert (again.new, again.new_versions, again.unchanged) == (0, 0, 3)


def _moodle(*questions: tuple[str, str]) -> bytes:
    body = "".join(
        f'<question type="multichoice"><name><text>{name}</text></name>'
        f"<questiontext><text>Q?</text></questiontext>{idnumber}"
        '<answer fraction="100"><text>Yes</text></answer>'
        '<answer fraction="0"><text>No</text></answer></question>'
        for name, idnumber in questions
    )
    return f"<quiz>{body}</quiz>".encode()


def test_repeated_moodle_names_get_derived_ids(bank, t0):
    data = _moodle(("Dose", ""), ("Dose", ""))
    summary = questions_import(bank=bank, files=[ImportFile("quiz.xml", data)], now=t0)
    assert summary.new == 2
    assert set(Question.objects.values_list("external_id", flat=True)) == {"Dose", "Dose (2)"}


def test_a_repeated_moodle_idnumber_is_still_refused(bank, t0):
    data = _moodle(("A", "<idnumber>X1</idnumber>"), ("B", "<idnumber>X1</idnumber>"))
    with pytest.raises(ImportRejected) as caught:
        questions_import(bank=bank, files=[ImportFile("quiz.xml", data)], now=t0)
    assert "duplicate external id 'X1'" in caught.value.lines()[0]
