"""The instructor's side, end to end, in a real browser: a new bank, a question file checked by its
dry-run preview (and a broken one refused with its file and line), the import run by a real Celery
worker, a custom blueprint and a fixed-form exam, a cohort with the examinee in it, and an
assignment with a window and an attempt limit. Then the examinee signs in, finds the exam on the
home page and starts it."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

pytestmark = [
    pytest.mark.browser,
    pytest.mark.worker,
    pytest.mark.django_db(transaction=True),
]

QUESTIONS = [
    {
        "external_id": "e2e-cardio-1",
        "stem": "<p>A 58-year-old man has crushing chest pain and ST elevation in II, III and aVF. "
        "Which coronary artery is most likely occluded?</p>",
        "options": [
            "Right coronary artery",
            "Left anterior descending artery",
            "Left circumflex artery",
            "Left main coronary artery",
        ],
        "key": "A",
        "explanation": "<p>Inferior leads: the right coronary artery in most people.</p>",
        "tags": {"discipline": ["medicine"], "system": ["cardiovascular"]},
    },
    {
        "external_id": "e2e-endo-2",
        "stem": "<p>A 29-year-old woman has heat intolerance, a diffuse goitre and exophthalmos. "
        "Which antibody is most likely present?</p>",
        "options": [
            "TSH-receptor stimulating antibody",
            "Anti-thyroglobulin only",
            "Anti-centromere",
            "Anti-mitochondrial",
        ],
        "key": "A",
        "tags": {"discipline": ["medicine"], "system": ["endocrine"]},
    },
    {
        "external_id": "e2e-renal-3",
        "stem": "<p>A 7-year-old boy has cola-coloured urine two weeks after impetigo. "
        "Which serum finding is most likely?</p>",
        "options": ["Low C3", "High IgA", "Anti-GBM antibodies", "Positive ANCA"],
        "key": 0,
        "tags": {"discipline": ["pediatrics"], "system": ["renal"]},
    },
]


def _jsonl(rows: list[dict]) -> str:
    return "".join(json.dumps(row) + "\n" for row in rows)


def _first_text(stem_html: str) -> str:
    return stem_html.removeprefix("<p>").split(".")[0]


def test_instructor_uploads_a_set_and_assigns_an_exam_that_the_examinee_sees(
    live_server,
    browser,
    page,
    context,
    login,
    instructor,
    examinee,
    screenshot,
    tmp_path,
    celery_worker_process,
):
    from django.core.files.storage import default_storage
    from django.utils import timezone

    from exams.models import Assignment, Attempt, Cohort, Exam
    from questions.models import Bank, ImportJob, Question

    url = live_server.url

    # ---- sign in and create a bank
    login(page, "dr_ito")
    page.click("a.brand")  # an instructor's home is the dashboard
    page.wait_for_url(f"{url}/questions/")
    page.click("nav.topnav >> text=Question banks")
    page.click("a:has-text('New bank')")
    page.wait_for_url(f"{url}/questions/banks/new/")
    page.fill("#id_name", "Cardio-renal E2E")
    page.fill("#id_slug", "cardio-renal-e2e")
    page.click("button:has-text('Create bank')")
    page.wait_for_selector("text=Created the bank")
    bank = Bank.objects.get(slug="cardio-renal-e2e")
    assert list(bank.owners.all()) == [instructor]
    assert page.url.rstrip("/").endswith(str(bank.uuid))
    upload_url = f"{url}/questions/banks/{bank.uuid}/upload/"

    try:
        # ---- a broken file: two good questions and, on line 3, a key that names no option
        broken = tmp_path / "broken.jsonl"
        bad = dict(QUESTIONS[2], key="F")
        broken.write_text(_jsonl([QUESTIONS[0], QUESTIONS[1], bad]), encoding="utf-8")
        page.click("a:has-text('Upload questions')")
        page.wait_for_url(upload_url)
        page.set_input_files("#id_files", str(broken))
        page.click("button:has-text('Check the files')")
        page.wait_for_selector("#upload-preview")
        assert "nothing has been imported" in page.inner_text("#upload-preview .status-failed")
        problems = page.locator(".problem-list li").all_inner_texts()
        assert problems == ["broken.jsonl:3: key F points at no option (options: A to D)"], problems
        assert page.locator("button:has-text('Import')").count() == 0
        assert Question.objects.count() == 0
        assert ImportJob.objects.count() == 0

        # ---- the good file: preview, confirm, wait for the worker
        good = tmp_path / "cardio-renal.jsonl"
        good.write_text(_jsonl(QUESTIONS), encoding="utf-8")
        page.click("a:has-text('Upload again')")
        page.wait_for_url(upload_url)
        page.set_input_files("#id_files", str(good))
        page.select_option("#id_format", "json")
        page.click("button:has-text('Check the files')")
        page.wait_for_selector("#upload-preview .status-done")
        preview = page.inner_text("#upload-preview")
        assert "Ready: 3 questions can be imported into Cardio-renal E2E" in preview
        samples = page.locator("#upload-preview .sample")
        assert samples.count() == 3
        for n, q in enumerate(QUESTIONS):
            sample = samples.nth(n).inner_text()
            assert q["external_id"] in sample
            assert _first_text(q["stem"]) in sample
        assert "cardiovascular" in samples.nth(0).inner_text()
        assert Question.objects.count() == 0, "the dry run wrote to the bank"
        screenshot(page, "instructor-upload-preview", full_page=True)
        page.click("button:has-text('Import 3 questions')")
        page.wait_for_url(f"{url}/questions/imports/**")
        # The job page polls (htmx) until the worker has run the import.
        page.wait_for_selector("#job-progress .status-done", timeout=60_000)
        assert "Imported 3 questions: 3 new, 0 new versions, 0 unchanged." in page.inner_text(
            "#job-progress"
        )
        job = ImportJob.objects.get()
        assert (job.status, job.bank_id, job.owner_id) == ("done", bank.pk, instructor.pk)
        assert sorted(bank.questions.values_list("external_id", flat=True)) == sorted(
            q["external_id"] for q in QUESTIONS
        )
        page.click("a:has-text('Open Cardio-renal E2E')")
        page.wait_for_selector("text=e2e-renal-3")

        # ---- a custom blueprint (1 block of 3 items) and a fixed-form exam on it
        page.click("nav.topnav >> text=Exams")
        page.click("a:has-text('New exam')")
        page.wait_for_url(f"{url}/teach/exams/new/")
        page.click("a:has-text('Define a custom blueprint')")
        page.wait_for_url(f"{url}/teach/blueprints/new/")
        page.fill("#id_name", "E2E one short block")
        page.fill("#id_block_count", "1")
        page.fill("#id_items_per_block", "3")
        page.fill("#id_block_minutes", "10")
        page.fill("#id_break_minutes", "0")
        page.fill("#id_tutorial_minutes", "0")
        page.click("button:has-text('Save blueprint')")
        page.wait_for_url(f"{url}/teach/exams/new/?blueprint=*")
        assert "E2E one short block" in page.locator("#id_blueprint option:checked").inner_text()
        page.fill("#id_title", "Cardio-renal quiz (E2E)")
        page.fill("#id_description", "Three questions from the uploaded set.")
        page.check("label:has-text('Cardio-renal E2E')")
        page.select_option("#id_mode", "timed")
        page.select_option("#id_assembly", "fixed")
        page.click("button:has-text('Create exam')")
        page.wait_for_selector("text=Created “Cardio-renal quiz (E2E)”")
        exam = Exam.objects.get(title="Cardio-renal quiz (E2E)")
        assert exam.assembly == Exam.Assembly.FIXED and not exam.is_public
        assert "0 of 3 slots filled" in page.inner_text("#fixed-form")
        for q in QUESTIONS:
            page.check(f"#fixed-form label:has-text('{q['external_id']}')")
        page.select_option("#add-block", "1")
        page.click("#fixed-form button:text-is('Add')")
        page.wait_for_selector("#fixed-form >> text=3 of 3 slots filled")
        assert [
            (i.block_number, i.position, i.question.external_id)
            for i in exam.fixed_items.select_related("question").order_by("position")
        ] == [(1, n + 1, q["external_id"]) for n, q in enumerate(QUESTIONS)]

        # ---- a cohort with the examinee in it
        page.click("nav.topnav >> text=Cohorts")
        page.click("a:has-text('New cohort')")
        page.wait_for_url(f"{url}/teach/cohorts/new/")
        page.fill("#id_name", "Night shift E2E")
        page.click("button:has-text('Create cohort')")
        page.wait_for_selector("h1:has-text('Night shift E2E')")
        cohort = Cohort.objects.get(name="Night shift E2E")
        page.fill("#id_usernames", "ada")
        page.click("button:has-text('Add to cohort')")
        page.wait_for_selector("#members >> text=1 added; 0 could not be added.")
        assert "ada" in page.inner_text("#members table")
        assert list(cohort.members.all()) == [examinee]

        # ---- the assignment: a window around now, two attempts
        page.click("a:has-text('Assign an exam')")
        page.wait_for_selector("#id_exam")
        assert page.locator("#id_cohort option:checked").inner_text() == "Night shift E2E"
        page.select_option("#id_exam", label="Cardio-renal quiz (E2E)")
        now = timezone.localtime()
        opens = (now - timedelta(hours=1)).replace(second=0, microsecond=0)
        closes = (now + timedelta(days=3)).replace(second=0, microsecond=0)
        page.fill("#id_opens_at", opens.strftime("%Y-%m-%dT%H:%M"))
        page.fill("#id_closes_at", closes.strftime("%Y-%m-%dT%H:%M"))
        page.fill("#id_max_attempts", "2")
        page.click("button:has-text('Assign')")
        page.wait_for_selector("text=Assigned “Cardio-renal quiz (E2E)” to Night shift E2E.")
        row = page.locator("section[aria-labelledby='assign-h'] tbody tr")
        assert row.count() == 1
        assert "Cardio-renal quiz (E2E)" in row.inner_text()
        assert row.locator(".badge.ok:has-text('Open')").count() == 1
        screenshot(page, "instructor-assign", full_page=True)
        assignment = Assignment.objects.get()
        assert (assignment.exam, assignment.cohort, assignment.max_attempts) == (exam, cohort, 2)
        assert (assignment.opens_at, assignment.closes_at) == (opens, closes)

        page.click("button:has-text('Sign out')")
        page.wait_for_url(f"{url}/accounts/login/")
        assert not context.csp_errors, context.csp_errors

        # ---- the examinee, in a fresh browser context
        examinee_context = browser.new_context(
            viewport={"width": 1366, "height": 820}, locale="en-US"
        )
        examinee_context.set_default_timeout(15000)
        try:
            ada = examinee_context.new_page()
            login(ada, "ada")
            card = ada.locator(".exam-card", has_text="Cardio-renal quiz (E2E)")
            assert card.count() == 1
            text = card.inner_text()
            assert "2 attempts left" in text
            assert "3 per block (3)" in text
            assert "10 min" in text
            ada.once("dialog", lambda d: d.accept())  # "Start ... now? The clock starts."
            card.locator("button:has-text('Start exam')").click()
            ada.wait_for_selector("#start-block")  # no tutorial: the screen before block 1
            attempt = Attempt.objects.get(user=examinee)
            assert attempt.exam_id == exam.pk
            ada.click("#start-block")
            ada.wait_for_selector('#exam-swap[data-screen="item"][data-position="1"]')
            assert ada.inner_text("#item-heading") == "Item 1 of 3"
            assert _first_text(QUESTIONS[0]["stem"]) in ada.inner_text("#stem")
            assert ada.locator(".option").count() == 4
        finally:
            examinee_context.close()
    finally:
        # The staged and imported files live in the shared storage (the worker reads them
        # there), not in tmp_path.
        for job in ImportJob.objects.all():
            if job.upload.name and default_storage.exists(job.upload.name):
                default_storage.delete(job.upload.name)
