"""The instructor's question pages: dashboard, bank browser, question page and upload."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from analytics.models import ItemStatistic
from questions.models import Bank, ImportJob, Question, QuestionVersion, Tag
from questions.tasks import run_import_job

pytestmark = pytest.mark.django_db

AIKEN_OK = (
    b"Which drug reverses unfractionated heparin?\nA. Protamine sulfate\nB. Vitamin K\n"
    b"ANSWER: A\n\nWhich nerve is injured in wrist drop?\nA. Ulnar\nB. Radial\nANSWER: B\n"
)
# The first question has no ANSWER line and the second names an option that does not exist.
AIKEN_BAD = (
    b"Which drug reverses heparin?\nA. Protamine\nB. Vitamin K\n\n"
    b"Which nerve?\nA. Ulnar\nB. Radial\nANSWER: Q\n"
)


@pytest.fixture
def other_bank(other_instructor):
    bank = Bank.objects.create(slug="osei-bank", name="Osei's bank")
    bank.owners.add(other_instructor)
    return bank


def make_question(bank, external_id, *, stem="<p>A stem</p>", tags=(), retired=False, **v):
    question = Question.objects.create(bank=bank, external_id=external_id, is_retired=retired)
    version = QuestionVersion.objects.create(
        question=question,
        number=1,
        stem_html=stem,
        options=v.pop(
            "options",
            [
                {"text": "Aspirin", "explanation": "Antiplatelet first."},
                {"text": "Warfarin", "explanation": "Not in the acute phase."},
                {"text": "Observation", "explanation": ""},
            ],
        ),
        key_index=v.pop("key_index", 0),
        explanation_html=v.pop("explanation_html", "<p>Because of the ECG.</p>"),
        objective_html=v.pop("objective_html", "<p>Treat ACS early.</p>"),
        content_hash=v.pop("content_hash", f"{external_id:0<64}"[:64]),
    )
    question.current_version = version
    question.save(update_fields=["current_version"])
    question.tags.set(tags)
    return question


@pytest.fixture
def tags():
    return {
        "medicine": Tag.objects.get_or_create(kind="discipline", slug="medicine", bank=None)[0],
        "surgery": Tag.objects.get_or_create(kind="discipline", slug="surgery", bank=None)[0],
        "cardio": Tag.objects.get_or_create(kind="system", slug="cardiovascular", bank=None)[0],
    }


@pytest.fixture
def question(bank, tags):
    return make_question(
        bank,
        "CK-0001",
        stem="<p>A 58-year-old woman has crushing chest pain.</p>",
        tags=[tags["medicine"], tags["cardio"]],
    )


@pytest.fixture
def other_question(other_bank):
    return make_question(other_bank, "OS-1")


@pytest.fixture
def job(bank, instructor, t0):
    job = ImportJob(bank=bank, owner=instructor, filename="q.txt", format="aiken", created_at=t0)
    job.upload.save("q.txt", ContentFile(AIKEN_OK), save=False)
    job.save()
    return job


@pytest.fixture
def key_change(question, instructor, t0):
    from analytics import rescore

    version = question.current_version
    return rescore.key_change_apply(
        question=question, key_index=1, is_voided=False, based_on=version, actor=instructor, now=t0
    )


def login_redirect(response) -> bool:
    return response.status_code == 302 and response["Location"].startswith(
        reverse("accounts:login")
    )


# --------------------------------------------------------------------------- access rules

# (url name, fixture holding the object or None, method that is allowed, a method that is not)
OWNED_VIEWS = [
    ("teach:bank_detail", "bank", "get", "post"),
    ("teach:bank_practice", "bank", "post", "get"),
    ("teach:upload", "bank", "get", "put"),
    ("teach:upload_confirm", "bank", "post", "get"),
    ("teach:question_detail", "question", "get", "post"),
    ("teach:question_retire", "question", "post", "get"),
    ("teach:import_job", "job", "get", "post"),
    ("teach:key_fix", "question", "get", "put"),
    ("teach:question_edit", "question", "get", "put"),
    ("teach:key_change", "key_change", "get", "post"),
]
PLAIN_VIEWS = [
    ("teach:instructor_home", "get", "post"),
    ("teach:bank_list", "get", "post"),
    ("teach:bank_create", "get", "delete"),
]


def _url(request, name, fixture):
    if fixture is None:
        return reverse(name)
    return reverse(name, args=[request.getfixturevalue(fixture).uuid])


@pytest.mark.parametrize(("name", "fixture", "method", "_"), OWNED_VIEWS)
def test_owned_views_send_anonymous_users_to_login(request, client, name, fixture, method, _):
    response = getattr(client, method)(_url(request, name, fixture))
    assert login_redirect(response)


@pytest.mark.parametrize(("name", "method", "_"), PLAIN_VIEWS)
def test_plain_views_send_anonymous_users_to_login(client, name, method, _):
    assert login_redirect(getattr(client, method)(reverse(name)))


@pytest.mark.parametrize(("name", "fixture", "method", "_"), OWNED_VIEWS)
def test_owned_views_refuse_examinees(request, examinee_client, name, fixture, method, _):
    response = getattr(examinee_client, method)(_url(request, name, fixture))
    assert response.status_code == 403


@pytest.mark.parametrize(("name", "method", "_"), PLAIN_VIEWS)
def test_plain_views_refuse_examinees(examinee_client, name, method, _):
    assert getattr(examinee_client, method)(reverse(name)).status_code == 403


@pytest.mark.parametrize(("name", "fixture", "method", "_"), OWNED_VIEWS)
def test_another_instructors_objects_are_not_found(
    request, client, other_instructor, name, fixture, method, _
):
    client.force_login(other_instructor)
    response = getattr(client, method)(_url(request, name, fixture), {"action": "retire"})
    assert response.status_code == 404


@pytest.mark.parametrize(("name", "fixture", "_", "wrong"), OWNED_VIEWS)
def test_owned_views_refuse_the_wrong_method(request, instructor_client, name, fixture, _, wrong):
    response = getattr(instructor_client, wrong)(_url(request, name, fixture))
    assert response.status_code == 405


@pytest.mark.parametrize(("name", "_", "wrong"), PLAIN_VIEWS)
def test_plain_views_refuse_the_wrong_method(instructor_client, name, _, wrong):
    assert getattr(instructor_client, wrong)(reverse(name)).status_code == 405


@pytest.mark.parametrize(
    ("name", "fixture"),
    [
        ("teach:instructor_home", None),
        ("teach:bank_list", None),
        ("teach:bank_create", None),
        ("teach:bank_detail", "bank"),
        ("teach:upload", "bank"),
        ("teach:question_detail", "question"),
        ("teach:import_job", "job"),
    ],
)
def test_owner_sees_the_page(request, instructor_client, name, fixture):
    response = instructor_client.get(_url(request, name, fixture))
    assert response.status_code == 200
    assert b"css/instructor.css" in response.content


# --------------------------------------------------------------------------- dashboard and banks


def test_dashboard_lists_only_my_banks_with_their_question_counts(
    instructor_client, bank, other_bank, question, job
):
    make_question(bank, "CK-0002", retired=True)
    response = instructor_client.get(reverse("teach:instructor_home"))
    banks = response.context["banks"]
    assert [b.name for b in banks] == ["CK core"]
    assert (banks[0].active_count, banks[0].retired_count) == (1, 1)
    assert response.context["jobs"] == [job]
    assert b"Osei&#x27;s bank" not in response.content


def test_bank_create_makes_me_an_owner(instructor_client, instructor):
    response = instructor_client.post(
        reverse("teach:bank_create"), {"name": "Surgery drills", "slug": "surgery-drills"}
    )
    bank = Bank.objects.get(slug="surgery-drills")
    assert response.status_code == 302
    assert response["Location"] == bank.get_absolute_url()
    assert list(bank.owners.all()) == [instructor]


def test_bank_create_refuses_a_taken_slug(instructor_client, bank):
    response = instructor_client.post(
        reverse("teach:bank_create"), {"name": "Again", "slug": bank.slug}
    )
    assert response.status_code == 200
    assert "slug" in response.context["form"].errors
    assert Bank.objects.count() == 1


def test_bank_browser_searches_the_stem_text(instructor_client, bank, question):
    make_question(bank, "CK-0002", stem="<p>A child with a barking cough.</p>")
    url = reverse("teach:bank_detail", args=[bank.uuid])
    response = instructor_client.get(url, {"q": "barking"})
    assert [q.external_id for q in response.context["page"].object_list] == ["CK-0002"]
    assert response.context["counts"].matching == 1
    assert response.context["counts"].total == 2


def test_bank_browser_lists_plain_text_not_entities(instructor_client, bank):
    make_question(bank, "CK-0002", stem="<p>Of 10&nbsp;individuals, <b>two</b> &amp; more</p>")
    page = instructor_client.get(reverse("teach:bank_detail", args=[bank.uuid])).content.decode()
    assert "Of 10 individuals, two &amp; more" in page
    assert "&amp;nbsp;" not in page and "&nbsp;" not in page


def test_bank_search_ranks_and_highlights_matches(instructor_client, bank):
    make_question(bank, "CK-0002", stem="<p>Delivered at 39&nbsp;weeks of gestation.</p>")
    make_question(bank, "CK-0003", stem="<p>At <i>39 weeks</i> she has pain; 39 weeks again.</p>")
    make_question(bank, "CK-0004", stem="<p>A man with gout.</p>")
    url = reverse("teach:bank_detail", args=[bank.uuid])
    response = instructor_client.get(url, {"q": "39 weeks"})
    ids = [q.external_id for q in response.context["page"].object_list]
    assert sorted(ids) == ["CK-0002", "CK-0003"] and ids[0] == "CK-0003"
    assert "<mark>39</mark> <mark>weeks</mark>" in response.content.decode()


def test_bank_browser_filters_by_tag_and_status(instructor_client, bank, question, tags):
    make_question(bank, "CK-0002", tags=[tags["surgery"]])
    make_question(bank, "CK-0003", tags=[tags["medicine"]], retired=True)
    url = reverse("teach:bank_detail", args=[bank.uuid])

    by_tag = instructor_client.get(url, {"tag": "discipline:medicine"})
    assert [q.external_id for q in by_tag.context["page"].object_list] == ["CK-0001", "CK-0003"]

    active = instructor_client.get(url, {"tag": "discipline:medicine", "status": "active"})
    assert [q.external_id for q in active.context["page"].object_list] == ["CK-0001"]

    retired = instructor_client.get(url, {"status": "retired"})
    assert [q.external_id for q in retired.context["page"].object_list] == ["CK-0003"]


def test_bank_browser_shows_tag_facets_with_counts(instructor_client, bank, question, tags):
    make_question(bank, "CK-0002", tags=[tags["medicine"]])
    response = instructor_client.get(reverse("teach:bank_detail", args=[bank.uuid]))
    medicine = response.context["facets"]["discipline"][0]
    assert (medicine.slug, medicine.n) == ("medicine", 2)
    assert b'value="discipline:medicine"' in response.content


def test_bank_browser_with_an_unknown_tag_shows_nothing(instructor_client, bank, question):
    url = reverse("teach:bank_detail", args=[bank.uuid])
    response = instructor_client.get(url, {"tag": "system:no-such-system"})
    assert response.status_code == 200
    assert list(response.context["page"].object_list) == []


def test_bank_browser_pages_by_fifty(instructor_client, bank):
    for i in range(51):
        make_question(bank, f"Q-{i:03d}")
    url = reverse("teach:bank_detail", args=[bank.uuid])
    first = instructor_client.get(url)
    assert len(first.context["page"].object_list) == 50
    second = instructor_client.get(url, {"page": 2})
    assert [q.external_id for q in second.context["page"].object_list] == ["Q-050"]
    assert b"page=2" in first.content


def test_bank_browser_htmx_request_gets_the_results_fragment(instructor_client, bank, question):
    response = instructor_client.get(
        reverse("teach:bank_detail", args=[bank.uuid]), {"q": "chest"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert b'id="results"' in response.content
    assert b"<html" not in response.content
    assert b"CK-0001" in response.content


def test_bank_browser_query_count_does_not_grow_with_the_bank(
    instructor_client, bank, tags, django_assert_max_num_queries
):
    url = reverse("teach:bank_detail", args=[bank.uuid])
    for i in range(3):
        make_question(bank, f"S-{i}", tags=[tags["medicine"], tags["cardio"]])
    with django_assert_max_num_queries(20) as small:
        instructor_client.get(url)
    for i in range(3, 45):
        make_question(bank, f"S-{i}", tags=[tags["surgery"], tags["cardio"]])
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = instructor_client.get(url)
    assert len(response.context["page"].object_list) == 45


# --------------------------------------------------------------------------- question page


def test_question_page_shows_what_the_examinee_sees_and_the_key(instructor_client, question):
    response = instructor_client.get(question.get_absolute_url())
    html = response.content.decode()
    assert "A 58-year-old woman has crushing chest pain." in html
    assert '<ol class="options" type="A">' in html
    assert "Correct answer" in html
    assert "Antiplatelet first." in html
    assert "Treat ACS early." in html
    assert question.current_version.content_hash[:12] in html


def test_question_body_include_hides_the_key_when_asked(rf, question):
    from django.template.loader import render_to_string

    hidden = render_to_string(
        "teach/_question_body.html", {"version": question.current_version, "show_key": False}
    )
    shown = render_to_string(
        "teach/_question_body.html", {"version": question.current_version, "show_key": True}
    )
    assert "Correct answer" not in hidden
    assert "is-key" not in hidden
    assert "Antiplatelet first." not in hidden
    assert "Correct answer" in shown
    assert hidden.count("<li") == 3


def test_question_page_shows_item_statistics_for_the_current_version(
    instructor_client, question, t0
):
    ItemStatistic.objects.create(
        version=question.current_version,
        responses=10,
        answered=10,
        correct=7,
        option_counts=[7, 2, 1],
        median_time_ms=64000,
        computed_at=t0,
    )
    response = instructor_client.get(question.get_absolute_url())
    assert response.context["statistic"].p_value == pytest.approx(0.7)
    assert [r["count"] for r in response.context["option_rows"]] == [7, 2, 1]
    assert [r["share"] for r in response.context["option_rows"]] == [70, 20, 10]
    assert b"0.70" in response.content
    assert b"64 s" in response.content


def test_question_page_without_statistics_says_so(instructor_client, question):
    response = instructor_client.get(question.get_absolute_url())
    assert response.context["statistic"] is None
    assert b"No examinee has answered this version" in response.content


def test_question_page_shows_the_item_set_stimulus(instructor_client, bank):
    from questions.models import ItemSet

    item_set = ItemSet.objects.create(
        bank=bank, kind="sequential", external_id="SET-1", stimulus_html="<p>A 70-year-old man.</p>"
    )
    first = make_question(bank, "SET-1-a")
    second = make_question(bank, "SET-1-b")
    Question.objects.filter(pk=first.pk).update(item_set=item_set, set_position=1)
    Question.objects.filter(pk=second.pk).update(item_set=item_set, set_position=2)
    response = instructor_client.get(first.get_absolute_url())
    assert b"A 70-year-old man." in response.content
    assert [q.external_id for q in response.context["siblings"]] == ["SET-1-b"]


def test_retire_then_unretire_a_question(instructor_client, question):
    url = reverse("teach:question_retire", args=[question.uuid])
    response = instructor_client.post(url, {"action": "retire"})
    assert response.status_code == 302
    question.refresh_from_db()
    assert question.is_retired
    instructor_client.post(url, {"action": "unretire"})
    question.refresh_from_db()
    assert not question.is_retired


def test_retire_over_htmx_returns_the_status_fragment(instructor_client, question):
    response = instructor_client.post(
        reverse("teach:question_retire", args=[question.uuid]),
        {"action": "retire"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert b'id="retire-box"' in response.content
    assert b"Return to service" in response.content
    assert b"<html" not in response.content


# --------------------------------------------------------------------------- upload


def _upload(client, bank, data, *, name="q.txt", fmt="aiken", skip=False, **extra):
    payload = {"files": SimpleUploadedFile(name, data), "format": fmt}
    if skip:
        payload["skip_unsupported"] = "on"
    return client.post(reverse("teach:upload", args=[bank.uuid]), payload, **extra)


def test_upload_preview_shows_every_error_with_file_and_line_and_writes_nothing(
    instructor_client, bank
):
    response = _upload(instructor_client, bank, AIKEN_BAD, name="week1.txt")
    assert response.status_code == 200
    problems = response.context["problems"]
    assert problems
    assert all(p.startswith("week1.txt:") for p in problems)
    for p in problems:
        assert p.encode() in response.content.replace(b"&#x27;", b"'").replace(b"&quot;", b'"')
    assert "confirm_form" not in response.context
    assert Question.objects.count() == 0
    assert ImportJob.objects.count() == 0


def test_upload_preview_renders_sample_questions_as_the_examinee_sees_them(instructor_client, bank):
    response = _upload(instructor_client, bank, AIKEN_OK)
    assert response.context["preview"].count == 2
    assert response.context["can_import"]
    assert b"Which drug reverses unfractionated heparin?" in response.content
    assert b'<ol class="options" type="A">' in response.content
    assert b"Import 2 questions" in response.content
    assert Question.objects.count() == 0
    assert ImportJob.objects.count() == 0


def test_upload_preview_over_htmx_returns_a_fragment(instructor_client, bank):
    response = _upload(instructor_client, bank, AIKEN_OK, HTTP_HX_REQUEST="true")
    assert b'id="upload-preview"' in response.content
    assert b"<html" not in response.content


def test_upload_preview_names_unsupported_question_types(instructor_client, bank):
    gift = b"::Q1:: Which is a beta blocker? {=Metoprolol ~Amlodipine}\n\n::Q2:: Discuss. {}\n"
    blocked = _upload(instructor_client, bank, gift, name="quiz.gift", fmt="gift")
    assert blocked.context["unsupported"]
    assert all(u.startswith("quiz.gift:") for u in blocked.context["unsupported"])
    assert not blocked.context["can_import"]
    skipped = _upload(instructor_client, bank, gift, name="quiz.gift", fmt="gift", skip=True)
    assert skipped.context["can_import"]


def test_upload_with_several_files_must_detect_formats(instructor_client, bank):
    response = instructor_client.post(
        reverse("teach:upload", args=[bank.uuid]),
        {
            "files": [SimpleUploadedFile("a.txt", AIKEN_OK), SimpleUploadedFile("b.txt", b"x")],
            "format": "aiken",
        },
    )
    assert "format" in response.context["form"].errors


def test_confirm_creates_a_queued_job_and_the_task_imports_it(instructor_client, bank, instructor):
    preview = _upload(instructor_client, bank, AIKEN_OK)
    token = preview.context["confirm_form"].initial["token"]
    response = instructor_client.post(
        reverse("teach:upload_confirm", args=[bank.uuid]), {"token": token}
    )
    job = ImportJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("teach:import_job", args=[job.uuid])
    assert (job.bank, job.owner, job.status, job.format) == (bank, instructor, "queued", "aiken")
    assert job.upload.read() == AIKEN_OK

    page = instructor_client.get(response["Location"])
    assert b"<progress" in page.content
    assert b'hx-trigger="every 1s"' in page.content

    run_import_job(job.id)
    job.refresh_from_db()
    assert job.status == "done"
    assert bank.questions.count() == 2
    done = instructor_client.get(response["Location"], HTTP_HX_REQUEST="true")
    assert b"Imported 2 questions: 2 new, 0 new versions, 0 unchanged." in done.content
    assert b"hx-trigger" not in done.content


def test_confirm_of_several_files_imports_them_all(instructor_client, bank):
    second = b"Which vitamin reverses warfarin?\nA. Vitamin K\nB. Vitamin C\nANSWER: A\n"
    preview = instructor_client.post(
        reverse("teach:upload", args=[bank.uuid]),
        {
            "files": [SimpleUploadedFile("a.txt", AIKEN_OK), SimpleUploadedFile("b.txt", second)],
            "format": "auto",
        },
    )
    assert preview.context["preview"].count == 3, preview.context["problems"]
    token = preview.context["confirm_form"].initial["token"]
    instructor_client.post(reverse("teach:upload_confirm", args=[bank.uuid]), {"token": token})
    job = ImportJob.objects.get()
    run_import_job(job.id)
    job.refresh_from_db()
    assert job.status == "done", job.errors
    assert bank.questions.count() == 3


def test_confirm_with_an_unknown_token_creates_nothing(instructor_client, bank):
    response = instructor_client.post(
        reverse("teach:upload_confirm", args=[bank.uuid]), {"token": "forged"}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("teach:upload", args=[bank.uuid])
    assert ImportJob.objects.count() == 0


def test_confirm_token_is_bound_to_its_bank(instructor_client, instructor, bank):
    second = Bank.objects.create(slug="second", name="Second")
    second.owners.add(instructor)
    token = _upload(instructor_client, bank, AIKEN_OK).context["confirm_form"].initial["token"]
    instructor_client.post(reverse("teach:upload_confirm", args=[second.uuid]), {"token": token})
    assert ImportJob.objects.count() == 0


def test_failed_job_page_lists_the_errors(instructor_client, job, t0):
    ImportJob.objects.filter(pk=job.pk).update(
        status="failed",
        errors=["q.txt:3: the key names no option"],
        finished_at=t0 + timedelta(seconds=2),
    )
    response = instructor_client.get(
        reverse("teach:import_job", args=[job.uuid]), HTTP_HX_REQUEST="true"
    )
    assert b"q.txt:3: the key names no option" in response.content
    assert b"hx-trigger" not in response.content


def test_running_job_fragment_keeps_polling_with_an_accessible_progress_bar(instructor_client, job):
    ImportJob.objects.filter(pk=job.pk).update(status="running", progress=40, total=100)
    response = instructor_client.get(
        reverse("teach:import_job", args=[job.uuid]), HTTP_HX_REQUEST="true"
    )
    html = response.content.decode()
    assert 'hx-trigger="every 1s"' in html
    assert 'aria-valuenow="40"' in html
    assert 'aria-valuemax="100"' in html
    assert "<html" not in html


def test_a_bank_is_exam_material_until_its_owner_opens_it_for_practice(instructor_client, bank):
    assert not bank.is_open_for_practice
    detail = instructor_client.get(reverse("teach:bank_detail", args=[bank.uuid]))
    assert "Open for practice" in detail.content.decode()
    url = reverse("teach:bank_practice", args=[bank.uuid])

    assert instructor_client.post(url, {"action": "open"}).status_code == 302
    bank.refresh_from_db()
    assert bank.is_open_for_practice

    fragment = instructor_client.post(url, {"action": "close"}, HTTP_HX_REQUEST="true")
    assert fragment.status_code == 200
    assert "<html" not in fragment.content.decode()
    bank.refresh_from_db()
    assert not bank.is_open_for_practice


def test_a_bad_practice_toggle_changes_nothing(instructor_client, bank):
    url = reverse("teach:bank_practice", args=[bank.uuid])
    response = instructor_client.post(url, {"action": "maybe"}, follow=True)
    assert "choose open or close" in response.content.decode()
    bank.refresh_from_db()
    assert not bank.is_open_for_practice
