"""The in-browser question editor: the import's cleaning and rules, a preview, new versions."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from questions.models import QuestionVersion, Tag
from tests.teach.test_banks import make_question

pytestmark = pytest.mark.django_db


@pytest.fixture
def question(bank):
    tags = [
        Tag.objects.get_or_create(kind="discipline", slug="medicine", bank=None)[0],
        Tag.objects.get_or_create(kind="system", slug="cardiovascular", bank=None)[0],
    ]
    return make_question(
        bank, "CK-0001", stem="<p>A 58-year-old woman has crushing chest pain.</p>", tags=tags
    )


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def _data(**over):
    data = {
        "stem_html": "<p>A 58-year-old woman has crushing chest pain.</p>",
        "option_text_0": "Aspirin",
        "option_explanation_0": "Antiplatelet first.",
        "option_text_1": "Warfarin",
        "option_explanation_1": "Not in the acute phase.",
        "option_text_2": "Observation",
        "option_explanation_2": "",
        "key": "0",
        "explanation_html": "<p>Because of the ECG.</p>",
        "objective_html": "<p>Treat ACS early.</p>",
        "tags": "discipline:medicine\nsystem:cardiovascular",
        "difficulty": "",
        "source": "",
        "licence": "",
        "action": "save",
    }
    data.update(over)
    return data


def test_the_editor_opens_with_the_current_content(instructor_client, question):
    page = instructor_client.get(reverse("teach:question_edit", args=[question.uuid]))
    html = page.content.decode()
    assert page.status_code == 200
    assert "crushing chest pain" in html and "Not in the acute phase." in html
    assert "system:cardiovascular" in html and "js/editor.js" in html


def test_preview_is_sanitised_like_an_import_and_writes_nothing(instructor_client, question):
    url = reverse("teach:question_edit", args=[question.uuid])
    stem = '<p onclick="x()">New <b>stem</b><script>alert(1)</script></p>'
    response = instructor_client.post(url, _data(stem_html=stem, action="preview"))
    html = response.content.decode()
    assert response.status_code == 200 and 'id="preview"' in html
    assert "<p>New <b>stem</b></p>" in html
    assert "alert(1)</script>" not in html.split('id="preview"')[1]
    assert QuestionVersion.objects.filter(question=question).count() == 1


def test_saving_makes_a_new_version_with_every_field(instructor_client, question):
    url = reverse("teach:question_edit", args=[question.uuid])
    response = instructor_client.post(
        url,
        _data(
            stem_html="<p>A 58-year-old woman has crushing chest pain &amp; sweating.</p>",
            option_text_3="Heparin",
            option_explanation_3="Also given.",
            key="3",
            tags="discipline:medicine\ntopic:acute coronary syndrome",
            difficulty="0.4",
            source="Ward round",
            licence="CC BY 4.0",
            item_set_id="case-7",
            item_set_kind="sequential",
            item_set_position="2",
            stimulus_html="<p>The case.</p>",
        ),
    )
    assert response.status_code == 302
    question.refresh_from_db()
    v = question.current_version
    assert v.number == 2 and v.key_index == 3 and len(v.options) == 4
    assert v.options[3] == {"text": "Heparin", "explanation": "Also given."}
    assert (v.difficulty, v.source, v.licence) == (0.4, "Ward round", "CC BY 4.0")
    assert sorted(f"{t.kind}:{t.slug}" for t in question.tags.all()) == [
        "discipline:medicine",
        "topic:acute-coronary-syndrome",
    ]
    assert (question.item_set.external_id, question.set_position) == ("case-7", 2)
    assert question.item_set.stimulus_html == "<p>The case.</p>"
    # The old version is untouched.
    assert QuestionVersion.objects.get(question=question, number=1).key_index == 0


def test_a_question_breaking_the_import_rules_is_refused_by_name(instructor_client, question):
    url = reverse("teach:question_edit", args=[question.uuid])
    response = instructor_client.post(
        url, _data(option_text_1="", option_explanation_1="", option_text_2="")
    )
    assert response.status_code == 400
    assert "too few options" in response.content.decode()
    assert QuestionVersion.objects.filter(question=question).count() == 1


def test_saving_without_a_change_makes_no_version(instructor_client, question):
    url = reverse("teach:question_edit", args=[question.uuid])
    instructor_client.post(url, _data(stem_html="<p>Changed once.</p>"))
    response = instructor_client.post(url, _data(stem_html="<p>Changed once.</p>"))
    assert response.status_code == 400 and "Nothing changed" in response.content.decode()
    assert QuestionVersion.objects.filter(question=question).count() == 2


def test_an_added_image_shows_in_the_preview_and_is_kept_with_the_version(
    instructor_client, question
):
    url = reverse("teach:question_edit", args=[question.uuid])
    stem = '<p>See the ECG.</p><img src="media:ecg.png" alt="ECG">'
    preview = instructor_client.post(
        url,
        _data(stem_html=stem, action="preview", media_file=SimpleUploadedFile("ecg.png", PNG)),
    )
    assert 'src="data:image/png;base64,' in preview.content.decode()
    response = instructor_client.post(
        url, _data(stem_html=stem, media_file=SimpleUploadedFile("ecg.png", PNG))
    )
    assert response.status_code == 302
    question.refresh_from_db()
    v = question.current_version
    media = v.media.get()
    assert media.get_absolute_url() in v.stem_html


def test_an_unknown_tag_kind_is_named(instructor_client, question):
    url = reverse("teach:question_edit", args=[question.uuid])
    response = instructor_client.post(url, _data(tags="organ:heart"))
    assert response.status_code == 400 and "Line 1" in response.content.decode()


def test_a_version_shows_its_content_and_a_word_diff_from_the_one_before(
    instructor_client, question
):
    url = reverse("teach:question_edit", args=[question.uuid])
    instructor_client.post(
        url,
        _data(
            stem_html="<p>A 58-year-old man has crushing chest pain.</p>",
            objective_html="",
        ),
    )
    page = instructor_client.get(reverse("teach:question_version", args=[question.uuid, 2]))
    html = page.content.decode()
    assert page.status_code == 200 and "Changes from version 1" in html
    assert "<del>woman</del> <ins>man</ins>" in html
    assert 'Objective <span class="badge bad">cleared</span>' in html
    assert "Option A" not in html.split('id="version-diff"')[1]


def test_another_instructors_version_is_not_found(client, other_instructor, question):
    client.force_login(other_instructor)
    url = reverse("teach:question_version", args=[question.uuid, 1])
    assert client.get(url).status_code == 404
