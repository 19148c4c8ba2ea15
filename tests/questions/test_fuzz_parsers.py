"""Random text and bytes: every parser returns questions or clean problems, never raises."""

from __future__ import annotations

import functools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from questions.formats import PARSERS
from questions.formats.common import ImportProblem, ParsedQuestion
from questions.importing import ImportFile, iter_questions
from tests.questions.conftest import SAMPLES, zip_dir

SEEDS = {
    "json": (SAMPLES / "bank.json").read_text(),
    "csv": (SAMPLES / "excel.csv").read_text(encoding="utf-8-sig"),
    "moodlexml": (SAMPLES / "moodle_export.xml").read_text(),
    "gift": (SAMPLES / "all_features.gift").read_text(),
    "aiken": (SAMPLES / "quiz.aiken").read_text(),
    "qti": (SAMPLES / "qti_package/items/af-rate.xml").read_text(),
    "medqa": (SAMPLES / "medqa_sample.jsonl").read_text(),
}
# Workbooks are binary: text seeds only check that non-workbooks get clean problems; the
# corrupted-workbook test below flips bytes of real ones.
SEEDS["xlsx"] = SEEDS["ods"] = SEEDS["csv"]
SPECIALS = "{}[]<>=~#:\\/\"',;|&%$@\n\r\t ABCDE.)"


def check(fmt: str, data: bytes) -> None:
    for item in iter_questions([ImportFile("fuzz", data)], format=fmt):
        assert isinstance(item, (ParsedQuestion, ImportProblem))
        if isinstance(item, ImportProblem):
            assert str(item).startswith(("fuzz", "format"))


@st.composite
def mutated(draw, fmt: str) -> bytes:
    text = SEEDS[fmt]
    for _ in range(draw(st.integers(1, 6))):
        pos = draw(st.integers(0, len(text)))
        end = pos + draw(st.integers(0, 40))
        insert = draw(st.text(alphabet=st.sampled_from(SPECIALS) | st.characters(), max_size=12))
        text = text[:pos] + insert + text[end:]
    return (
        text.encode("utf-8", "surrogatepass")
        if draw(st.booleans())
        else text.encode("utf-8", "replace")
    )


FUZZ = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.parametrize("fmt", sorted(PARSERS))
@FUZZ
@given(data=st.binary(max_size=400))
def test_random_bytes_never_crash(fmt, data):
    check(fmt, data)


@pytest.mark.parametrize("fmt", sorted(PARSERS))
@FUZZ
@given(data=st.data())
def test_mutated_samples_never_crash(fmt, data):
    check(fmt, data.draw(mutated(fmt)))


@FUZZ
@given(data=st.text(alphabet=st.sampled_from(SPECIALS), max_size=300))
def test_auto_detection_on_random_text_never_crashes(data):
    check("auto", data.encode())


@settings(max_examples=50, deadline=None)
@given(data=st.data())
def test_corrupted_packages_never_crash(data):
    package = bytearray(zip_dir(SAMPLES / "qti_package"))
    for _ in range(data.draw(st.integers(1, 8))):
        pos = data.draw(st.integers(0, len(package) - 1))
        package[pos] = data.draw(st.integers(0, 255))
    check("qti", bytes(package))


@functools.cache
def _workbook(fmt: str) -> bytes:
    # Made once: openpyxl stamps the time into a workbook, and hypothesis needs a fixed seed.
    from tests.questions.test_files_as_people_have_them import HUMAN_ROWS, ods_file, xlsx_file

    return (xlsx_file if fmt == "xlsx" else ods_file)(HUMAN_ROWS).data


@pytest.mark.parametrize("fmt", ["xlsx", "ods"])
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_corrupted_workbooks_never_crash(fmt, data):
    book = bytearray(_workbook(fmt))
    for _ in range(data.draw(st.integers(1, 8))):
        pos = data.draw(st.integers(0, len(book) - 1))
        book[pos] = data.draw(st.integers(0, 255))
    check("auto", bytes(book))
