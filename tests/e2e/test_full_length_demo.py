"""The demo's full-length exam, as a student meets it after `make run`: the 2026 test day.

The demo is loaded exactly as `make run` loads it; the student starts "Step 2 CK full-length
(2026 format)" from the home page, passes the tutorial and walks all 16 blocks in the browser.
"""

from __future__ import annotations

import pytest
from django.core.management import call_command

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TITLE = "Step 2 CK full-length (2026 format)"


def test_the_demo_full_length_exam_is_16_blocks_of_20_with_no_repeated_question(
    live_server, page, context
):
    from exams.models import Attempt, Response

    # Sixteen blocks in a row: give each step room on a busy machine.
    page.set_default_timeout(60_000)
    call_command("load_demo", verbosity=0, stdout=open("/dev/null", "w"))  # noqa: SIM115
    page.goto(f"{live_server.url}/accounts/login/?next=/exams/")
    page.fill("#id_username", "examinee")
    page.fill("#id_password", "mockboard-demo")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/exams/")

    card = page.locator(".exam-card", has_text=TITLE)
    assert "16" in card.inner_text() and "20" in card.inner_text()
    page.once("dialog", lambda d: d.accept())
    card.locator("text=Start exam").click()
    page.wait_for_selector("#end-tutorial")
    page.click("#end-tutorial")

    for number in range(1, 17):
        page.wait_for_selector("#start-block")
        page.click("#start-block")
        page.wait_for_selector('#exam-swap[data-screen="item"][data-position="1"]')
        assert page.inner_text(".block-label").startswith(f"Block {number}")
        assert page.inner_text("#item-heading") == "Item 1 of 20"
        page.click('a[data-action="end-block"]')
        page.click("#end-block-confirm")
    page.wait_for_selector('[data-screen="finished"]')

    attempt = Attempt.objects.get(user__username="examinee", exam__title=TITLE)
    assert attempt.state == Attempt.State.FINISHED
    rows = list(
        Response.objects.filter(attempt=attempt).values_list(
            "block__number", "question_id", "question__is_retired"
        )
    )
    per_block = {n: sum(1 for b, _, _ in rows if b == n) for n in range(1, 17)}
    assert per_block == dict.fromkeys(range(1, 17), 20)
    assert len({q for _, q, _ in rows}) == 320
    assert not any(retired for _, _, retired in rows)
    assert not context.csp_errors, context.csp_errors
