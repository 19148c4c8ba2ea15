"""Bounded uploads: a cap on the whole request and on each file, enforced while streaming.

Django's DATA_UPLOAD_MAX_MEMORY_SIZE covers form fields only, never file parts, so without this
a 200 MB file is read in full before anything can refuse it. The handler sits before
TemporaryFileUploadHandler (settings.FILE_UPLOAD_HANDLERS): files stream to disk in chunks, the
request's Content-Length is checked before the first file byte is read, and a file that grows
past its cap stops the upload. The view shows `request.upload_refused` as the error.
"""

from __future__ import annotations

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler, StopUpload


class BoundedUploadHandler(FileUploadHandler):
    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        self.request_length = content_length
        self.received = 0
        return None  # parse as usual; the checks run as the file parts arrive

    def new_file(self, field_name, file_name, *args, **kwargs):
        super().new_file(field_name, file_name, *args, **kwargs)
        self.received = 0
        limit = settings.UPLOAD_MAX_BYTES
        if self.request_length > limit:
            # Nothing of the files is read: the connection is dropped rather than drained.
            self._refuse(
                f"The upload is {self.request_length} bytes, "
                f"larger than the upload limit of {limit} bytes.",
                connection_reset=True,
            )

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        limit = settings.UPLOAD_FILE_MAX_BYTES
        if self.received > limit:
            # The request is within UPLOAD_MAX_BYTES, so draining the rest is bounded.
            self._refuse(
                f"{self.file_name} is larger than the limit of {limit} bytes per file.",
                connection_reset=False,
            )
        return raw_data

    def file_complete(self, file_size):
        return None  # the next handler (TemporaryFileUploadHandler) makes the file

    def _refuse(self, message: str, *, connection_reset: bool) -> None:
        self.request.upload_refused = message
        raise StopUpload(connection_reset=connection_reset)
