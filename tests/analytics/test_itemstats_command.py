"""`manage.py itemstats`: JSON and table output, and errors that point at FILE:LINE."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

ROOT = Path(__file__).resolve().parents[2]
LSAT6 = ROOT / "analytics" / "data" / "lsat6_responses.csv"
LSAT7 = ROOT / "analytics" / "data" / "lsat7_responses.csv"


def run(*args: str) -> str:
    out = StringIO()
    call_command("itemstats", *args, stdout=out)
    return out.getvalue()


def write(tmp_path: Path, text: str | bytes, name: str = "marks.csv") -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def error_of(*args: str) -> CommandError:
    with pytest.raises(CommandError) as caught:
        run(*args)
    assert caught.value.returncode == 1
    return caught.value


def test_json_output_has_exactly_the_documented_fields_in_fractions_and_marks():
    payload = json.loads(run(str(LSAT6), "--json"))

    assert set(payload) == {"items", "test"}
    assert [item["id"] for item in payload["items"]] == [f"item{i}" for i in range(1, 6)]
    assert all(
        set(item)
        == {
            "id",
            "facility",
            "sd",
            "discrimination_index",
            "discriminative_efficiency",
            "effective_weight",
            "intended_weight",
        }
        for item in payload["items"]
    )
    assert set(payload["test"]) == {
        "attempts",
        "mean",
        "median",
        "sd",
        "skewness",
        "kurtosis",
        "alpha",
        "error_ratio",
        "standard_error",
    }
    # Published LSAT6 proportions correct, as fractions; the mean in marks out of 5.
    assert [i["facility"] for i in payload["items"]] == pytest.approx(
        [0.924, 0.709, 0.553, 0.763, 0.870]
    )
    assert payload["test"]["attempts"] == 1000
    assert payload["test"]["mean"] == pytest.approx(3.819)
    assert payload["test"]["alpha"] == pytest.approx(0.2950, abs=5e-5)


def test_json_uses_null_for_undefined_statistics(tmp_path):
    path = write(tmp_path, "attempt,q1,q2\nA,1,0\n")

    payload = json.loads(run(str(path), "--json"))

    assert payload["items"][0]["discrimination_index"] is None
    assert payload["test"]["sd"] is None
    assert payload["test"]["mean"] == 1.0


def test_table_lists_every_item_aligned_with_flags_and_the_test_summary():
    text = run(str(LSAT7))
    lines = text.splitlines()

    header = lines[0]
    assert header.split()[:7] == [
        "item",
        "facility%",
        "sd%",
        "disc.index%",
        "disc.eff%",
        "eff.wt%",
        "int.wt%",
    ]
    rows = lines[1:6]
    assert [row.split()[0] for row in rows] == [f"item{i}" for i in range(1, 6)]
    # Numbers are right-aligned under their headers.
    facility_end = header.index("facility%") + len("facility%")
    assert all(row[facility_end - 5 : facility_end] for row in rows)
    assert rows[0][:facility_end].rstrip().endswith("82.80")
    assert "low_discrimination" in rows[4]  # LSAT7 item 5: item-rest r = 0.17
    assert "Cronbach's alpha" in text
    assert "0.453" in text
    assert "3.707 / 5" in text


def test_blank_lines_and_a_byte_order_mark_are_accepted(tmp_path):
    path = write(tmp_path, "\ufeffattempt,q1,q2\n\nA,1,0\nB,0.5,1\n\n")

    payload = json.loads(run(str(path), "--json"))

    assert payload["test"]["attempts"] == 2
    assert payload["items"][0]["id"] == "q1"


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("attempt,q1,q2\nA,1,0\nB,1,yes\n", ":3: column 3 (q2): 'yes' is not a number"),
        ("attempt,q1,q2\nA,,0\n", ":2: column 2 (q1): '(empty)' is not a number"),
        ("attempt,q1,q2\nA,1,0\nB,1.5,0\n", ":3: column 2 (q1): 1.5 is outside 0..1"),
        ("attempt,q1,q2\nA,1,-0.1\n", ":2: column 3 (q2): -0.1 is outside 0..1"),
        ("attempt,q1,q2\nA,nan,0\n", ":2: column 2 (q1): nan is outside 0..1"),
        ("attempt,q1,q2\nA,1,0\nB,1\n", ":3: expected 3 columns like the header, found 2"),
        ("attempt,q1,q2\nA,1,0,1\n", ":2: expected 3 columns like the header, found 4"),
        ("attempt,q1,q1\nA,1,0\n", ":1: column 3: item id 'q1' repeats column 2"),
        ("attempt,q1,\nA,1,0\n", ":1: column 3 has no item id"),
        ("attempt\nA\n", ":1: the header needs an attempt-id column and at least one item"),
        ("attempt,q1\n", ":1: no attempt rows after the header"),
        ("", ":1: empty file"),
        ("\n\n  \n", ":1: empty file"),
    ],
)
def test_bad_input_is_reported_with_file_line_and_column(tmp_path, content, expected):
    path = write(tmp_path, content)

    error = error_of(str(path))

    assert str(error).startswith(str(path))
    assert expected in str(error)


def test_a_quoted_newline_does_not_throw_off_line_numbers(tmp_path):
    path = write(tmp_path, 'attempt,q1\n"A\nsecond line",1\nB,2\n')

    assert ":4: column 2 (q1): 2 is outside 0..1" in str(error_of(str(path)))


def test_text_that_is_not_utf8_is_reported_at_its_line(tmp_path):
    path = write(tmp_path, "attempt,q1\nA,1\nJosé,0\n".encode("latin-1"))

    error = error_of(str(path))

    assert f"{path}:3: not UTF-8 text" in str(error)


def test_a_missing_file_is_reported(tmp_path):
    missing = tmp_path / "nope.csv"

    assert str(error_of(str(missing))) == f"{missing}: no such file"


def test_a_directory_is_reported(tmp_path):
    assert "is a directory" in str(error_of(str(tmp_path)))


def _manage(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", "itemstats", *args],
        cwd=ROOT,
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_command_line_exits_1_with_the_message_on_stderr(tmp_path):
    path = write(tmp_path, "attempt,q1\nA,high\n")

    done = _manage(str(path))

    assert done.returncode == 1
    assert f"{path}:2: column 2 (q1): 'high' is not a number" in done.stderr
    assert done.stdout == ""


def test_the_command_line_exits_0_with_json_on_stdout():
    done = _manage(str(LSAT6), "--json")

    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["test"]["attempts"] == 1000
