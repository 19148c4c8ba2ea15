"""Browser tests for the calculator (key by key), the lab values and calculator panels
(movable, resizable, kept, clear of the options at 1366x768, reverse colour) and the small
test-day defects of issue 14."""

from __future__ import annotations

import pytest

from tests.e2e.test_tools_and_modes import start_exam

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# (keys, expected display): known results, pressed one key at a time on the pure core.
CALCULATIONS = [
    (["6", "*", "7", "="], "42"),
    (["1", "2", "*", "3", ".", "5", "="], "42"),
    (["1", "0", "/", "4", "="], "2.5"),
    (["2", "+", "3", "*", "4", "="], "20"),  # left to right, like a desk calculator
    (["9", "sqrt"], "3"),
    (["1", "/", "0", "="], "Error"),
    (["5", "neg", "-", "2", "="], "-7"),
    (["7", "M+", "C", "MR", "*", "2", "="], "14"),
    (["1", "2", "3", "back", "="], "12"),
    (["0", ".", "1", "+", "0", ".", "2", "="], "0.3"),
]


def in_block(page, live_server, login, examinee, make_exam):
    make_exam(title="E2E tools", slug="e2e-tools", blocks=1, items=3, minutes=10)
    page.set_viewport_size({"width": 1366, "height": 768})
    login(page, "ada")
    start_exam(page, examinee)
    page.click("#start-block")
    page.wait_for_selector('#exam-root[data-ready="1"]')


def test_calculator_core_key_by_key_and_enter_means_equals(
    live_server, page, login, examinee, make_exam
):
    in_block(page, live_server, login, examinee, make_exam)
    results = page.evaluate(
        """async (cases) => {
          const m = await import('/static/js/exam/calculator.js');
          return cases.map(([keys]) => {
            const c = m.createCalculator();
            let d = null;
            for (const k of keys) d = c.press(k);
            return d;
          });
        }""",
        [list(c) for c in CALCULATIONS],
    )
    assert results == [expected for _, expected in CALCULATIONS]

    # In the window: it opens with focus on the display, so Enter is "=".
    page.keyboard.press("Alt+c")
    page.wait_for_selector("#calc-dialog[open]")
    assert page.evaluate("document.activeElement.id") == "calc-display"
    for key in ["6", "*", "7", "Enter"]:
        page.keyboard.press(key)
    assert page.inner_text("#calc-display") == "42"
    page.keyboard.press("c")
    for key in ["1", "2", "*", "3", ".", "5", "Enter"]:
        page.keyboard.press(key)
    assert page.inner_text("#calc-display") == "42"
    # Enter on a key the mouse left focused still means "=".
    page.click('button[data-calc="C"]')
    for key in ["6", "*", "7"]:
        page.click(f'button[data-calc="{key}"]')
    page.keyboard.press("Enter")
    assert page.inner_text("#calc-display") == "42"


def test_panels_start_clear_of_the_options_move_resize_and_stay_put(
    live_server, page, login, examinee, make_exam
):
    in_block(page, live_server, login, examinee, make_exam)
    options = page.locator("#exam-swap .options").bounding_box()

    for opener, panel in (("Alt+l", "#lab-dialog"), ("Alt+c", "#calc-dialog")):
        page.keyboard.press(opener)
        page.wait_for_selector(f"{panel}[open].is-placed")
        box = page.locator(panel).bounding_box()
        assert box["x"] >= options["x"] + options["width"], panel  # beside, not over
        page.keyboard.press("Escape")

    # Pointer: drag the lab values by the title bar; it is non-modal (the item still works).
    page.keyboard.press("Alt+l")
    page.wait_for_selector("#lab-dialog[open]")
    head = page.locator("#lab-dialog .dialog-head h2").bounding_box()
    page.mouse.move(head["x"] + 10, head["y"] + 5)
    page.mouse.down()
    page.mouse.move(head["x"] - 500, head["y"] + 105, steps=5)
    page.mouse.up()
    moved = page.locator("#lab-dialog").bounding_box()
    page.click("#opt-1", force=True)
    assert page.is_checked("#opt-1")
    # Keyboard: arrows move, Shift+arrows resize, on the move handle.
    page.focus("#lab-dialog .panel-move")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("Shift+ArrowDown")
    after = page.locator("#lab-dialog").bounding_box()
    assert after["x"] == pytest.approx(moved["x"] + 16, abs=1)
    assert after["height"] == pytest.approx(moved["height"] + 16, abs=1)
    assert page.get_attribute("#exam-swap", "data-position") == "1"  # the arrows moved no item

    # Reverse colour: the search box follows the theme.
    page.click('[data-action="contrast"]')
    page.fill("#lab-search", "sodium")
    bg = page.evaluate("getComputedStyle(document.getElementById('lab-search')).backgroundColor")
    assert bg != "rgb(255, 255, 255)"
    assert page.inner_text("#lab-count") in ("1 matching value",) or "matching values" in (
        page.inner_text("#lab-count")
    )
    page.fill("#lab-search", "zzzz-nothing")
    assert page.inner_text("#lab-count") == "0 matching values"

    page.reload()
    page.wait_for_selector('#exam-root[data-ready="1"]')
    page.keyboard.press("Alt+l")
    page.wait_for_selector("#lab-dialog[open].is-placed")
    kept = page.locator("#lab-dialog").bounding_box()
    assert kept["x"] == pytest.approx(after["x"], abs=2)
    assert kept["y"] == pytest.approx(after["y"], abs=2)


def test_the_selected_answer_cannot_be_struck_and_choosing_a_struck_option_restores_it(
    live_server, page, login, examinee, make_exam
):
    in_block(page, live_server, login, examinee, make_exam)
    page.keyboard.press("a")
    page.click('.option[data-index="0"] [data-action="strike"]')
    assert "is-struck" not in page.get_attribute('.option[data-index="0"]', "class")
    page.click('.option[data-index="1"] [data-action="strike"]')
    assert "is-struck" in page.get_attribute('.option[data-index="1"]', "class")
    page.keyboard.press("b")
    assert page.is_checked("#opt-1")
    assert "is-struck" not in page.get_attribute('.option[data-index="1"]', "class")


def test_a_panel_closed_at_once_after_opening_keeps_its_place(
    live_server, page, login, examinee, make_exam
):
    # The size kept after a resize is written a moment later; by then the panel may be shut,
    # and a shut dialog measures 0 x 0 (it reopened shrunk in the top-left corner, over the
    # options: the flaky test above).
    in_block(page, live_server, login, examinee, make_exam)
    page.keyboard.press("Alt+l")
    page.wait_for_selector("#lab-dialog[open].is-placed")
    first = page.locator("#lab-dialog").bounding_box()
    page.keyboard.press("Escape")
    page.wait_for_selector("#lab-dialog", state="hidden")
    page.wait_for_timeout(500)
    page.keyboard.press("Alt+l")
    page.wait_for_selector("#lab-dialog[open].is-placed")
    again = page.locator("#lab-dialog").bounding_box()
    assert again == pytest.approx(first, abs=2)


def test_a_shortcut_pressed_right_after_esc_closes_a_panel_is_not_lost(
    live_server, page, login, examinee, make_exam
):
    # Esc with focus in the lab values' search box: the window shuts and focus leaves it at
    # once, so the next key is a shortcut, not typing into a closed window (the flaky test
    # above lost Alt+C this way).
    in_block(page, live_server, login, examinee, make_exam)
    page.keyboard.press("Alt+l")
    page.wait_for_function("() => document.activeElement.id === 'lab-search'")
    focus_left = page.evaluate(
        """() => {
          const search = document.getElementById('lab-search');
          search.dispatchEvent(new KeyboardEvent('keydown', {key: 'Escape', bubbles: true}));
          const dlg = document.getElementById('lab-dialog');
          return !dlg.open && !dlg.contains(document.activeElement);
        }"""
    )
    assert focus_left
    page.keyboard.press("Alt+c")
    page.wait_for_selector("#calc-dialog[open]")
