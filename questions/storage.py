"""The default file storage: files in PostgreSQL (docs/scaling.md, "Media and uploads").

Media, staged uploads and import jobs' files are rows (questions.models.StoredFile, in pieces
of CHUNK_BYTES in StoredChunk), so:
  * any web node and any Celery worker reads a file another node wrote; no shared disk;
  * a file saved inside a transaction is part of it: an import that rolls back leaves no media;
  * a backup of the database is a backup of the files (pg_dump takes both).
Files are written and read one piece at a time; a read spools to a temporary file that keeps
at most SPOOL_BYTES in memory. MEDIA_STORAGE=filesystem keeps Django's FileSystemStorage for a
single machine.
"""

from __future__ import annotations

import tempfile
from datetime import datetime
from urllib.parse import quote

from django.conf import settings
from django.core.files.base import File
from django.core.files.storage import Storage
from django.db import transaction
from django.utils import timezone
from django.utils.deconstruct import deconstructible

from questions.models import StoredChunk, StoredFile

CHUNK_BYTES = 512 * 1024
SPOOL_BYTES = 2 * 1024 * 1024
# Pieces fetched per query while reading: a bounded batch, and no server-side cursor (which
# a transaction-pooling PgBouncer would not keep between statements).
READ_BATCH = 4


@deconstructible
class DatabaseStorage(Storage):
    def _file(self, name: str) -> StoredFile:
        try:
            return StoredFile.objects.get(name=name)
        except StoredFile.DoesNotExist:
            raise FileNotFoundError(name) from None

    def _open(self, name: str, mode: str = "rb") -> File:
        if any(flag in mode for flag in "wa+"):
            raise ValueError("DatabaseStorage files are written with save(), not open()")
        stored = self._file(name)
        spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115 - the File owns it
        index = 0
        while True:
            pieces = list(
                StoredChunk.objects.filter(
                    file=stored, index__gte=index, index__lt=index + READ_BATCH
                )
                .order_by("index")
                .values_list("data", flat=True)
            )
            for data in pieces:
                spool.write(data)
            if len(pieces) < READ_BATCH:
                break
            index += READ_BATCH
        spool.seek(0)
        return File(spool, name=name)

    def _save(self, name: str, content: File) -> str:
        now = timezone.now()
        # Its own savepoint: a failed write leaves no half file, and inside an import's
        # transaction the file commits or rolls back with the import.
        with transaction.atomic():
            stored = StoredFile.objects.create(name=name, created_at=now, modified_at=now)
            size = 0
            buffer = bytearray()
            index = 0
            for piece in content.chunks(CHUNK_BYTES):
                buffer += piece
                while len(buffer) >= CHUNK_BYTES:
                    StoredChunk.objects.create(
                        file=stored, index=index, data=bytes(buffer[:CHUNK_BYTES])
                    )
                    del buffer[:CHUNK_BYTES]
                    index += 1
                size += len(piece)
            if buffer or index == 0:
                StoredChunk.objects.create(file=stored, index=index, data=bytes(buffer))
            StoredFile.objects.filter(pk=stored.pk).update(size=size)
        return name

    def delete(self, name: str) -> None:
        if not name.strip("/"):
            raise ValueError("refusing to delete the whole storage")
        # Deleting a "directory" deletes what is under it, as rmdir after the files would.
        StoredFile.objects.filter(name=name).delete()
        StoredFile.objects.filter(name__startswith=name.rstrip("/") + "/").delete()

    def exists(self, name: str) -> bool:
        return StoredFile.objects.filter(name=name).exists()

    def listdir(self, path: str) -> tuple[list[str], list[str]]:
        prefix = path.rstrip("/") + "/" if path else ""
        directories: set[str] = set()
        files: list[str] = []
        for name in StoredFile.objects.filter(name__startswith=prefix).values_list(
            "name", flat=True
        ):
            rest = name[len(prefix) :]
            if "/" in rest:
                directories.add(rest.split("/", 1)[0])
            else:
                files.append(rest)
        return sorted(directories), sorted(files)

    def size(self, name: str) -> int:
        return self._file(name).size

    def url(self, name: str) -> str:
        # Not served from here: media go through the questions:media view, which checks access.
        return settings.MEDIA_URL + quote(name)

    def get_modified_time(self, name: str) -> datetime:
        return self._file(name).modified_at

    def get_created_time(self, name: str) -> datetime:
        return self._file(name).created_at
