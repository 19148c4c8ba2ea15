"""Offline, the examinee can still move to items never opened and answer them."""

from __future__ import annotations

import time

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def start_block_and_wait_for_its_items(page, login, examinee, make_exam, *, title, slug):
    """Start a 1 × 3-item exam as ada; return the open block once the browser holds its items
    (one request, after a random pause of at most 9.5 s, that does not move the server's
    current item)."""
    from exams.models import Attempt, AttemptBlock

    make_exam(title=title, slug=slug, blocks=1, items=3, minutes=10)
    login(page, "ada")
    page.once("dialog", lambda d: d.accept())
    page.click("text=Start exam")
    page.wait_for_selector("#start-block")
    page.click("#start-block")
    page.wait_for_selector('#exam-swap[data-screen="item"][data-position="1"]')
    block = Attempt.objects.get(user=examinee).blocks.get(state=AttemptBlock.State.ACTIVE)
    page.wait_for_selector('#exam-root[data-held-items="3"]', timeout=20000)
    names = page.evaluate("() => performance.getEntriesByType('resource').map(e => e.name)")
    assert sum(1 for n in names if "/block/items/" in n) == 1, "one request for the whole block"
    return block


def test_items_never_opened_can_be_answered_offline(
    live_server, page, context, login, examinee, make_exam
):
    from exams.models import Response

    block = start_block_and_wait_for_its_items(
        page, login, examinee, make_exam, title="E2E offline", slug="e2e-offline"
    )
    time.sleep(0.5)
    block.refresh_from_db()
    assert block.current_position == 1

    context.set_offline(True)
    page.click('.nav-item[data-pos="3"]')
    page.wait_for_selector('#exam-swap[data-position="3"]')
    page.click('label[for="opt-1"]')
    page.click('.nav-item[data-pos="2"]')
    page.wait_for_selector('#exam-swap[data-position="2"]')
    page.click('label[for="opt-4"]')
    assert Response.objects.get(block=block, position=3).choice is None

    context.set_offline(False)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        got = dict(Response.objects.filter(block=block).values_list("position", "choice"))
        if got[3] == 1 and got[2] == 4:
            break
        time.sleep(0.3)
    got = dict(Response.objects.filter(block=block).values_list("position", "choice"))
    assert (got[2], got[3]) == (4, 1)


def test_online_moves_to_held_items_are_shown_at_once_and_timed_on_the_server(
    live_server, page, login, examinee, make_exam
):
    from exams.models import Response

    block = start_block_and_wait_for_its_items(
        page, login, examinee, make_exam, title="E2E cache-first", slug="e2e-cache-first"
    )

    def server_reaches(position):
        # At a reader's pace: moves made faster than the server answers are coalesced (only
        # the latest waiting move is sent), which would make the count below vary.
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            block.refresh_from_db()
            if block.current_position == position:
                return True
            time.sleep(0.1)
        return False

    page.click('label[for="opt-2"]')
    page.click('.nav-item[data-pos="3"]')
    page.wait_for_selector('#exam-swap[data-position="3"]')
    # Shown from the block's bundle: the navigator marks this item, and only this one.
    assert page.locator(".nav-item.is-current").count() == 1
    assert page.get_attribute('.nav-item[aria-current="page"]', "data-pos") == "3"
    page.click('label[for="opt-0"]')
    assert server_reaches(3)
    page.keyboard.press("p")
    page.wait_for_selector('#exam-swap[data-position="2"]')
    assert server_reaches(2)
    # Back on item 3 from memory: the answer given there is still shown.
    page.keyboard.press("n")
    page.wait_for_selector('#exam-swap[data-position="3"]')
    assert page.is_checked("#opt-0")

    # The server followed every move (it times items), without rendering any of them again.
    assert server_reaches(3)
    # The database sees the last move a moment before the browser logs its response.
    page.wait_for_function(
        "() => performance.getEntriesByType('resource')"
        ".filter(e => e.name.endsWith('/visit/')).length >= 3",
        timeout=5000,
    )
    names = page.evaluate("() => performance.getEntriesByType('resource').map(e => e.name)")
    assert sum(1 for n in names if n.endswith("/visit/")) == 3
    assert not any(n.endswith(("/item/2/", "/item/3/")) for n in names), [
        n for n in names if "/exams/" in n
    ]
    responses = dict(Response.objects.filter(block=block).values_list("position", "time_spent_ms"))
    assert responses[1] > 0 and responses[2] > 0
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        got = dict(Response.objects.filter(block=block).values_list("position", "choice"))
        if got[1] == 2 and got[3] == 0:
            break
        time.sleep(0.2)
    assert (got[1], got[3]) == (2, 0)
