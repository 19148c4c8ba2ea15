from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from exams.models import Cohort
from study import cards
from study.models import Card, CardReview, StudyPlan

pytestmark = pytest.mark.django_db


@pytest.fixture
def client_ada(client, examinee):
    client.force_login(examinee)
    return client


def test_a_review_session_answers_then_rates_the_due_card(client_ada, examinee, finished):
    page = client_ada.get(reverse("study:home"))
    assert page.status_code == 200 and Card.objects.filter(user=examinee).count() == 4
    page = client_ada.get(reverse("study:review"))
    card = page.context["card"]
    assert card is not None and b"SECRET-EXPLANATION" not in page.content
    answer = client_ada.post(reverse("study:card_answer", args=[card.uuid]), {"choice": 0})
    assert answer.status_code == 200 and b"SECRET-EXPLANATION" in answer.content
    rated = client_ada.post(reverse("study:card_rate", args=[card.uuid]), {"rating": 3})
    assert rated.status_code == 302
    card.refresh_from_db()
    assert card.review_count == 1 and card.due_at > timezone.now()
    assert CardReview.objects.get(card=card).rating == 3


def test_a_bad_rating_or_choice_is_a_clear_400_that_writes_nothing(client_ada, finished):
    client_ada.get(reverse("study:home"))
    card = Card.objects.first()
    response = client_ada.post(reverse("study:card_rate", args=[card.uuid]), {"rating": 9})
    assert response.status_code == 400 and b"rating" in response.content
    response = client_ada.post(reverse("study:card_answer", args=[card.uuid]), {"choice": 7})
    assert response.status_code == 400 and b"choice" in response.content
    assert not CardReview.objects.exists()


def test_every_study_path_hides_a_card_in_an_open_block_elsewhere(
    client_ada, examinee, finished, open_block_elsewhere
):
    now = timezone.now()
    cards.cards_collect(user=examinee, now=now)
    response = finished.responses.get(block__number=1, position=1)
    response.note = "my note on the missed item"
    response.save(update_fields=["note"])
    card = Card.objects.get(user=examinee, question_id=response.question_id)
    open_block_elsewhere(now)
    home = client_ada.get(reverse("study:home"))
    assert card not in home.context["cards"]
    assert client_ada.get(reverse("study:review")).context["card"] != card
    for name in ("study:card_answer", "study:card_rate"):
        assert (
            client_ada.post(reverse(name, args=[card.uuid]), {"choice": 0, "rating": 3}).status_code
            == 404
        )
    export = client_ada.post(reverse("study:anki_export"), {"cards": [str(card.uuid)]})
    assert export.status_code == 400  # not among the cards they may export now
    notebook = client_ada.get(reverse("study:notebook"))
    entry = next(e for e in notebook.context["entries"] if e.response.pk == response.pk)
    assert entry.review_url is None


def test_the_deck_downloads_as_an_apkg(client_ada, finished):
    client_ada.get(reverse("study:home"))
    response = client_ada.post(reverse("study:anki_export"))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/apkg"
    assert response.content[:2] == b"PK"


def test_a_note_written_on_the_review_page_lands_in_the_notebook(client_ada, finished):
    url = reverse("study:note_save", args=[finished.uuid, 1, 2])
    assert (
        client_ada.post(url, {"note": "Changed my mind: trust the first read"}).status_code == 302
    )
    page = client_ada.get(reverse("study:notebook"), {"q": "first read"})
    assert [e.response.position for e in page.context["entries"]] == [2]
    md = client_ada.get(reverse("study:notebook_markdown"))
    assert "> Changed my mind" in md.content.decode()
    review = client_ada.get(reverse("analytics:block_review", args=[finished.uuid, 1]), {"item": 2})
    assert b"Add to review cards" in review.content and b"trust the first read" in review.content


def test_the_plan_page_makes_a_plan_and_shows_todays_target(client_ada, examinee, finished):
    day = timezone.localdate() + timedelta(days=10)
    response = client_ada.post(reverse("study:plan"), {"test_date": day, "hours_per_day": "3"})
    assert response.status_code == 302
    page = client_ada.get(reverse("study:plan"))
    assert page.context["status"].today is not None and b"today-target" in page.content
    ics = client_ada.get(reverse("study:plan_ics"))
    assert ics.status_code == 200 and b"BEGIN:VCALENDAR" in ics.content
    bad = client_ada.post(
        reverse("study:plan"), {"test_date": timezone.localdate(), "hours_per_day": "3"}
    )
    assert bad.status_code == 400 and b"test date" in bad.content
    assert StudyPlan.objects.get(user=examinee).test_date == day


def test_instructor_pages_never_show_a_students_notes_or_cards(
    client, instructor, examinee, finished
):
    client.force_login(examinee)
    client.get(reverse("study:home"))
    assert Card.objects.filter(user=examinee).exists()
    cohort = Cohort.objects.create(owner=instructor, name="Cohort")
    cohort.members.add(examinee)
    for n in range(4):
        cohort.members.add(
            get_user_model().objects.create_user(username=f"s{n}", password="x", role="examinee")
        )
    client.force_login(instructor)
    secrets = [b"beta blockers", b"Murmur radiating", b"SECRET-EXPLANATION"]
    secrets += [str(c.uuid).encode() for c in Card.objects.all()]
    pages = [
        reverse("study:cohort_study", args=[cohort.uuid]),
        reverse("study:home"),
        reverse("study:notebook"),
        reverse("study:notebook_markdown"),
        reverse("study:review"),
        reverse("teach:cohort_detail", args=[cohort.uuid]),
    ]
    for url in pages:
        body = client.get(url).content
        assert not any(s in body for s in secrets), url
    summary = client.get(pages[0]).context["summary"]
    assert summary.is_shown and summary.with_cards == 1


def test_the_review_queue_holds_misses_of_blocks_closed_since_the_last_visit(
    client_ada, examinee, finished
):
    # Straight from the home page's next step, without a visit to the study home first.
    assert not Card.objects.filter(user=examinee).exists()
    page = client_ada.get(reverse("study:review"))
    assert page.context["card"] is not None and page.context["due_count"] == 4
