"""Editing and rescoring in a real browser: edit a question, see the new version's diff; fix a
key, see the scope, confirm, watch the real worker rebuild the analytics, and read the note on
the examinee's score report."""

from __future__ import annotations

import pytest
from django.urls import reverse

pytestmark = [
    pytest.mark.browser,
    pytest.mark.worker,
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def miskeyed(t0, instructor, examinee):
    from tests.analytics.conftest import Build, compute_block_and_items

    build = Build(t0=t0, owner=instructor)
    v = build.question(key=0, tags=("system:renal",))
    build.bank.owners.add(instructor)
    block = build.closed_block(user=examinee, answers=[(v, 1)])
    compute_block_and_items(block=block, now=t0)
    return v.question, block.attempt


def test_edit_then_diff_then_fix_key_then_rescored_report(
    page, login, live_server, miskeyed, celery_worker_process, context
):
    question, attempt = miskeyed
    login(page, "dr_ito")
    page.goto(f"{live_server.url}/questions/items/{question.uuid}/")
    page.click("text=Edit")
    # The toolbar is an ES module: it loads under the CSP (modules run after the HTML is parsed,
    # so wait for it rather than count at once).
    page.wait_for_selector(".editor-toolbar")
    page.fill("#id_stem_html", "<p>Stem of question 1, corrected.</p>")
    page.click("button[value=preview]")
    assert "corrected." in page.locator("#preview").inner_text()
    page.click("button[value=save]")
    page.wait_for_url(f"{live_server.url}/questions/items/{question.uuid}/")
    page.click("#versions-h ~ table a:text-is('2')")
    diff = page.locator("#version-diff")
    assert diff.locator("ins").first.inner_text() == "1, corrected."
    assert diff.locator("del").first.inner_text() == "1."

    page.goto(f"{live_server.url}/questions/items/{question.uuid}/")
    page.click("text=Fix the key or void")
    page.select_option("#id_choice", "B")
    page.click("text=Show what this changes")
    scope = page.locator("[role=alertdialog]")
    assert "This changes 1 response in 1 attempt." in scope.inner_text()
    page.click("text=Confirm and rescore")
    page.locator(".status-done").wait_for(timeout=30000)

    page.context.clear_cookies()
    login(page, "ada")
    page.goto(live_server.url + reverse("analytics:score_report", args=[attempt.uuid]))
    assert "Block 1, item 1: the answer key was corrected" in page.content()
