"""gzip for the responses that carry no secret: the block bundle and the htmx fragments.

Compressing a response that holds a secret (a CSRF token, a session-bound value) next to
anything an attacker can make the page reflect lets a network observer guess the secret from
the compressed sizes (BREACH). So the site has no GZipMiddleware: whole pages keep their
`<body hx-headers='{"X-CSRFToken": …}'>` and forms their `csrfmiddlewaretoken`, and go out
uncompressed (or compressed by a proxy that the deployment vouches for). The views that send
large fragments (the block bundle, an item, the review table, lab values) render them without
a form token, and this decorator compresses only such a response: one that still contains a
token is sent as it is, whatever the view meant, so a template change cannot make it unsafe.
docs/test-day-interface.md, "Compression", says the same for readers.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.http import HttpRequest, HttpResponse
from django.middleware.gzip import GZipMiddleware

# What a CSRF token looks like in our pages: the hidden form field and the htmx header on
# <body> (templates/base.html).
SECRET_MARKERS = (b"csrfmiddlewaretoken", b"X-CSRFToken")

# Only its process_response is used: it honours Accept-Encoding, skips tiny and already-encoded
# bodies, adds Vary: Accept-Encoding, and pads the gzip header with random bytes (Django's own
# BREACH mitigation, an extra layer here).
_gzip = GZipMiddleware(lambda request: HttpResponse())


def carries_secret(response: HttpResponse) -> bool:
    return response.streaming or any(m in response.content for m in SECRET_MARKERS)


def gzip_without_secrets(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        response = view(request, *args, **kwargs)
        if carries_secret(response):
            return response
        return _gzip.process_response(request, response)

    return wrapped
