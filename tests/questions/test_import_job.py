"""The Celery import job, run as the worker would run it, on committed rows."""

from __future__ import annotations

import pytest
from django.core.files.base import ContentFile

from questions.models import ImportJob, Question
from questions.tasks import run_import_job
from tests.questions.conftest import sample

pytestmark = pytest.mark.django_db(transaction=True)


def make_job(bank, owner, t0, name: str, data: bytes, **extra) -> ImportJob:
    job = ImportJob(bank=bank, owner=owner, filename=name, created_at=t0, **extra)
    job.upload.save(name, ContentFile(data), save=False)
    job.save()
    return job


def test_job_imports_and_records_the_summary(bank, instructor, t0):
    job = make_job(bank, instructor, t0, "bank.json", sample("bank.json").data)
    assert run_import_job(job.id) == "done"
    job.refresh_from_db()
    assert job.status == ImportJob.Status.DONE
    assert job.summary == {"new": 3, "new_versions": 0, "unchanged": 0}
    assert (job.progress, job.total) == (3, 3)
    assert job.started_at and job.finished_at and job.errors == []
    assert Question.objects.filter(bank=bank).count() == 3


def test_job_is_idempotent(bank, instructor, t0):
    job = make_job(bank, instructor, t0, "bank.json", sample("bank.json").data)
    run_import_job(job.id)
    finished = ImportJob.objects.get(pk=job.pk).finished_at
    assert run_import_job(job.id) == "skipped"
    assert ImportJob.objects.get(pk=job.pk).finished_at == finished
    assert Question.objects.filter(bank=bank).count() == 3


def test_rejected_upload_fails_the_job_with_the_problem_lines(bank, instructor, t0):
    job = make_job(bank, instructor, t0, "b.gift", b"::A::Broken {=a ~b\n")
    assert run_import_job(job.id) == "failed"
    job.refresh_from_db()
    assert job.status == ImportJob.Status.FAILED
    assert job.errors == ["b.gift:1: unbalanced braces: '{' opened on line 1 is never closed"]
    assert Question.objects.count() == 0


def test_job_honours_skip_unsupported(bank, instructor, t0):
    job = make_job(
        bank, instructor, t0, "m.xml", sample("moodle_export.xml").data, skip_unsupported=True
    )
    run_import_job(job.id)
    job.refresh_from_db()
    assert job.status == ImportJob.Status.DONE and job.summary["new"] == 2
