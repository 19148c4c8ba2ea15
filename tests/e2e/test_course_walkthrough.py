"""The instructor's course walk-through in a real browser (issue #12, point 9): invite three
examinees by CSV, one of whom accepts through the link in the email received by a real SMTP server; build an exam; put the cohort in
America/New_York and assign the exam with a window entered in that zone (stored in UTC); extend
the window and add an attempt for one examinee; read the gradebook and download it as CSV and
XLSX. (An existing account joins by username.)"""

from __future__ import annotations

import csv
import io
import zoneinfo
from datetime import datetime, timedelta

import pytest

pytestmark = [
    pytest.mark.browser,
    pytest.mark.worker,
    pytest.mark.django_db(transaction=True),
]

NEW_YORK = zoneinfo.ZoneInfo("America/New_York")
CSV = "name,email\nZoe Adams,zoe@example.org\nXu Wen,xu@example.org\nYan Li,yan@example.org\n"
NEW_PASSWORD = "plum-orchard-lantern-42"


def _local(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M")


def test_an_instructor_runs_a_course_from_invitations_to_the_exported_gradebook(
    live_server,
    browser,
    page,
    login,
    instructor,
    examinee,
    smtp_server,
    celery_worker_process,
    screenshot,
    tmp_path,
):
    from django.utils import timezone
    from openpyxl import load_workbook

    from exams import clock
    from exams.answers import answer_save
    from exams.attempts import attempt_start
    from exams.models import Assignment, AssignmentOverride, Cohort, Exam
    from questions.models import Bank, Tag
    from tests.e2e.conftest import _question

    url = live_server.url
    smtp_server.clear()
    bank = Bank.objects.create(slug="course-bank", name="Course bank")
    bank.owners.add(instructor)
    medicine = Tag.objects.get_or_create(
        kind=Tag.Kind.DISCIPLINE, slug="medicine", bank=None, defaults={"name": "Medicine"}
    )[0]
    system = Tag.objects.get_or_create(
        kind=Tag.Kind.SYSTEM, slug="cardiovascular", bank=None, defaults={"name": "Cardio"}
    )[0]
    for n in range(3):
        _question(bank, n, discipline=medicine, system=system)

    # ---- the cohort, in New York time, and three invitations from a CSV file
    login(page, "dr_ito")
    page.goto(f"{url}/teach/cohorts/new/")
    page.fill("#id_name", "Autumn course")
    page.click("button:has-text('Create cohort')")
    page.wait_for_selector("h1:has-text('Autumn course')")
    cohort = Cohort.objects.get(name="Autumn course")
    page.click(".page-head a:has-text('Edit')")
    page.select_option("#id_time_zone", "America/New_York")
    page.click("button:has-text('Save')")
    page.wait_for_selector("text=Times in America/New_York")
    roster = tmp_path / "autumn.csv"
    roster.write_text(CSV)
    page.set_input_files("#id_file", str(roster))
    page.click("text=Send invitations")
    page.wait_for_selector("#members >> text=3 people invited or enrolled")
    assert not cohort.members.exists(), "an invitee is a member only once they accept"
    # Ada already has an account: she is added by username.
    page.fill("#id_usernames", "ada")
    page.click("button:has-text('Add to cohort')")
    page.wait_for_selector("#members >> text=1 added; 0 could not be added.")

    messages = smtp_server.wait_for(3, timeout=30)
    assert sorted(m["To"] for m in messages) == [
        "xu@example.org",
        "yan@example.org",
        "zoe@example.org",
    ]
    (zoe_mail,) = smtp_server.to("zoe@example.org")
    link = smtp_server.link(zoe_mail)
    invitee = browser.new_context(viewport={"width": 1366, "height": 820}).new_page()
    try:
        invitee.goto(link)
        invitee.fill("#id_username", "zoe")
        invitee.fill("#id_password1", NEW_PASSWORD)
        invitee.fill("#id_password2", NEW_PASSWORD)
        invitee.click("text=Set password and join")
        invitee.wait_for_url(f"{url}/accounts/login/")
        assert "You are in Autumn course" in invitee.inner_text("main")
    finally:
        invitee.context.close()
    assert sorted(cohort.members.values_list("username", flat=True)) == ["ada", "zoe"]

    # ---- build an exam: a custom blueprint and a fixed form of the bank's three questions
    page.goto(f"{url}/teach/blueprints/new/")
    page.fill("#id_name", "Course quiz blueprint")
    page.fill("#id_block_count", "1")
    page.fill("#id_items_per_block", "3")
    page.fill("#id_block_minutes", "10")
    page.fill("#id_break_minutes", "0")
    page.fill("#id_tutorial_minutes", "0")
    page.click("button:has-text('Save blueprint')")
    page.wait_for_url(f"{url}/teach/exams/new/?blueprint=*")
    page.fill("#id_title", "Course quiz")
    page.fill("#id_description", "Three questions.")
    page.check("label:has-text('Course bank')")
    page.select_option("#id_mode", "timed")
    page.select_option("#id_assembly", "fixed")
    page.click("button:has-text('Create exam')")
    page.wait_for_selector("text=Created “Course quiz”")
    exam = Exam.objects.get(title="Course quiz")
    for n in range(3):
        page.check(f"#fixed-form label:has-text('course-bank-{n}')")
    page.select_option("#add-block", "1")
    page.click("#fixed-form button:text-is('Add')")
    page.wait_for_selector("#fixed-form >> text=3 of 3 slots filled")

    # ---- assign it with a window entered in New York time; stored in UTC
    page.goto(f"{url}/teach/assignments/new/?cohort={cohort.uuid}")
    assert "Times are in America/New_York" in page.inner_text("main")
    page.select_option("#id_exam", label="Course quiz")
    opens = (timezone.now().astimezone(NEW_YORK) - timedelta(hours=2)).replace(
        second=0, microsecond=0
    )
    closes = opens + timedelta(days=2)
    page.fill("#id_opens_at", _local(opens))
    page.fill("#id_closes_at", _local(closes))
    page.fill("#id_max_attempts", "1")
    page.click("button:has-text('Assign')")
    page.wait_for_selector("text=Assigned “Course quiz” to Autumn course.")
    assignment = Assignment.objects.get()
    assert assignment.opens_at == opens.astimezone(zoneinfo.ZoneInfo("UTC"))
    assert assignment.closes_at == closes.astimezone(zoneinfo.ZoneInfo("UTC"))
    # New York is 4 or 5 hours behind UTC: the stored value is not the typed wall time.
    assert assignment.opens_at.replace(tzinfo=None) != opens.replace(tzinfo=None)
    row = page.locator("section[aria-labelledby='assign-h'] tbody tr")
    assert opens.strftime("%-d %b %Y %H:%M") in row.inner_text()

    # ---- extend it for Ada: a later close and one more attempt
    row.locator("a:has-text('Override')").click()
    page.wait_for_selector("h1:has-text('Override: Course quiz')")
    page.select_option("#id_member", "ada")
    extended = closes + timedelta(days=3)
    page.fill("#id_closes_at", _local(extended))
    page.fill("#id_extra_attempts", "1")
    page.fill("#id_reason", "Illness (note on file)")
    screenshot(page, "instructor-override", full_page=True)
    page.click("button:has-text('Save override')")
    page.wait_for_selector("text=Saved the override for ada.")
    override = AssignmentOverride.objects.get()
    assert override.user == examinee
    assert override.closes_at == extended.astimezone(zoneinfo.ZoneInfo("UTC"))
    assert override.extra_attempts == 1
    overrides = page.inner_text("#overrides")
    assert "ada" in overrides and extended.strftime("%-d %b %Y %H:%M") in overrides

    # ---- the two members sit the exam (through the engine's services, not the test-day UI)
    from django.contrib.auth import get_user_model

    zoe = get_user_model().objects.get(username="zoe")
    for user, choices in ((examinee, (0, 0, 1)), (zoe, (0, 2, 3))):
        now = timezone.now()
        attempt = attempt_start(user=user, exam=exam, now=now)
        attempt = clock.block_start(attempt=attempt, now=now)
        for position, choice in enumerate(choices, start=1):
            answer_save(
                attempt_uuid=attempt.uuid,
                user_id=user.pk,
                position=position,
                seq=position,
                choice=choice,
                now=now,
            )
        clock.block_end(attempt=attempt, now=now)
        clock.exam_end(attempt=attempt, now=now)

    # ---- the gradebook, from the cohort page
    page.goto(f"{url}/teach/cohorts/{cohort.uuid}/")
    page.click("section[aria-labelledby='assign-h'] a:has-text('Gradebook')")
    page.wait_for_selector("h1:has-text('Gradebook: Autumn course')")
    rows = page.locator("table.gradebook tbody tr")
    assert rows.count() == 2
    ada_row, zoe_row = rows.nth(0).inner_text(), rows.nth(1).inner_text()
    assert "Ada" in ada_row and "66.7 %" in ada_row and "override" in ada_row
    assert "Zoe" in zoe_row and "33.3 %" in zoe_row
    screenshot(page, "instructor-gradebook", full_page=True)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 1366, width

    # ---- export: the downloaded CSV and XLSX hold the same rows
    with page.expect_download() as download:
        page.click("a:has-text('Export CSV')")
    assert download.value.suggested_filename == "course-quiz-autumn-course-gradebook.csv"
    csv_path = download.value.path()
    with open(csv_path, encoding="utf-8") as f:
        csv_rows = list(csv.reader(io.StringIO(f.read())))
    assert csv_rows[0][:3] == ["Username", "Name", "Attempt 1 score %"]
    assert [r[:3] for r in csv_rows[1:]] == [
        ["ada", "Ada", "66.7"],
        ["zoe", "Zoe Adams", "33.3"],
    ]
    with page.expect_download() as download:
        page.click("a:has-text('Export XLSX')")
    assert download.value.suggested_filename.endswith(".xlsx")
    with open(download.value.path(), "rb") as f:
        sheet = load_workbook(io.BytesIO(f.read()), read_only=True).active
    xlsx_rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert xlsx_rows[0][:3] == ["Username", "Name", "Attempt 1 score %"]
    assert [r[:3] for r in xlsx_rows[1:]] == [["ada", "Ada", 66.7], ["zoe", "Zoe Adams", 33.3]]
    assert xlsx_rows[1][7] and not xlsx_rows[2][7], "the override is in Ada's row only"
