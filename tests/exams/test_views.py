"""Exam delivery views: ownership, methods, the save endpoint, the key-leak rule, queries."""

from __future__ import annotations

import json
import random
import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from exams import answers, attempts, clock, practice
from exams.models import Attempt, AttemptBlock, Response

pytestmark = pytest.mark.django_db


@pytest.fixture
def live_attempt(examinee, exam):
    """An attempt started now, in block 1 (views use the real clock)."""
    now = timezone.now()
    attempt = attempts.attempt_start(user=examinee, exam=exam, now=now, rng=random.Random(7))
    clock.tutorial_end(attempt=attempt, now=now)
    return clock.block_start(attempt=attempt, now=now)


def secrets_of(attempt: Attempt) -> list[str]:
    """Strings that must never reach the browser while a timed block is open."""
    found = []
    for r in Response.objects.filter(attempt=attempt).select_related("version"):
        found.append(r.version.explanation_html)
        found.extend(o["explanation"] for o in r.version.options)
        found.append(r.version.objective_html)
    return found


def attempt_urls(attempt: Attempt) -> list[str]:
    u = attempt.uuid
    return [
        reverse("exams:attempt", args=[u]),
        reverse("exams:clock", args=[u]),
        reverse("exams:item", args=[u, 1]),
        reverse("exams:item", args=[u, 2]),
        reverse("exams:block_items", args=[u]),
        reverse("exams:review_screen", args=[u]),
        reverse("exams:block_end", args=[u]),
    ]


def test_anonymous_is_sent_to_login(client, live_attempt):
    for url in attempt_urls(live_attempt):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("accounts:login")), url


def test_other_examinee_gets_404_everywhere(client, other_examinee, live_attempt):
    client.force_login(other_examinee)
    for url in attempt_urls(live_attempt):
        assert client.get(url).status_code == 404, url
    save = reverse("exams:save", args=[live_attempt.uuid, 1])
    assert client.post(save, {"seq": 1, "choice": 0}).status_code == 404
    assert not Response.objects.filter(attempt=live_attempt, choice__isnull=False).exists()


def test_instructor_cannot_open_an_examinee_attempt(client, instructor, live_attempt):
    client.force_login(instructor)
    for url in attempt_urls(live_attempt):
        assert client.get(url).status_code == 404, url


@pytest.mark.parametrize(
    ("name", "method"),
    [
        ("exams:save", "get"),
        ("exams:block_start", "get"),
        ("exams:tutorial_end", "get"),
        ("exams:item", "post"),
        ("exams:block_items", "post"),
        ("exams:visit", "get"),
        ("exams:clock", "post"),
        ("exams:review_screen", "post"),
    ],
)
def test_wrong_method_is_405(examinee_client, live_attempt, name, method):
    with_item = {"exams:save", "exams:item", "exams:visit"}
    args = [live_attempt.uuid, 1] if name in with_item else [live_attempt.uuid]
    response = getattr(examinee_client, method)(reverse(name, args=args))
    assert response.status_code == 405


def test_exam_start_refuses_get(examinee_client, exam):
    assert examinee_client.get(reverse("exams:exam_start", args=[exam.uuid])).status_code == 405


def test_starting_a_private_exam_without_assignment_is_404(examinee_client, exam):
    exam.is_public = False
    exam.save()
    response = examinee_client.post(reverse("exams:exam_start", args=[exam.uuid]))
    assert response.status_code == 404
    assert not Attempt.objects.exists()


def test_save_answers_json_with_the_server_clock(examinee_client, live_attempt):
    url = reverse("exams:save", args=[live_attempt.uuid, 1])
    response = examinee_client.post(url, {"seq": 1, "choice": 2}, HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    body = response.json()
    assert body["ok"] is True and body["applied"] == ["choice"]
    assert 0 < body["clock"]["block_remaining"] <= 600
    assert body["clock"]["last_seq"] == 1
    assert Response.objects.get(attempt=live_attempt, block__number=1, position=1).choice == 2


def test_save_without_js_redirects_back_to_the_item(examinee_client, live_attempt):
    url = reverse("exams:save", args=[live_attempt.uuid, 2])
    response = examinee_client.post(url, {"seq": 1, "choice": 1, "go": 3})
    assert response.status_code == 302
    assert response["Location"] == reverse("exams:item", args=[live_attempt.uuid, 3])


def test_bad_save_is_400_and_writes_nothing(examinee_client, live_attempt):
    url = reverse("exams:save", args=[live_attempt.uuid, 1])
    for data in (
        {"choice": 1},
        {"seq": "x", "choice": 1},
        {"seq": 1, "choice": 99},
        {"seq": 1, "highlights": "[[5, 2]]"},
        {"seq": 1, "struck": "a,b"},
    ):
        response = examinee_client.post(url, data, HTTP_ACCEPT="application/json")
        assert response.status_code == 400, data
    r = Response.objects.get(attempt=live_attempt, block__number=1, position=1)
    assert (r.choice, r.struck, r.highlights, r.field_seqs) == (None, [], [], {})


def test_save_after_block_closed_is_409(examinee_client, live_attempt):
    clock.block_end(attempt=live_attempt, now=timezone.now())
    url = reverse("exams:save", args=[live_attempt.uuid, 1])
    response = examinee_client.post(url, {"seq": 5, "choice": 1}, HTTP_ACCEPT="application/json")
    assert response.status_code == 409
    assert response.json()["error"] == "closed"


def test_timed_block_never_sends_the_key_or_explanation(examinee_client, live_attempt):
    secrets = secrets_of(live_attempt)
    bodies = []
    urls = attempt_urls(live_attempt)[:-1]
    for pos in range(1, 6):
        urls.append(reverse("exams:item", args=[live_attempt.uuid, pos]))
    for url in urls:
        for headers in ({}, {"HTTP_HX_REQUEST": "true"}):
            response = examinee_client.get(url, follow=True, **headers)
            bodies.append(response.content.decode())
    for pos in range(1, 6):
        response = examinee_client.post(
            reverse("exams:save", args=[live_attempt.uuid, pos]),
            {"seq": pos, "choice": 0},
            HTTP_ACCEPT="application/json",
        )
        bodies.append(response.content.decode())
    everything = "\n".join(bodies)
    assert "SECRET-EXPLANATION" not in everything
    for secret in secrets:
        assert secret not in everything
    # No hidden markers of the key either (data attributes, JSON).
    assert not re.search(r"(key_index|is_correct|correct_answer|data-key)", everything)


def test_practice_tutor_and_review_never_send_the_key_of_a_timed_block_open_elsewhere(
    examinee_client, examinee, exam, practice_open
):
    """The scan above, widened to every other page that shows keys (exams/exposure.py)."""
    now = timezone.now()
    # Before the exam starts: a finished practice block and an open tutor block, each holding
    # the whole bank, so both hold every question the exam will draw.
    closed = practice.practice_create(
        user=examinee, disciplines=[], systems=[], pool="all", count=40, mode="timed", now=now
    )
    for r in Response.objects.filter(attempt=closed).select_related("version"):
        choice = None if r.position % 2 else (r.version.key_index + 1) % 5
        answers.answer_save(
            attempt_uuid=closed.uuid,
            user_id=closed.user_id,
            position=r.position,
            seq=1,
            choice=choice,
            now=now,
        )
    clock.block_end(attempt=closed, now=now)
    tutor = practice.practice_create(
        user=examinee, disciplines=[], systems=[], pool="all", count=40, mode="tutor", now=now
    )
    live = attempts.attempt_start(user=examinee, exam=exam, now=now, rng=random.Random(7))
    clock.tutorial_end(attempt=live, now=now)
    live = clock.block_start(attempt=live, now=now)
    for pos in range(1, 6):
        answers.answer_save(
            attempt_uuid=live.uuid,
            user_id=live.user_id,
            position=pos,
            seq=pos,
            is_marked=True,
            now=now,
        )
    secrets = secrets_of(live)

    bodies = [examinee_client.get(reverse("exams:practice_new")).content.decode()]
    for pool in practice.POOLS:
        response = examinee_client.post(
            reverse("exams:practice_create"),
            {"pool": pool, "count": 40, "mode": "tutor"},
            follow=True,
        )
        bodies.append(response.content.decode())
    for attempt in Attempt.objects.filter(user=examinee, kind=Attempt.Kind.PRACTICE):
        review = reverse("analytics:block_review", args=[attempt.uuid, 1])
        for r in Response.objects.filter(attempt=attempt):
            if attempt.is_finished:
                bodies.append(examinee_client.get(review, {"item": r.position}).content.decode())
                continue
            examinee_client.post(
                reverse("exams:save", args=[attempt.uuid, r.position]),
                {"seq": 1000 + r.position, "choice": 0},
                HTTP_ACCEPT="application/json",
            )
            item = reverse("exams:item", args=[attempt.uuid, r.position])
            bodies.append(examinee_client.get(item).content.decode())
            bodies.append(examinee_client.get(item, HTTP_HX_REQUEST="true").content.decode())
            bodies.append(examinee_client.get(review, {"item": r.position}).content.decode())
        for name in ("analytics:attempt_review", "analytics:score_report"):
            bodies.append(examinee_client.get(reverse(name, args=[attempt.uuid])).content.decode())
    everything = "\n".join(bodies)
    for secret in secrets:
        assert secret not in everything
    # The scan can see a key: the practice blocks' other questions show theirs.
    assert tutor.pk and everything.count("SECRET-EXPLANATION") >= 30


def test_tutor_mode_reveals_the_key_only_after_answering(examinee_client, examinee, tutor_exam):
    now = timezone.now()
    attempt = attempts.attempt_start(user=examinee, exam=tutor_exam, now=now)
    attempt = clock.block_start(attempt=attempt, now=now)
    r = Response.objects.select_related("version").get(attempt=attempt, block__number=1, position=1)
    url = reverse("exams:item", args=[attempt.uuid, 1])
    assert r.version.explanation_html not in examinee_client.get(url).content.decode()
    examinee_client.post(
        reverse("exams:save", args=[attempt.uuid, 1]),
        {"seq": 1, "choice": 0},
        HTTP_ACCEPT="application/json",
    )
    assert r.version.explanation_html in examinee_client.get(url).content.decode()


def test_question_page_queries_do_not_grow_with_block_size(
    examinee_client, live_attempt, django_assert_max_num_queries
):
    url = reverse("exams:item", args=[live_attempt.uuid, 3])
    examinee_client.get(url)  # the session row is warm after the first request
    # session, user, attempt (locked), active block, responses + versions (one join),
    # plus the savepoint/BEGIN and COMMIT bookkeeping of the visit's transaction.
    with django_assert_max_num_queries(12) as ctx:
        examinee_client.get(url)
    reads = [
        q["sql"] for q in ctx.captured_queries if q["sql"].lstrip().upper().startswith("SELECT")
    ]
    assert len(reads) <= 6, "\n".join(r[:120] for r in reads)


def test_reload_shows_the_same_answers_and_remaining_time(examinee_client, live_attempt):
    examinee_client.post(
        reverse("exams:save", args=[live_attempt.uuid, 1]),
        {"seq": 1, "choice": 3, "marked": "1"},
        HTTP_ACCEPT="application/json",
    )
    first = examinee_client.get(reverse("exams:clock", args=[live_attempt.uuid])).json()
    second = examinee_client.get(reverse("exams:clock", args=[live_attempt.uuid])).json()
    assert abs(first["block_remaining"] - second["block_remaining"]) <= 1
    assert second["last_seq"] == 1
    r = Response.objects.get(attempt=live_attempt, block__number=1, position=1)
    assert (r.choice, r.is_marked) == (3, True)


def test_end_block_post_twice_closes_once(examinee_client, live_attempt):
    url = reverse("exams:block_end", args=[live_attempt.uuid])
    assert examinee_client.post(url).status_code == 302
    closed_at = live_attempt.blocks.get(number=1).closed_at
    assert examinee_client.post(url).status_code == 302
    b1 = live_attempt.blocks.get(number=1)
    assert b1.closed_at == closed_at and b1.state == AttemptBlock.State.CLOSED
    assert live_attempt.blocks.get(number=2).state == AttemptBlock.State.PENDING


def test_clock_json_is_the_servers(examinee_client, live_attempt):
    body = examinee_client.get(reverse("exams:clock", args=[live_attempt.uuid])).json()
    assert body["state"] == "in_block" and body["block_number"] == 1
    assert json.loads(json.dumps(body)) == body


def test_the_clock_tells_the_browser_how_long_after_zero_the_server_closes(
    examinee_client, live_attempt, settings
):
    settings.ANSWER_GRACE_SECONDS = 7
    before = timezone.now()
    body = examinee_client.get(reverse("exams:clock", args=[live_attempt.uuid])).json()
    after = timezone.now()
    assert body["grace_seconds"] == 7
    # To the millisecond: the block's deadline plus the grace, from the server's now.
    block = live_attempt.blocks.get(number=1)
    closes = block.deadline_at + timedelta(seconds=7)
    lo = (closes - after).total_seconds() * 1000
    hi = (closes - before).total_seconds() * 1000
    assert lo - 1 <= body["closes_in_ms"] <= hi + 1
    # A save's reply carries it too, so the page knows it after every answer.
    saved = examinee_client.post(
        reverse("exams:save", args=[live_attempt.uuid, 1]),
        {"seq": 1, "choice": 0},
        HTTP_ACCEPT="application/json",
    ).json()
    assert saved["clock"]["closes_in_ms"] > 0
    # The item page's own clock carries it too (the figure exam.js starts from).
    page = examinee_client.get(reverse("exams:item", args=[live_attempt.uuid, 1])).content
    assert b'"grace_seconds": 7' in page


def test_block_items_sends_every_item_of_the_open_block_read_only(
    examinee_client, live_attempt, django_assert_max_num_queries
):
    url = reverse("exams:block_items", args=[live_attempt.uuid])
    examinee_client.get(url)
    # One request for the browser's offline cache, in a constant number of queries.
    with django_assert_max_num_queries(8):
        body = examinee_client.get(url).content.decode()
    block = live_attempt.blocks.get(number=1)
    positions = re.findall(r'data-screen="item"\s+data-url="[^"]+/item/(\d+)/"', body)
    assert positions == [str(p) for p in range(1, block.responses.count() + 1)]
    for r in block.responses.select_related("version"):
        assert r.version.stem_html in body
    # One navigator for all items: none is marked current (the browser marks each).
    assert body.count('class="item-nav"') == len(positions)
    assert "is-current" not in body
    block.refresh_from_db()
    assert block.current_position == 1, "reading ahead is not a visit"


def test_block_items_never_carries_tutor_content(examinee_client, examinee, tutor_exam):
    now = timezone.now()
    attempt = attempts.attempt_start(user=examinee, exam=tutor_exam, now=now)
    attempt = clock.block_start(attempt=attempt, now=now)
    answers.answer_save(
        attempt_uuid=attempt.uuid, user_id=attempt.user_id, position=2, seq=1, choice=0, now=now
    )
    body = examinee_client.get(reverse("exams:block_items", args=[attempt.uuid]))
    assert body.status_code == 200
    assert "SECRET-EXPLANATION" not in body.content.decode()
    # The item page itself shows it, now that item 2 is answered.
    page = examinee_client.get(reverse("exams:item", args=[attempt.uuid, 2]))
    assert "SECRET-EXPLANATION" in page.content.decode()


def test_block_items_between_blocks_is_404(examinee_client, live_attempt):
    clock.block_end(attempt=live_attempt, now=timezone.now())
    url = reverse("exams:block_items", args=[live_attempt.uuid])
    assert examinee_client.get(url).status_code == 404


def test_visit_moves_the_current_item_and_answers_with_the_clock(examinee_client, live_attempt):
    response = examinee_client.post(reverse("exams:visit", args=[live_attempt.uuid, 4]))
    assert response.status_code == 200
    data = response.json()
    assert data["ok"] is True and data["position"] == 4
    assert data["clock"]["state"] == "in_block" and data["clock"]["block_remaining"] > 0
    block = live_attempt.blocks.get(number=1)
    assert block.current_position == 4
    assert "SECRET-EXPLANATION" not in response.content.decode()
    assert not re.search(r"(key_index|is_correct|correct_answer)", response.content.decode())


def test_visit_after_the_block_closed_is_409(examinee_client, live_attempt):
    clock.block_end(attempt=live_attempt, now=timezone.now())
    response = examinee_client.post(reverse("exams:visit", args=[live_attempt.uuid, 2]))
    assert response.status_code == 409
    assert response.json()["error"] == "closed"


def test_visit_of_someone_elses_attempt_is_404(client, other_examinee, live_attempt):
    client.force_login(other_examinee)
    assert client.post(reverse("exams:visit", args=[live_attempt.uuid, 2])).status_code == 404
    assert live_attempt.blocks.get(number=1).current_position == 1


def test_review_screen_lists_the_block_with_answered_and_marked(examinee_client, live_attempt):
    examinee_client.post(
        reverse("exams:save", args=[live_attempt.uuid, 2]),
        {"seq": 1, "choice": 3, "marked": "1"},
        HTTP_ACCEPT="application/json",
    )
    url = reverse("exams:review_screen", args=[live_attempt.uuid])
    for headers in ({}, {"HTTP_HX_REQUEST": "true"}):
        response = examinee_client.get(url, **headers)
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/html")
        body = response.content.decode()
        assert 'data-screen="review"' in body
        rows = re.findall(r'<tr[^>]*data-pos="(\d+)"[^>]*>', body)
        assert rows == [str(p) for p in range(1, 6)]
    unanswered = examinee_client.get(url, {"show": "unanswered"}).content.decode()
    assert 'data-pos="2"' not in unanswered


def test_without_javascript_the_answer_form_also_marks_and_unmarks(examinee_client, live_attempt):
    page = examinee_client.get(reverse("exams:item", args=[live_attempt.uuid, 2])).content.decode()
    noscript = page[page.index("<noscript>") : page.index("</noscript>")]
    assert 'name="marked" value="0"' in noscript and 'type="checkbox" name="marked"' in noscript
    url = reverse("exams:save", args=[live_attempt.uuid, 2])
    # A checked box comes after the hidden "0": the last value wins.
    examinee_client.post(url, {"seq": 1, "choice": 1, "marked": ["0", "1"]})
    row = Response.objects.get(attempt=live_attempt, block__number=1, position=2)
    assert (row.choice, row.is_marked) == (1, True)
    examinee_client.post(url, {"seq": 2, "marked": "0"})
    row.refresh_from_db()
    assert (row.choice, row.is_marked) == (1, False)


def test_visit_to_an_item_that_does_not_exist_is_400_and_moves_nothing(
    examinee_client, live_attempt
):
    response = examinee_client.post(reverse("exams:visit", args=[live_attempt.uuid, 99]))
    assert response.status_code == 400
    assert "no such item" in response.json()["message"].lower()
    assert live_attempt.blocks.get(number=1).current_position == 1


def test_a_stale_save_runs_the_update_once(
    examinee_client, live_attempt, django_assert_num_queries
):
    url = reverse("exams:save", args=[live_attempt.uuid, 1])
    examinee_client.post(url, {"seq": 5, "choice": 2}, HTTP_ACCEPT="application/json")
    # session, user, the fast UPDATE (matches nothing: the seq is stale), then the locked
    # path: savepoint, attempt (locked), active block, the response, release; the clock.
    with django_assert_num_queries(8) as ctx:
        response = examinee_client.post(
            url, {"seq": 3, "choice": 1}, HTTP_ACCEPT="application/json"
        )
    assert response.json()["stale"] == ["choice"]
    updates = [q["sql"] for q in ctx.captured_queries if q["sql"].lstrip().startswith("WITH a AS")]
    assert len(updates) == 1
    assert Response.objects.get(attempt=live_attempt, block__number=1, position=1).choice == 2


def test_starting_a_block_goes_straight_to_its_first_item(examinee_client, examinee, exam):
    now = timezone.now()
    attempt = attempts.attempt_start(user=examinee, exam=exam, now=now, rng=random.Random(7))
    clock.tutorial_end(attempt=attempt, now=now)
    response = examinee_client.post(reverse("exams:block_start", args=[attempt.uuid]))
    # One redirect, to the page the browser shows, not through the attempt page.
    assert response.status_code == 302
    assert response["Location"] == reverse("exams:item", args=[attempt.uuid, 1])
    page = examinee_client.get(response["Location"])
    assert page.status_code == 200 and 'data-screen="item"' in page.content.decode()
    # A second click (the block is already open) lands on the same screen.
    again = examinee_client.post(reverse("exams:block_start", args=[attempt.uuid]))
    assert again.status_code == 302
    assert examinee_client.get(again["Location"], follow=True).status_code == 200
