"""Fixtures for the import/export tests: a bank, the shared outline tags, sample files."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from questions.importing import ImportFile
from questions.models import Question, QuestionVersion, Tag

SAMPLES = Path(__file__).resolve().parent / "samples"


def sample(name: str) -> ImportFile:
    return ImportFile(name, (SAMPLES / name).read_bytes())


def zip_dir(directory: Path) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(directory.rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(directory).as_posix())
    return buffer.getvalue()


def zip_members(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def counts() -> tuple[int, int]:
    return Question.objects.count(), QuestionVersion.objects.count()


@pytest.fixture
def qti_package() -> ImportFile:
    return ImportFile("cardio-qti.zip", zip_dir(SAMPLES / "qti_package"))


@pytest.fixture
def outline_tags(db):
    """A few of the shared outline's tags, as the demo loader seeds them (bank=None)."""
    rows = [
        ("discipline", "medicine", "Medicine"),
        ("discipline", "pediatrics", "Pediatrics"),
        ("system", "cardiovascular", "Cardiovascular system"),
        ("system", "cardiology", "Cardiology"),
        ("system", "endocrine", "Endocrine system"),
        ("task", "pharmacotherapy", "Pharmacotherapy"),
    ]
    return [Tag.objects.create(kind=k, slug=s, name=n, bank=None) for k, s, n in rows]


@pytest.fixture
def bank(db, instructor):
    from questions.services import bank_create

    return bank_create(slug="cardio", name="Cardiology", owner=instructor)


@pytest.fixture
def other_bank(db, instructor):
    from questions.services import bank_create

    return bank_create(slug="copy", name="Copy", owner=instructor)


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
