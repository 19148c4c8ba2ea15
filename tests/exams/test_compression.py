"""Compression: the block bundle and the large fragments go out gzip-encoded when the client
accepts it; a response that carries a CSRF token (every whole page, every form) never does,
because a secret in a compressed body can be guessed from its size (BREACH)."""

from __future__ import annotations

import gzip
import random

import pytest
from django.urls import reverse
from django.utils import timezone

from exams import attempts, clock

pytestmark = pytest.mark.django_db

GZIP = {"HTTP_ACCEPT_ENCODING": "gzip, deflate, br"}
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def live_attempt(examinee, exam):
    now = timezone.now()
    attempt = attempts.attempt_start(user=examinee, exam=exam, now=now, rng=random.Random(7))
    clock.tutorial_end(attempt=attempt, now=now)
    return clock.block_start(attempt=attempt, now=now)


def body(response) -> bytes:
    if response.get("Content-Encoding") == "gzip":
        return gzip.decompress(response.content)
    return response.content


def test_the_block_bundle_is_gzip_encoded_when_the_client_accepts_it(examinee_client, live_attempt):
    url = reverse("exams:block_items", args=[live_attempt.uuid])
    plain = examinee_client.get(url)
    packed = examinee_client.get(url, **GZIP)
    assert "Content-Encoding" not in plain
    assert packed["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in packed["Vary"]
    assert len(packed.content) < len(plain.content) / 3
    # The same items, and no token in them.
    block = live_attempt.blocks.get(number=1)
    for r in block.responses.select_related("version"):
        assert r.version.stem_html.encode() in body(packed)
    assert b"csrfmiddlewaretoken" not in body(packed)


@pytest.mark.parametrize(
    "name, args",
    [("item", lambda a: [a.uuid, 1]), ("review_screen", lambda a: [a.uuid])],
)
def test_exam_fragments_are_compressed_and_their_pages_are_not(
    examinee_client, live_attempt, name, args
):
    url = reverse(f"exams:{name}", args=args(live_attempt))
    fragment = examinee_client.get(url, **GZIP, **HTMX)
    assert fragment["Content-Encoding"] == "gzip"
    assert b"csrfmiddlewaretoken" not in body(fragment)
    page = examinee_client.get(url, **GZIP)
    assert page.status_code == 200
    assert "Content-Encoding" not in page, "a page with a CSRF token must not be compressed"
    assert b"X-CSRFToken" in page.content


def test_the_item_page_keeps_its_form_token_for_the_no_javascript_fallback(
    examinee_client, live_attempt
):
    page = examinee_client.get(reverse("exams:item", args=[live_attempt.uuid, 1]), **GZIP)
    assert b'name="csrfmiddlewaretoken"' in page.content
    assert "Content-Encoding" not in page


def test_lab_values_fragment_is_compressed_and_the_page_is_not(examinee_client):
    url = reverse("exams:lab_values")
    assert examinee_client.get(url, **GZIP, **HTMX)["Content-Encoding"] == "gzip"
    assert "Content-Encoding" not in examinee_client.get(url, **GZIP)


def test_a_response_with_a_token_is_never_compressed_whatever_the_view(rf, examinee):
    from django.http import HttpResponse

    from config.compression import gzip_without_secrets

    @gzip_without_secrets
    def leaky(request):
        return HttpResponse(
            b'<input type="hidden" name="csrfmiddlewaretoken" value="abc">' + b"x" * 5000
        )

    @gzip_without_secrets
    def plain(request):
        return HttpResponse(b"<p>stem</p>" * 500)

    request = rf.get("/", HTTP_ACCEPT_ENCODING="gzip")
    assert "Content-Encoding" not in leaky(request)
    assert plain(request)["Content-Encoding"] == "gzip"
