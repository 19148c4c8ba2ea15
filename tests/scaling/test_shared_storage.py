"""Media and uploads live in shared storage (PostgreSQL by default): a file written by one
process is read by another, and a rolled-back import leaves no file behind."""

from __future__ import annotations

import base64
import io
import json
import time

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction

from questions.importing import ImportFile
from questions.models import ImportJob, Media, StoredChunk, StoredFile
from questions.services import (
    bank_create,
    questions_import,
    staged_upload_delete,
    staged_upload_save,
    staged_uploads_purge,
)
from questions.storage import CHUNK_BYTES
from questions.tasks import run_import_job
from tests.questions.conftest import sample


def _picture_question(external_id: str) -> dict:
    picture = base64.b64encode(sample("ecg.png").data).decode()
    return {
        "external_id": external_id,
        "stem": '<p>Read the ECG.</p><img src="media:ecg.png">',
        "options": ["A1", "B1", "C1"],
        "key": "B",
        "media": [{"name": "ecg.png", "content_type": "image/png", "data_base64": picture}],
    }


def _jsonl(*questions: dict) -> bytes:
    return "\n".join(json.dumps(q) for q in questions).encode()


def _files_under(prefix: str) -> list[str]:
    try:
        directories, files = default_storage.listdir(prefix)
    except FileNotFoundError:
        return []
    return files + [f for d in directories for f in _files_under(f"{prefix}/{d}")]


@pytest.mark.django_db
def test_a_rolled_back_import_leaves_no_media_file(instructor, t0):
    bank = bank_create(slug="ecg", name="ECG", owner=instructor)

    def crash_after_the_first_batch(done: int, total: int) -> None:
        raise RuntimeError("the worker died mid-import")

    upload = ImportFile("q.jsonl", _jsonl(_picture_question("e1")))
    with pytest.raises(RuntimeError):
        questions_import(bank=bank, files=[upload], now=t0, progress=crash_after_the_first_batch)

    assert not Media.objects.filter(bank=bank).exists()
    assert _files_under(f"questions/{bank.pk}") == []
    assert not StoredFile.objects.exists()


@pytest.mark.django_db
def test_a_committed_import_keeps_its_media_readable(instructor, t0):
    bank = bank_create(slug="ecg", name="ECG", owner=instructor)
    questions_import(
        bank=bank, files=[ImportFile("q.jsonl", _jsonl(_picture_question("e1")))], now=t0
    )
    media = Media.objects.get(bank=bank)
    with media.file.open("rb") as handle:
        assert handle.read() == sample("ecg.png").data


@pytest.mark.django_db
def test_a_large_file_is_stored_in_pieces_and_read_back_whole():
    data = bytes(range(256)) * (3 * CHUNK_BYTES // 256 + 7)
    name = default_storage.save("imports/big.bin", ContentFile(data))
    stored = StoredFile.objects.get(name=name)
    assert stored.size == len(data)
    assert StoredChunk.objects.filter(file=stored).count() == 4
    with default_storage.open(name, "rb") as handle:
        assert handle.read() == data


@pytest.mark.django_db
def test_staged_uploads_are_listed_deleted_and_purged_by_age(t0):
    from datetime import timedelta

    paths = staged_upload_save(token="tok1", files=[("a.csv", io.BytesIO(b"x"))])
    staged_upload_save(token="tok2", files=[("b.csv", io.BytesIO(b"y"))])
    assert default_storage.exists(paths[0])
    staged_upload_delete(token="tok1")
    assert not default_storage.exists(paths[0])
    later = StoredFile.objects.get().modified_at + timedelta(days=2)
    assert staged_uploads_purge(now=later) == 1
    assert not StoredFile.objects.exists()


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_an_upload_staged_by_one_process_is_imported_by_the_worker(
    instructor, t0, celery_worker_process
):
    """The worker is another process with its own (empty) MEDIA_ROOT: it reads what this
    process staged only because both read the same shared storage."""
    bank = bank_create(slug="ecg-worker", name="ECG", owner=instructor)
    [path] = staged_upload_save(
        token="tok-worker", files=[("q.jsonl", io.BytesIO(_jsonl(_picture_question("w1"))))]
    )
    with transaction.atomic():
        job = ImportJob(bank=bank, owner=instructor, filename="q.jsonl", created_at=t0)
        with default_storage.open(path, "rb") as staged:
            job.upload.save("q.jsonl", staged, save=False)
        job.save()
        run_import_job.delay_on_commit(job.id)

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if job.status in (ImportJob.Status.DONE, ImportJob.Status.FAILED):
            break
        time.sleep(0.2)
    assert job.status == ImportJob.Status.DONE, job.errors
    media = Media.objects.get(bank=bank)
    with media.file.open("rb") as handle:
        assert handle.read() == sample("ecg.png").data
