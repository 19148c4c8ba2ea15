"""The item list (issue 14's stray flag): after a move, its marked and answered state is the
client's latest, not a server page rendered before the last save arrived; and at the largest
text size its sticky list starts under the top bar, however tall the bar has wrapped."""

from __future__ import annotations

import pytest

from tests.e2e.test_tools_and_modes import start_exam

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def in_block(page, login, examinee, make_exam):
    make_exam(title="E2E navigator", slug="e2e-nav", blocks=1, items=3, minutes=10)
    page.set_viewport_size({"width": 1366, "height": 768})
    login(page, "ada")
    attempt = start_exam(page, examinee)
    page.click("#start-block")
    page.wait_for_selector('#exam-root[data-ready="1"]')
    return attempt


def test_an_unmark_saved_while_a_new_item_loads_is_not_undone_by_the_server_rendered_list(
    live_server, page, login, examinee, make_exam
):
    from exams.models import Response

    # No item is fetched ahead, so item 2 comes from the server when the examinee moves to it.
    page.route("**/block/items/", lambda route: route.abort())
    attempt = in_block(page, login, examinee, make_exam)
    page.keyboard.press("m")
    page.wait_for_selector('#save-state[data-state="saved"]')
    assert Response.objects.get(attempt=attempt, position=1).is_marked

    held = {}
    page.route("**/item/1/save/", lambda route: held.setdefault("save", route))
    page.route("**/item/2/", lambda route: held.setdefault("item", route))
    page.keyboard.press("m")  # unmark: its save is held back
    page.keyboard.press("n")  # move: the item's page is held back too
    for _ in range(100):
        if "save" in held and "item" in held:
            break
        page.wait_for_timeout(50)
    # The server renders item 2 (its list still shows item 1 marked) before the unmark
    # arrives; the unmark is then saved and acknowledged; only then does item 2's page arrive.
    stale = held["item"].fetch()
    assert 'data-pos="1"' in stale.text()
    held["save"].continue_()
    page.wait_for_selector('#save-state[data-state="saved"]')
    assert not Response.objects.get(attempt=attempt, position=1).is_marked
    held["item"].fulfill(response=stale)
    page.wait_for_selector('#exam-swap[data-position="2"]')
    assert "is-marked" not in page.get_attribute('.nav-item[data-pos="1"]', "class")
    assert "marked" not in page.inner_text('.nav-item[data-pos="1"] .nav-status')
    page.unroute("**/item/1/save/")
    page.unroute("**/item/2/")
    page.reload()  # and the server agrees
    page.wait_for_selector('#exam-root[data-ready="1"]')
    assert "is-marked" not in page.get_attribute('.nav-item[data-pos="1"]', "class")


def test_at_the_largest_text_the_item_list_stays_below_the_wrapped_top_bar_when_scrolling(
    live_server, page, login, examinee, make_exam
):
    in_block(page, login, examinee, make_exam)
    for _ in range(6):
        page.keyboard.press("+")
    bar = page.locator("#exam-swap .exam-top")
    assert bar.bounding_box()["height"] > 100  # the bar has wrapped to two rows
    page.mouse.wheel(0, 2000)
    page.wait_for_function("() => window.scrollY > 100")
    page.wait_for_timeout(200)
    bar_bottom = bar.bounding_box()["y"] + bar.bounding_box()["height"]
    first = page.locator('.nav-item[data-pos="1"]').bounding_box()
    assert first["y"] >= bar_bottom - 1, (first, bar_bottom)
    # Back to the normal size, the list follows the bar up again.
    for _ in range(6):
        page.keyboard.press("-")
    page.wait_for_timeout(200)
    bar_bottom = bar.bounding_box()["y"] + bar.bounding_box()["height"]
    first = page.locator('.nav-item[data-pos="1"]').bounding_box()
    assert bar_bottom - 1 <= first["y"] <= bar_bottom + 20, (first, bar_bottom)
