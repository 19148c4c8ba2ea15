"""The media endpoint: the files questions show, for the bank's owners and the examinees who
were given such a question. The instructor pages are in teach/."""

from __future__ import annotations

from csp.decorators import csp_replace
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_GET

from questions.formats.common import sniff_media_type
from questions.models import Media


def _may_see_media(user, item: Media) -> bool:
    """The bank's owners, and examinees who were given a question that shows the file."""
    if item.bank.owners.filter(pk=user.pk).exists():
        return True
    # Any attempt or practice block of theirs that delivered a question using this file.
    return item.versions.filter(question__responses__attempt__user=user).exists()


# Uploaded files are third-party content: even an SVG opened on its own must not run scripts.
@csp_replace({"default-src": ["'none'"], "script-src": ["'none'"], "sandbox": True})
@require_GET
@login_required
def media(request: HttpRequest, media_uuid) -> HttpResponse:
    item = get_object_or_404(Media.objects.select_related("bank"), uuid=media_uuid)
    # 404, not 403, so a uuid does not tell anyone that the file exists.
    if not _may_see_media(request.user, item):
        raise Http404("No such file.")
    try:
        handle = item.file.open("rb")
    except FileNotFoundError:
        raise Http404("The file is missing from storage.") from None
    # Served as what the bytes are: rows stored before sniffing may carry a declared type.
    content_type = sniff_media_type(handle.read(32))
    if content_type is None:
        handle.close()
        raise Http404("No such file.")
    handle.seek(0)
    response = FileResponse(
        handle, content_type=content_type, as_attachment=False, filename=item.original_name
    )
    response["X-Content-Type-Options"] = "nosniff"
    # Media is content-addressed per bank (sha256), so a uuid always names the same bytes.
    response["Cache-Control"] = "private, max-age=86400"
    return response
