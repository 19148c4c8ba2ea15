import pytest
from django.urls import reverse

from tests.analytics.conftest import compute_block_and_items

pytestmark = pytest.mark.django_db


@pytest.fixture
def exam_in_progress(build, examinee, other_examinee, t0):
    """Block 1 closed (right, wrong after a right first answer, omitted+marked); block 2 open."""
    v1 = build.question(key=0, tags=("system:renal",))
    v2 = build.question(key=1, tags=("system:renal",))
    v3 = build.question(key=2, tags=("system:cardiovascular",))
    v4 = build.question(key=3, tags=("system:cardiovascular",))
    v5 = build.question(key=4, tags=("system:cardiovascular",))
    attempt = build.attempt(user=examinee, finished=False, block_count=2)
    closed = build.block(attempt=attempt, number=1)
    build.response(block=closed, position=1, version=v1, choice=0, time_ms=40_000)
    build.response(block=closed, position=2, version=v2, choice=3, first_choice=1)
    build.response(block=closed, position=3, version=v3, choice=None, marked=True, time_ms=0)
    open_block = build.block(attempt=attempt, number=2, closed=False)
    build.response(block=open_block, position=1, version=v4, choice=3)
    build.response(block=open_block, position=2, version=v5, choice=None)
    # A peer answered v1 wrong with B in 80 s.
    peer = build.closed_block(user=other_examinee, answers=[(v1, 1)])
    peer.responses.update(time_spent_ms=80_000)
    compute_block_and_items(block=peer, now=t0)
    compute_block_and_items(block=closed, now=t0)
    return attempt, [v1, v2, v3, v4, v5]


def _urls(attempt) -> list[str]:
    return [
        reverse("analytics:attempt_review", args=[attempt.uuid]),
        reverse("analytics:block_review", args=[attempt.uuid, 1]),
        reverse("analytics:score_report", args=[attempt.uuid]),
    ]


def test_anonymous_visitors_are_sent_to_login(client, exam_in_progress):
    attempt, _ = exam_in_progress
    for url in [*_urls(attempt), reverse("analytics:progress")]:
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("accounts:login"))


def test_another_examinee_gets_404(client, other_examinee, exam_in_progress):
    attempt, _ = exam_in_progress
    client.force_login(other_examinee)
    for url in _urls(attempt):
        assert client.get(url).status_code == 404


def test_teaching_staff_get_404_on_an_examinees_attempt(instructor_client, exam_in_progress):
    attempt, _ = exam_in_progress
    for url in _urls(attempt):
        assert instructor_client.get(url).status_code == 404


def test_post_is_not_allowed(examinee_client, exam_in_progress):
    attempt, _ = exam_in_progress
    for url in [*_urls(attempt), reverse("analytics:progress")]:
        assert examinee_client.post(url).status_code == 405


def test_closed_block_shows_answer_key_explanations_and_peer_shares(
    examinee_client, exam_in_progress
):
    attempt, (v1, *_) = exam_in_progress
    url = reverse("analytics:block_review", args=[attempt.uuid, 1])

    html = examinee_client.get(url, {"item": 1}).content.decode()

    assert "Q1 option A" in html
    assert "Q1 secret explanation." in html
    assert "Q1 why B" in html
    assert "Q1 educational objective." in html
    # Half of the two examinees chose A and half chose B.
    assert html.count(">50%<") == 2
    # 40 s here against the median of 40 s and 80 s.
    assert "40 s" in html and "(peers' median 60 s)" in html


def test_right_to_wrong_change_is_flagged(examinee_client, exam_in_progress):
    attempt, _ = exam_in_progress
    url = reverse("analytics:block_review", args=[attempt.uuid, 1])

    html = examinee_client.get(url, {"item": 2}).content.decode()

    assert "Changed from right to wrong" in html
    assert "status-incorrect" in html


def test_grid_colours_each_item_by_outcome(examinee_client, exam_in_progress):
    attempt, _ = exam_in_progress
    html = examinee_client.get(
        reverse("analytics:block_review", args=[attempt.uuid, 1])
    ).content.decode()

    assert "cell cell-correct" in html
    assert "cell cell-incorrect" in html
    assert "cell cell-omitted is-marked" in html


def test_incorrect_filter_walks_only_the_missed_items(examinee_client, exam_in_progress):
    attempt, _ = exam_in_progress
    url = reverse("analytics:block_review", args=[attempt.uuid, 1])

    response = examinee_client.get(url, {"filter": "incorrect"})

    html = response.content.decode()
    # Item 2 only: item 1 was right and item 3 was omitted, which has its own filter (the
    # summary counts 1 incorrect and 1 omitted, so the filter must say 1, not 2).
    assert response.context["current"].number == 2
    assert response.context["following_item"] is None
    assert response.context["previous_item"] is None
    assert 'rel="prev"' not in html
    counts = dict(response.context["filter_links"])
    assert (counts["incorrect"], counts["omitted"]) == (1, 1)


def test_closed_timed_block_review_says_what_it_is(examinee_client, exam_in_progress):
    attempt, _ = exam_in_progress

    html = examinee_client.get(
        reverse("analytics:block_review", args=[attempt.uuid, 1])
    ).content.decode()

    # The block's own number and state reach the page inside {% block content %}.
    assert "<span>Block 1</span>" in html
    assert "Block 1 review" in html
    assert "Tutor mode" not in html
    assert "Back to the block" not in html
    assert reverse("analytics:score_report", args=[attempt.uuid]) in html


def test_marked_filter_with_no_item_there_says_so(build, examinee, examinee_client):
    v = build.question(key=0)
    block = build.closed_block(user=examinee, answers=[(v, 0)])
    url = reverse("analytics:block_review", args=[block.attempt.uuid, 1])

    html = examinee_client.get(url, {"filter": "marked"}).content.decode()

    assert "No item matches this filter." in html


def test_bad_query_values_fall_back_to_the_first_item(examinee_client, exam_in_progress):
    attempt, _ = exam_in_progress
    url = reverse("analytics:block_review", args=[attempt.uuid, 1])

    response = examinee_client.get(url, {"item": "abc", "filter": "nonsense"})

    assert response.status_code == 200
    assert response.context["current"].number == 1


def test_htmx_navigation_gets_only_the_panel(examinee_client, exam_in_progress):
    attempt, _ = exam_in_progress
    url = reverse("analytics:block_review", args=[attempt.uuid, 1])

    html = examinee_client.get(url, {"item": 3}, HTTP_HX_REQUEST="true").content.decode()

    assert "<html" not in html
    assert "Q3 secret explanation." in html


def test_open_timed_block_is_not_reviewable_and_leaks_nothing(examinee_client, exam_in_progress):
    attempt, (_, _, _, v4, v5) = exam_in_progress

    assert (
        examinee_client.get(
            reverse("analytics:block_review", args=[attempt.uuid, 2]), {"item": 1}
        ).status_code
        == 404
    )
    pages = [examinee_client.get(url).content.decode() for url in _urls(attempt)]
    pages.append(examinee_client.get(reverse("analytics:progress")).content.decode())
    pages.append(
        examinee_client.get(
            reverse("analytics:block_review", args=[attempt.uuid, 2]), {"item": 1}
        ).content.decode()
    )
    for html in pages:
        for version in (v4, v5):
            assert version.options[version.key_index]["text"] not in html
            assert version.explanation_html not in html
            assert version.objective_html not in html
            assert version.stem_html not in html


def test_a_block_not_yet_started_is_404(examinee_client, build, examinee):
    attempt = build.attempt(user=examinee, finished=False, block_count=2)
    build.block(attempt=attempt, number=1)

    url = reverse("analytics:block_review", args=[attempt.uuid, 2])
    assert examinee_client.get(url).status_code == 404


def test_tutor_mode_reviews_answered_items_while_the_block_is_open(
    build, examinee, examinee_client
):
    answered = build.question(key=2)
    pending = build.question(key=1)
    attempt = build.attempt(user=examinee, mode="tutor", finished=False)
    block = build.block(attempt=attempt, closed=False)
    build.response(block=block, position=1, version=answered, choice=2)
    build.response(block=block, position=2, version=pending, choice=None)
    url = reverse("analytics:block_review", args=[attempt.uuid, 1])

    first = examinee_client.get(url, {"item": 1}).content.decode()
    second = examinee_client.get(url, {"item": 2}).content.decode()

    assert "Q1 secret explanation." in first
    assert "You have not answered this item yet" in second
    for html in (first, second):
        assert pending.options[pending.key_index]["text"] not in html
        assert pending.explanation_html not in html


def test_attempt_review_lists_counts_only_for_closed_blocks(examinee_client, exam_in_progress):
    attempt, _ = exam_in_progress

    response = examinee_client.get(reverse("analytics:attempt_review", args=[attempt.uuid]))

    first, second = response.context["summaries"]
    assert (first.correct, first.incorrect, first.omitted, first.marked) == (1, 1, 1, 1)
    assert not second.is_reviewable
    assert (second.correct, second.incorrect) == (0, 0)
    assert "review opens when the block closes" in response.content.decode()


def test_closed_block_review_names_the_questions_source_and_licence(
    examinee_client, exam_in_progress
):
    attempt, (v1, *_) = exam_in_progress
    type(v1).objects.filter(pk=v1.pk).update(
        source="MedQA (Jin et al. 2021); explanation written for Mockboard's demo",
        licence="MIT (question); CC BY 4.0 (explanation)",
    )
    url = reverse("analytics:block_review", args=[attempt.uuid, 1])

    html = examinee_client.get(url, {"item": 1}).content.decode()

    assert "Source: MedQA (Jin et al. 2021); explanation written for Mockboard&#x27;s demo" in html
    assert "Licence: MIT (question); CC BY 4.0 (explanation)." in html


def test_the_breadcrumb_title_and_heading_name_the_block_number(examinee_client, exam_in_progress):
    # Inside `{% block %}` Django binds `block` to the template block, so a context variable of
    # that name renders empty ("› Block") and `block.state` tests are always false.
    attempt, _ = exam_in_progress
    html = examinee_client.get(
        reverse("analytics:block_review", args=[attempt.uuid, 1])
    ).content.decode()

    assert "<span>Block 1</span>" in html
    assert "<h1>Block 1 review</h1>" in html
    assert "<title>Review · block 1 ·" in html
    # Block 1 is closed: the score report link shows, not the tutor-mode note.
    assert "Tutor mode:" not in html
