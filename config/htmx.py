"""One way to answer htmx: the fragment for an htmx request, the whole page otherwise.

The two answers share a URL, so every answer that depends on `HX-Request` says so in `Vary`:
without it a browser's back button or a shared cache could serve the fragment as the page (or
the page into the fragment's target). The django-htmx way, without template partials (Django
5.2 has none built in): each view names its page and its fragment.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import patch_vary_headers
from django.views.decorators.vary import vary_on_headers

# For a view whose htmx answer is a fragment and whose plain answer is a redirect (a form
# post); a view that renders either template uses render_htmx, which sets the same header.
vary_on_htmx = vary_on_headers("HX-Request")


def render_htmx(
    request: HttpRequest,
    full_template: str,
    partial_template: str,
    context: dict,
    *,
    page_context: Callable[[], dict] | None = None,
    status: int = 200,
) -> HttpResponse:
    """The fragment for htmx, the page otherwise; `page_context` adds what only the page
    shows, and is not computed for the fragment."""
    if request.htmx:
        response = render(request, partial_template, context, status=status)
    else:
        if page_context is not None:
            context = {**context, **page_context()}
        response = render(request, full_template, context, status=status)
    patch_vary_headers(response, ("HX-Request",))
    return response
