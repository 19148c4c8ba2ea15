"""Limits on what one examinee's browser may send the exam engine (docs/security.md).

Every client number is bounded (400 naming the field, never a 500), saves and visits are
rate-limited per attempt through the shared Redis (429 with Retry-After; open when Redis is
down), bodies are capped before they are read (413), and nothing the engine answers is stored
by a cache (Cache-Control: no-store).
"""

from __future__ import annotations

import random

import pytest
from django.test.client import FakePayload
from django.urls import reverse
from django.utils import timezone

from exams import answers, attempts, clock
from exams.errors import ExamError
from exams.models import Response

pytestmark = pytest.mark.django_db

JSON = {"HTTP_ACCEPT": "application/json"}
# The browser's counter is a JavaScript number: 2**53 - 1 is the largest it holds exactly.
MAX_SEQ = 2**53 - 1


@pytest.fixture
def live_attempt(examinee, exam):
    now = timezone.now()
    attempt = attempts.attempt_start(user=examinee, exam=exam, now=now, rng=random.Random(7))
    clock.tutorial_end(attempt=attempt, now=now)
    return clock.block_start(attempt=attempt, now=now)


def _stored(attempt):
    return list(
        Response.objects.filter(attempt=attempt)
        .order_by("block__number", "position")
        .values_list("choice", "field_seqs")
    )


# ---------------------------------------------------------------- bounds


@pytest.mark.parametrize("seq", [2**63, 10**400, MAX_SEQ + 1, 0, -1])
def test_a_sequence_number_out_of_range_is_400_naming_seq(examinee_client, live_attempt, seq):
    before = _stored(live_attempt)
    url = reverse("exams:save", args=[live_attempt.uuid, 1])
    response = examinee_client.post(url, {"seq": str(seq), "choice": 1}, **JSON)
    assert response.status_code == 400
    assert "seq" in response.json()["errors"]
    assert _stored(live_attempt) == before
    # The clock poll keeps answering for the rest of the block.
    assert examinee_client.get(reverse("exams:clock", args=[live_attempt.uuid])).status_code == 200


def test_the_largest_sequence_number_is_stored_and_the_clock_still_answers(
    examinee_client, live_attempt
):
    url = reverse("exams:save", args=[live_attempt.uuid, 1])
    response = examinee_client.post(url, {"seq": str(MAX_SEQ), "choice": 1}, **JSON)
    assert response.status_code == 200
    clock = examinee_client.get(reverse("exams:clock", args=[live_attempt.uuid]))
    assert clock.status_code == 200
    assert clock.json()["last_seq"] == MAX_SEQ


def test_the_save_service_refuses_a_sequence_number_out_of_range(live_attempt):
    for seq in (2**63, MAX_SEQ + 1):
        with pytest.raises(ExamError, match="sequence number"):
            answers.answer_save(
                attempt_uuid=live_attempt.uuid,
                user_id=live_attempt.user_id,
                position=1,
                seq=seq,
                choice=1,
                now=timezone.now(),
            )
    assert all(choice is None for choice, _ in _stored(live_attempt))


@pytest.mark.parametrize("position", [0, 40000, 10**400])
def test_a_position_out_of_range_is_400_saying_why(examinee_client, live_attempt, position):
    u = live_attempt.uuid
    base = reverse("exams:item", args=[u, 1])[: -len("1/")]
    for method, url, data in (
        ("get", f"{base}{position}/", None),
        ("post", f"{base}{position}/save/", {"seq": 1, "choice": 1}),
        ("post", f"{base}{position}/visit/", None),
    ):
        response = getattr(examinee_client, method)(url, data, **JSON)
        assert response.status_code == 400, url
        assert "position" in response.content.decode(), url
    assert live_attempt.blocks.get(number=1).current_position == 1


def test_a_go_target_out_of_range_is_400(examinee_client, live_attempt):
    url = reverse("exams:save", args=[live_attempt.uuid, 1])
    response = examinee_client.post(url, {"seq": 1, "choice": 1, "go": str(10**400)}, **JSON)
    assert response.status_code == 400
    assert "go" in response.json()["errors"]


# ---------------------------------------------------------------- rate limit


def test_saves_beyond_the_rate_limit_get_429_with_retry_after_and_write_nothing(
    examinee_client, live_attempt, settings
):
    settings.EXAM_RATE_LIMIT_PER_SECOND = 3
    url = reverse("exams:save", args=[live_attempt.uuid, 1])
    answers = [examinee_client.post(url, {"seq": s, "note": f"n{s}"}, **JSON) for s in range(1, 11)]
    codes = [r.status_code for r in answers]
    # Ten saves inside at most two one-second windows: at most 3 + 3 get through.
    assert codes.count(429) >= 4 and set(codes) == {200, 429}
    refused = answers[codes.index(429)]
    assert int(refused["Retry-After"]) >= 1
    assert refused.json()["error"] == "rate_limited"
    row = Response.objects.get(attempt=live_attempt, block__number=1, position=1)
    last_ok = max(s for s, code in zip(range(1, 11), codes, strict=True) if code == 200)
    assert row.note == f"n{last_ok}"


def test_visits_are_rate_limited_too(examinee_client, live_attempt, settings):
    settings.EXAM_RATE_LIMIT_PER_SECOND = 2
    codes = [
        examinee_client.post(reverse("exams:visit", args=[live_attempt.uuid, p])).status_code
        for p in (2, 3, 4, 5, 2, 3)
    ]
    assert 429 in codes


def test_the_limit_is_per_attempt(client, examinee, other_examinee, exam, settings):
    settings.EXAM_RATE_LIMIT_PER_SECOND = 2
    now = timezone.now()
    mine, theirs = (
        clock.block_start(
            attempt=clock.tutorial_end(
                attempt=attempts.attempt_start(user=u, exam=exam, now=now), now=now
            ),
            now=now,
        )
        for u in (examinee, other_examinee)
    )
    client.force_login(examinee)
    for s in range(1, 6):
        client.post(reverse("exams:save", args=[mine.uuid, 1]), {"seq": s, "choice": 1}, **JSON)
    client.force_login(other_examinee)
    response = client.post(
        reverse("exams:save", args=[theirs.uuid, 1]), {"seq": 1, "choice": 1}, **JSON
    )
    assert response.status_code == 200


def test_the_limit_is_shared_by_every_worker(examinee_client, live_attempt, settings):
    """Another process's requests count: the budget lives in Redis, not in this process."""
    from exams import limits

    settings.EXAM_RATE_LIMIT_PER_SECOND = 3
    other_worker = limits.RateLimiter(settings.EXAM_RATE_LIMIT_REDIS_URL)
    for _ in range(3):
        assert other_worker.allow(attempt_uuid=live_attempt.uuid, user_id=live_attempt.user_id)
    url = reverse("exams:save", args=[live_attempt.uuid, 1])
    response = examinee_client.post(url, {"seq": 1, "choice": 1}, **JSON)
    assert response.status_code == 429


def test_saves_still_work_when_redis_is_down(examinee_client, live_attempt, settings):
    settings.EXAM_RATE_LIMIT_PER_SECOND = 1
    settings.EXAM_RATE_LIMIT_REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    url = reverse("exams:save", args=[live_attempt.uuid, 1])
    for s in range(1, 5):
        response = examinee_client.post(url, {"seq": s, "choice": s % 4}, **JSON)
        assert response.status_code == 200
    assert Response.objects.get(attempt=live_attempt, block__number=1, position=1).choice == 0


# ---------------------------------------------------------------- body size


def test_a_huge_save_body_is_413_before_it_is_read(examinee_client, live_attempt):
    url = reverse("exams:save", args=[live_attempt.uuid, 1])
    # The declared length is 45 MB; reading past the 20 real bytes would fail the request.
    response = examinee_client.generic(
        "POST",
        url,
        b"seq=1&choice=1&x=yyy",
        content_type="application/x-www-form-urlencoded",
        CONTENT_LENGTH=str(45 * 1024 * 1024),
        **{"wsgi.input": FakePayload(b"seq=1&choice=1&x=yyy")},
        **JSON,
    )
    assert response.status_code == 413
    assert "bytes" in response.json()["message"]
    assert all(choice is None for choice, _ in _stored(live_attempt))


def test_the_body_cap_runs_before_the_csrf_check_reads_the_body(examinee, live_attempt):
    """CsrfViewMiddleware looks for its token in a POST body: the cap must come first."""
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(examinee)
    url = reverse("exams:save", args=[live_attempt.uuid, 1])
    body = b"seq=1&choice=1"
    response = client.generic(
        "POST",
        url,
        body,
        content_type="application/x-www-form-urlencoded",
        CONTENT_LENGTH=str(45 * 1024 * 1024),
        **{"wsgi.input": FakePayload(body)},
        **JSON,
    )
    assert response.status_code == 413


def test_a_save_body_over_the_cap_is_413_and_writes_nothing(examinee_client, live_attempt):
    url = reverse("exams:save", args=[live_attempt.uuid, 1])
    response = examinee_client.post(url, {"seq": 1, "choice": 1, "pad": "x" * 70_000}, **JSON)
    assert response.status_code == 413
    assert all(choice is None for choice, _ in _stored(live_attempt))
    # A normal save still goes through.
    assert examinee_client.post(url, {"seq": 2, "choice": 1}, **JSON).status_code == 200


# ---------------------------------------------------------------- caching


def test_every_exam_response_says_no_store(examinee_client, live_attempt):
    u = live_attempt.uuid
    responses = {
        "item": examinee_client.get(reverse("exams:item", args=[u, 1])),
        "clock": examinee_client.get(reverse("exams:clock", args=[u])),
        "bundle": examinee_client.get(reverse("exams:block_items", args=[u])),
        "review": examinee_client.get(reverse("exams:review_screen", args=[u])),
        "end_confirm": examinee_client.get(reverse("exams:block_end", args=[u])),
        "save": examinee_client.post(
            reverse("exams:save", args=[u, 2]), {"seq": 1, "choice": 1}, **JSON
        ),
        "visit": examinee_client.post(reverse("exams:visit", args=[u, 2])),
        "attempt": examinee_client.get(reverse("exams:attempt", args=[u])),
        "home": examinee_client.get(reverse("exams:examinee_home")),
    }
    for name, response in responses.items():
        assert response.status_code in (200, 302), name
        assert "no-store" in response.get("Cache-Control", ""), name
