"""The import_questions / export_questions commands: exit codes and exact output lines."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from questions.models import Bank, Question
from tests.questions.conftest import SAMPLES, counts


@pytest.fixture(autouse=True)
def owner(db, django_user_model):
    return django_user_model.objects.create_user(
        username="owner", password="x", role=django_user_model.Role.INSTRUCTOR
    )


def run(*args: str) -> tuple[int, str, str]:
    if args[0] == "import_questions" and "--owner" not in args:
        args = (*args, "--owner", "owner")
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command(*args, stdout=out, stderr=err)
        code = 0
    except SystemExit as exc:
        code = exc.code
    return code, out.getvalue(), err.getvalue()


def test_import_creates_the_bank_and_prints_one_line(db):
    code, out, err = run("import_questions", str(SAMPLES / "bank.json"), "--bank", "new-bank")
    assert code == 0 and err == ""
    assert out == "imported 3 questions: 3 new, 0 new versions, 0 unchanged\n"
    assert Bank.objects.get(slug="new-bank").questions.count() == 3
    code, out, _ = run("import_questions", str(SAMPLES / "bank.json"), "--bank", "new-bank")
    assert out == "imported 3 questions: 0 new, 0 new versions, 3 unchanged\n"


def test_a_bank_created_from_the_cli_belongs_to_its_owner(owner):
    code, _, _ = run("import_questions", str(SAMPLES / "bank.json"), "--bank", "owned")
    assert code == 0
    assert list(Bank.objects.get(slug="owned").owners.all()) == [owner]


def test_a_new_bank_without_an_owner_is_refused(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="--owner USERNAME is required"):
        call_command("import_questions", str(SAMPLES / "bank.json"), "--bank", "orphan")
    assert not Bank.objects.exists()


def test_an_unknown_or_examinee_owner_is_refused(db, examinee):
    from django.core.management.base import CommandError

    for name in ("nobody", examinee.username):
        with pytest.raises(CommandError, match="no active instructor"):
            run("import_questions", str(SAMPLES / "bank.json"), "--bank", "x", "--owner", name)
    assert not Bank.objects.exists()


def test_dry_run_writes_nothing(db):
    code, out, _ = run("import_questions", str(SAMPLES / "quiz.aiken"), "--bank", "b", "--dry-run")
    assert code == 0
    assert (
        out
        == "imported 2 questions: 2 new, 0 new versions, 0 unchanged (dry run: nothing was written)\n"
    )
    assert not Bank.objects.exists() and counts() == (0, 0)


def test_errors_go_to_stderr_with_exit_1(db, tmp_path):
    bad = tmp_path / "bad.gift"
    bad.write_text("::A::Fine {=a ~b}\n\n::B::Broken {=a ~b\n")
    code, out, err = run("import_questions", str(SAMPLES / "quiz.aiken"), str(bad), "--bank", "b")
    assert code == 1 and out == ""
    assert err == f"{bad}:3: unbalanced braces: '{{' opened on line 3 is never closed\n"
    assert counts() == (0, 0)


def test_unsupported_types_fail_unless_skipped(db):
    path = str(SAMPLES / "moodle_export.xml")
    code, _, err = run("import_questions", path, "--bank", "m")
    assert code == 1 and len(err.splitlines()) == 5 and "essay question 2" in err
    code, out, _ = run("import_questions", path, "--bank", "m", "--skip-unsupported")
    assert code == 0 and out.startswith("imported 2 questions: 2 new")


def test_format_flag_overrides_detection(db):
    code, _, err = run(
        "import_questions", str(SAMPLES / "quiz.aiken"), "--bank", "b", "--format", "json"
    )
    assert code == 1 and "expected a JSON object or JSON Lines" in err


def test_missing_file_is_an_error(db, tmp_path):
    code, _, err = run("import_questions", str(tmp_path / "nope.csv"), "--bank", "b")
    assert code == 1 and "nope.csv:1: cannot read the file" in err


@pytest.mark.parametrize("fmt", ["json", "csv", "moodlexml", "gift"])
def test_export_to_stdout_round_trips(db, fmt, tmp_path):
    run("import_questions", str(SAMPLES / "bank.json"), "--bank", "src")
    code, out, _ = run("export_questions", "--bank", "src", "--format", fmt)
    assert code == 0 and "CK-0001" in out
    path = tmp_path / f"export.{fmt}"
    path.write_text(out)
    code, line, err = run("import_questions", str(path), "--bank", "dst", "--format", fmt)
    assert (code, err) == (0, ""), err
    assert line == "imported 3 questions: 3 new, 0 new versions, 0 unchanged\n"


def test_qti_export_needs_output(db, tmp_path):
    from django.core.management.base import CommandError

    run("import_questions", str(SAMPLES / "bank.json"), "--bank", "src")
    with pytest.raises(CommandError, match="--output"):
        call_command("export_questions", "--bank", "src", "--format", "qti", stdout=io.StringIO())
    target = tmp_path / "out.zip"
    call_command("export_questions", "--bank", "src", "--format", "qti", "--output", str(target))
    code, out, _ = run("import_questions", str(target), "--bank", "dst")
    assert code == 0 and out.startswith("imported 3 questions: 3 new")
    assert Question.objects.filter(bank__slug="dst").count() == 3
