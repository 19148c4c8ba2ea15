"""The app boundaries: which app may import which, checked on the source with `ast`.

questions/ is the foundation (banks, questions, formats) and knows nothing of exams or
analytics; the engine in exams/ renders no instructor page, so it never imports teach/; and
teach/ holds pages only, so no other app imports it. Imports inside functions count too.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# app -> the apps it must not import
FORBIDDEN = {
    "questions": {"exams", "analytics", "teach"},
    "exams": {"teach"},
    "analytics": {"teach"},
    "accounts": {"teach"},
    "study": {"teach"},
    "config": {"teach"},
}


def imported_apps(source: str) -> set[str]:
    """The top-level packages a module imports, wherever the import statement sits."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


def violations(app: str) -> list[str]:
    forbidden = FORBIDDEN[app]
    found = []
    for path in sorted((ROOT / app).rglob("*.py")):
        bad = imported_apps(path.read_text(encoding="utf-8")) & forbidden
        if bad:
            found.append(f"{path.relative_to(ROOT)} imports {', '.join(sorted(bad))}")
    return found


@pytest.mark.parametrize("app", sorted(FORBIDDEN))
def test_app_does_not_import_what_it_must_not(app):
    assert violations(app) == []


def test_every_app_has_a_rule():
    # A new app must say what it may not import; teach, the top, may import every app.
    apps = {path.parent.name for path in ROOT.glob("*/apps.py")}
    assert apps - {"teach"} == set(FORBIDDEN) - {"config"}


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("from exams.models import Exam", {"exams"}),
        ("import analytics.selectors", {"analytics"}),
        ("def f():\n    from exams import services\n", {"exams"}),
        ("from . import models", set()),
        ("from questions.models import Bank", {"questions"}),
    ],
)
def test_the_checker_sees_every_form_of_import(source, expected):
    assert imported_apps(source) == expected


def test_a_forbidden_import_is_reported(tmp_path, monkeypatch):
    app = tmp_path / "questions"
    (app / "formats").mkdir(parents=True)
    (app / "formats" / "late.py").write_text("def f():\n    from analytics.models import X\n")
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    assert violations("questions") == ["questions/formats/late.py imports analytics"]
