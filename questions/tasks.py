import logging
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

from celery import shared_task
from django.utils import timezone

from questions.importing import ImportFile
from questions.models import ImportJob
from questions.services import (
    ImportRejected,
    job_progress_writer,
    questions_import,
    staged_uploads_purge,
)

logger = logging.getLogger(__name__)


@shared_task(acks_late=True)
def run_import_job(job_id: int) -> str:
    """Run one queued import. Claimed with a conditional UPDATE, so a redelivery is a no-op."""
    started = timezone.now()
    claimed = ImportJob.objects.filter(pk=job_id, status=ImportJob.Status.QUEUED).update(
        status=ImportJob.Status.RUNNING, started_at=started, progress=0
    )
    if not claimed:
        return "skipped"
    job = ImportJob.objects.select_related("bank").get(pk=job_id)
    progress = job_progress_writer(job)
    try:
        with _job_file(job) as file:
            summary = questions_import(
                bank=job.bank,
                files=[file],
                format=job.format or "auto",
                skip_unsupported=job.skip_unsupported,
                now=started,
                column_map=job.column_map or None,
                progress=progress,
            )
    except ImportRejected as exc:
        ImportJob.objects.filter(pk=job_id).update(
            status=ImportJob.Status.FAILED, errors=exc.lines(), finished_at=timezone.now()
        )
        return "failed"
    except Exception as exc:
        logger.exception("import job %s crashed", job_id)
        ImportJob.objects.filter(pk=job_id).update(
            status=ImportJob.Status.FAILED,
            errors=[f"{job.filename}: the import stopped unexpectedly ({type(exc).__name__})"],
            finished_at=timezone.now(),
        )
        return "failed"
    finally:
        progress.close()
    ImportJob.objects.filter(pk=job_id).update(
        status=ImportJob.Status.DONE,
        summary=summary.as_dict(),
        progress=summary.total,
        total=summary.total,
        errors=[],
        finished_at=timezone.now(),
    )
    return "done"


@contextmanager
def _job_file(job: ImportJob) -> Iterator[ImportFile]:
    name = job.filename or job.upload.name
    try:
        path = job.upload.path
    except NotImplementedError:  # the database storage: no local path on this worker
        path = None
    if path is not None:
        # Parsed from disk: the importer reads one file at a time and keeps nothing whole.
        yield ImportFile(name, path=path)
        return
    # Copied in pieces to this worker's scratch disk, parsed from there, then removed.
    suffix = os.path.splitext(name)[1]
    with tempfile.NamedTemporaryFile(suffix=suffix) as scratch:
        with job.upload.open("rb") as handle:
            shutil.copyfileobj(handle, scratch)
        scratch.flush()
        yield ImportFile(name, path=scratch.name)


@shared_task
def purge_expired_uploads() -> int:
    """Beat: delete upload previews nobody confirmed in time. Idempotent; takes nothing."""
    return staged_uploads_purge(now=timezone.now())
