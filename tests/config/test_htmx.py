"""The one htmx switch: the fragment for htmx, the page otherwise, and `Vary: HX-Request` on
both answers so no cache or back button serves one for the other."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from django.utils.cache import has_vary_header
from django_htmx.middleware import HtmxDetails

from config.htmx import render_htmx
from tests.security.test_authz_matrix import _world, world  # noqa: F401 - the fixtures

HTMX = {"HTTP_HX_REQUEST": "true"}


def _request(rf, *, htmx: bool):
    request = rf.get("/", **(HTMX if htmx else {}))
    request.htmx = HtmxDetails(request)
    return request


@pytest.mark.parametrize("htmx", [False, True])
def test_both_answers_vary_on_hx_request(rf, htmx):
    response = render_htmx(
        _request(rf, htmx=htmx), "exams/lab_values.html", "exams/_lab_values_partial.html", {}
    )
    assert has_vary_header(response, "HX-Request")


def test_htmx_gets_the_fragment_without_computing_the_page(rf):
    def page_only():
        raise AssertionError("the page's context was computed for a fragment")

    response = render_htmx(
        _request(rf, htmx=True),
        "exams/lab_values.html",
        "exams/_lab_values_partial.html",
        {"sections": []},
        page_context=page_only,
    )
    assert b"<html" not in response.content


def test_a_plain_request_gets_the_page_with_its_extra_context(rf):
    response = render_htmx(
        _request(rf, htmx=False),
        "exams/lab_values.html",
        "exams/_lab_values_partial.html",
        {},
        page_context=lambda: {"sections": []},
    )
    assert b"<html" in response.content


# Every view that answers htmx with a fragment: (url name, world args, role, method, data).
SWITCHING_VIEWS = [
    ("teach:bank_detail", "bank", "instructor", "get", {}),
    ("teach:import_job", "job", "instructor", "get", {}),
    ("teach:cohort_detail", "cohort", "instructor", "get", {}),
    ("teach:bank_practice", "bank", "instructor", "post", {"action": "open"}),
    ("teach:question_retire", "question", "instructor", "post", {"action": "retire"}),
    ("teach:cohort_members_add", "cohort", "instructor", "post", {"usernames": "nobody"}),
    ("exams:lab_values", "", "examinee", "get", {}),
    ("exams:item", "attempt_item", "examinee", "get", {}),
    ("exams:review_screen", "attempt", "examinee", "get", {}),
    ("analytics:block_review", "attempt_block", "examinee", "get", {}),
]


@pytest.mark.parametrize(("name", "args", "role", "method", "data"), SWITCHING_VIEWS)
def test_views_that_switch_vary_on_hx_request(world, name, args, role, method, data):  # noqa: F811
    client = Client()
    client.force_login(world["users"][role])
    url = reverse(name, args=world[args])
    page = getattr(client, method)(url, data)
    fragment = getattr(client, method)(url, data, **HTMX)
    assert (page.status_code in (200, 302), fragment.status_code) == (True, 200)
    assert b"<html" not in fragment.content
    assert has_vary_header(page, "HX-Request")
    assert has_vary_header(fragment, "HX-Request")
