"""Uploads stay within bounded disk, memory and time: caps, streaming to disk, staging expiry."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings as django_settings
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile, TemporaryUploadedFile
from django.test.client import RequestFactory
from django.urls import reverse
from django.utils import timezone

from questions.models import ImportJob, StoredFile
from questions.services import STAGING_DIR, staged_uploads_purge
from questions.storage import DatabaseStorage
from questions.tasks import purge_expired_uploads

pytestmark = pytest.mark.django_db

AIKEN_OK = b"Which drug reverses heparin?\nA. Protamine sulfate\nB. Vitamin K\nANSWER: A\n"


def _upload(client, bank, data, *, name="q.txt", fmt="aiken"):
    payload = {"files": SimpleUploadedFile(name, data), "format": fmt}
    return client.post(reverse("teach:upload", args=[bank.uuid]), payload)


def staged_files(settings) -> list[str]:
    """The staged previews' files, as storage names, whichever storage holds them."""

    def walk(path: str) -> list[str]:
        try:
            directories, files = default_storage.listdir(path)
        except FileNotFoundError:
            return []
        names = [f"{path}/{f}" for f in files]
        for d in directories:
            names += walk(f"{path}/{d}")
        return names

    return walk(STAGING_DIR)


def make_old(name: str) -> None:
    """Stage a file long ago (past UPLOAD_STAGING_SECONDS)."""
    if isinstance(default_storage, DatabaseStorage):
        StoredFile.objects.filter(name=name).update(modified_at=datetime(1970, 1, 1, tzinfo=UTC))
    else:
        os.utime(default_storage.path(name), (0, 0))


def test_uploaded_files_are_streamed_to_temporary_files_on_disk():
    # Even a small file is written to disk, so an upload never sits whole in a worker's memory.
    request = RequestFactory().post("/", {"files": SimpleUploadedFile("q.txt", b"small")})
    assert isinstance(request.FILES["files"], TemporaryUploadedFile)


def test_request_larger_than_the_upload_cap_is_refused_before_the_files_are_read(
    instructor_client, bank, settings
):
    settings.UPLOAD_MAX_BYTES = 2048
    response = _upload(instructor_client, bank, AIKEN_OK + b" " * 4096)
    assert response.status_code == 413
    assert b"larger than the upload limit of 2048 bytes" in response.content
    assert staged_files(settings) == []
    assert ImportJob.objects.count() == 0


def test_a_file_over_the_per_file_cap_is_stopped_while_streaming(instructor_client, bank, settings):
    settings.UPLOAD_FILE_MAX_BYTES = 1000
    response = _upload(instructor_client, bank, AIKEN_OK + b" " * 3000, name="big.txt")
    assert response.status_code == 413
    assert b"big.txt is larger than the limit of 1000 bytes per file" in response.content
    assert staged_files(settings) == []


def test_a_file_within_the_caps_previews(instructor_client, bank, settings):
    settings.UPLOAD_MAX_BYTES = 4096
    settings.UPLOAD_FILE_MAX_BYTES = 1000
    response = _upload(instructor_client, bank, AIKEN_OK)
    assert response.status_code == 200
    assert response.context["can_import"]


def test_expired_staged_previews_are_deleted_and_fresh_ones_kept(instructor_client, bank, settings):
    _upload(instructor_client, bank, AIKEN_OK, name="old.txt")
    (old,) = staged_files(settings)
    _upload(instructor_client, bank, AIKEN_OK, name="new.txt")
    assert len(staged_files(settings)) == 2

    assert staged_uploads_purge(now=timezone.now()) == 0
    assert len(staged_files(settings)) == 2
    # The old preview was staged long ago (past UPLOAD_STAGING_SECONDS); the new one just now.
    make_old(old)
    removed = staged_uploads_purge(now=timezone.now())
    assert removed == 1
    remaining = staged_files(settings)
    assert len(remaining) == 1 and remaining[0].endswith("new.txt")
    assert not [n for n in staged_files(settings) if n.startswith(os.path.dirname(old) + "/")]


def test_the_purge_task_takes_no_arguments_and_is_idempotent(instructor_client, bank, settings):
    _upload(instructor_client, bank, AIKEN_OK)
    (path,) = staged_files(settings)
    make_old(path)
    assert purge_expired_uploads() == 1
    assert purge_expired_uploads() == 0
    assert staged_files(settings) == []


def test_the_staging_purge_runs_from_beat_next_to_the_sweeps():
    entries = {e["task"]: e for e in django_settings.CELERY_BEAT_SCHEDULE.values()}
    entry = entries["questions.tasks.purge_expired_uploads"]
    assert entry["schedule"] <= django_settings.UPLOAD_STAGING_SECONDS
    assert "exams.tasks.close_expired_blocks" in entries


def test_confirming_an_expired_preview_is_refused(instructor_client, bank, settings):
    preview = _upload(instructor_client, bank, AIKEN_OK)
    token = preview.context["confirm_form"].initial["token"]
    (path,) = staged_files(settings)
    make_old(path)
    staged_uploads_purge(now=timezone.now())
    response = instructor_client.post(
        reverse("teach:upload_confirm", args=[bank.uuid]), {"token": token}, follow=True
    )
    assert b"That preview has expired" in response.content
    assert ImportJob.objects.count() == 0


def test_a_confirmed_upload_leaves_staging_and_survives_the_purge(
    instructor_client, bank, settings
):
    preview = _upload(instructor_client, bank, AIKEN_OK)
    token = preview.context["confirm_form"].initial["token"]
    instructor_client.post(reverse("teach:upload_confirm", args=[bank.uuid]), {"token": token})
    job = ImportJob.objects.get()
    assert "staging" not in job.upload.name
    assert staged_files(settings) == []
    staged_uploads_purge(now=timezone.now() + timedelta(days=30))
    assert default_storage.exists(job.upload.name)
    assert job.upload.read() == AIKEN_OK


def test_previews_dropped_from_the_session_are_deleted_at_once(instructor_client, bank, settings):
    for n in range(7):
        _upload(instructor_client, bank, AIKEN_OK, name=f"q{n}.txt")
    # The session keeps the latest few previews; the files of the rest go straight away.
    assert len(staged_files(settings)) <= 5
