"""One walk through the screens the 2026 driver's tools added (issue 14), shared by the axe test
(at 1366 px) and the phone test (at 360 px): `check(page, name)` is called on each screen and
panel state. The screens: the Settings window in each setting state, the Tutorial inside a
block, an image's contrast and brightness controls, the movable lab-values and calculator
panels (open, moved, in reverse colour), the End Block offline notice, the Suspend and End exam
screens, the time-zone page and the study pages."""

from __future__ import annotations

from collections.abc import Callable


def _image_on_item_one(exam):
    from exams.models import FixedItem

    version = FixedItem.objects.get(exam=exam, block_number=1, position=1).question.current_version
    version.stem_html += (
        '<p><img src="/static/img/favicon.svg" alt="Chest film" width="80" height="80"></p>'
    )
    version.save(update_fields=["stem_html"])


def _act(page, action: str) -> None:
    """The first visible control for `action` (the top bar's, or the phone's drawer's)."""
    control = page.locator(f'[data-action="{action}"]:visible').first
    control.scroll_into_view_if_needed()
    control.click()


def walk_2026_screens(
    page, live_server, login, examinee, make_exam, check: Callable[[object, str], None]
):
    from exams.models import Attempt

    exam = make_exam(
        title="E2E 2026 screens", slug="e2e-2026-screens", blocks=2, items=3, minutes=10
    )
    _image_on_item_one(exam)
    login(page, "ada")
    page.once("dialog", lambda d: d.accept())
    page.click("text=Start exam")
    page.wait_for_selector("#start-block")
    attempt = Attempt.objects.get(user=examinee)
    check(page, "break screen with Suspend and End exam")
    page.click("#start-block")
    page.wait_for_selector('#exam-root[data-ready="1"]')

    # An item with an image: its contrast and brightness controls, untouched and adjusted.
    page.wait_for_selector("#stem .img-tools")
    check(page, "item with an image's contrast and brightness controls")
    page.locator('#stem .img-tools [data-adj="c+"]').click()
    page.locator('#stem .img-tools [data-adj="b-"]').click()
    check(page, "item with an adjusted image")
    page.keyboard.press("c")  # a wrong answer (the key is A): a study card once the block ends

    # Settings, in each state.
    _act(page, "settings")
    page.wait_for_selector("#settings-dialog[open]")
    check(page, "Settings window")
    for name, value in (
        ("zoom", "5"),
        ("scheme", "reverse"),
        ("time", "elapsed"),
        ("zoom", "0"),
        ("scheme", "normal"),
    ):
        page.check(f'#settings-form input[name="{name}"][value="{value}"]')
        check(page, f"Settings window, {name} {value} (elapsed time from then on)")
    page.click('#settings-dialog [data-action="tutorial"]')
    page.wait_for_selector("#tutorial-dialog[open]")
    check(page, "Tutorial window inside a block")
    page.keyboard.press("Escape")
    page.wait_for_selector("#tutorial-dialog", state="hidden")
    page.check('#settings-form input[name="zoom"][value="1"]')
    page.keyboard.press("Escape")
    page.wait_for_selector("#settings-dialog", state="hidden")
    check(page, "item with the block time elapsed shown")

    # The panels: open, moved (by the keyboard, on the move handle), in reverse colour.
    for action, panel in (("labs", "#lab-dialog"), ("calculator", "#calc-dialog")):
        _act(page, action)
        page.wait_for_selector(f"{panel}[open].is-placed")
        check(page, f"{panel} panel open")
        page.focus(f"{panel} .panel-move")
        for key in ("ArrowLeft", "ArrowLeft", "ArrowDown", "Shift+ArrowUp"):
            page.keyboard.press(key)
        check(page, f"{panel} panel moved and resized")
        page.evaluate("document.documentElement.classList.add('reverse-contrast')")
        check(page, f"{panel} panel in reverse colour")
        page.evaluate("document.documentElement.classList.remove('reverse-contrast')")
        page.keyboard.press("Escape")
        page.wait_for_selector(panel, state="hidden")
    _act(page, "contrast")
    check(page, "item with an adjusted image in reverse colour")
    _act(page, "contrast")

    # End Block while offline: the notice, then the confirmation when the connection returns.
    page.wait_for_selector('#save-state[data-state="saved"]')
    page.context.set_offline(True)
    page.wait_for_selector('#save-state[data-state="offline"]')
    _act(page, "end-block")
    page.wait_for_selector("#end-pending:not([hidden])")
    check(page, "End Block offline notice")
    page.context.set_offline(False)
    page.wait_for_url(f"**/exams/a/{attempt.uuid}/blocks/end/")
    page.click("#end-block-confirm")
    page.wait_for_selector("#start-block")
    check(page, "break screen after block 1")

    # End exam asks first; Suspend goes to My exams with a notice.
    page.click("#end-exam")
    page.wait_for_selector("#confirm-end-exam")
    check(page, "End exam confirmation")
    page.go_back()
    page.wait_for_selector("#suspend-exam")
    page.click("#suspend-exam")
    page.wait_for_url(f"{live_server.url}/exams/")
    check(page, "My exams after Suspend")

    page.goto(f"{live_server.url}/exams/time-zone/")
    check(page, "time-zone page")

    # The study pages, with the card the wrong answer made.
    for url, name in (
        ("/study/", "study home"),
        ("/study/plan/", "study plan"),
        ("/study/notebook/", "notebook"),
        ("/study/review/", "review session"),
    ):
        page.goto(live_server.url + url)
        check(page, name)
    page.locator("input[name=choice]").nth(1).check()
    page.get_by_role("button", name="Submit").click()
    page.wait_for_selector(".explanation")
    check(page, "review session, the explanation and the ratings")
