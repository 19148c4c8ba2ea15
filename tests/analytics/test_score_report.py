import re
from datetime import timedelta

import pytest
from django.urls import reverse

from analytics import selectors

pytestmark = pytest.mark.django_db


def test_wilson_interval_matches_the_published_value():
    low, high = selectors.wilson_interval(8, 10, z=1.96)

    assert round(low, 3) == 0.490
    assert round(high, 3) == 0.943


def test_percentile_rank_counts_ties_as_half():
    assert selectors.percentile_rank(60, [40, 50, 60, 70]) == pytest.approx(62.5)


@pytest.fixture
def profile_attempt(build, examinee):
    """10 renal items all right, 10 cardiovascular all wrong, 2 neuro items one right: 11/22."""
    answers = []
    for _ in range(10):
        answers.append((build.question(key=0, tags=("system:renal",)), 0))
    for _ in range(10):
        answers.append((build.question(key=0, tags=("system:cardiovascular",)), 1))
    answers.append((build.question(key=0, tags=("system:nervous", "discipline:medicine")), 0))
    answers.append((build.question(key=0, tags=("system:nervous", "discipline:medicine")), 2))
    return build.closed_block(user=examinee, answers=answers).attempt


def test_areas_are_lower_or_higher_only_when_the_band_excludes_overall(
    examinee_client, profile_attempt
):
    response = examinee_client.get(reverse("analytics:score_report", args=[profile_attempt.uuid]))

    report = response.context["report"]
    assert (report.correct, report.total) == (11, 22)
    systems = {a.slug: (a.correct, a.total, a.verdict) for a in report.areas["system"]}
    assert systems == {
        "renal": (10, 10, "higher"),
        "cardiovascular": (0, 10, "lower"),
        "nervous": (1, 2, "same"),
    }
    html = response.content.decode()
    assert "Borderline / same" in html
    assert '<td class="num">1 / 2</td><td class="num">50%</td>' in html


def test_report_charts_are_accessible_svg_without_inline_styles(examinee_client, profile_attempt):
    html = examinee_client.get(
        reverse("analytics:score_report", args=[profile_attempt.uuid])
    ).content.decode()

    assert '<svg class="chart chart-bar"' in html
    assert 'role="img"' in html
    assert "<title id=" in html and "<desc id=" in html
    assert "style=" not in html
    assert "<script" not in html.split("</head>")[1]
    # The text alternative carries the same numbers.
    assert "10 / 10" in html and "0 / 10" in html


def test_misses_are_sorted_into_changed_time_pressure_and_knowledge(
    build, examinee, examinee_client
):
    attempt = build.attempt(user=examinee)
    block = build.block(attempt=attempt)
    versions = [build.question(key=0) for _ in range(6)]
    # right: not a miss
    build.response(block=block, position=1, version=versions[0], choice=0)
    # right first, then changed to wrong, even in a hurry: "changed" wins
    build.response(
        block=block, position=2, version=versions[1], choice=1, first_choice=0, seconds_left=10
    )
    # answered with 30 s left on the block
    build.response(block=block, position=3, version=versions[2], choice=2, seconds_left=30)
    # 10 s on the item
    build.response(block=block, position=4, version=versions[3], choice=3, time_ms=10_000)
    # never reached, in a block whose time ran out
    build.response(block=block, position=5, version=versions[4], choice=None, time_ms=0)
    block.close_reason = "expired"
    block.save(update_fields=["close_reason"])
    # plenty of time, plain wrong
    build.response(block=block, position=6, version=versions[5], choice=4, time_ms=90_000)

    response = examinee_client.get(reverse("analytics:score_report", args=[attempt.uuid]))

    misses = response.context["report"].misses
    assert [m.position for m in misses["changed"]] == [2]
    assert [m.position for m in misses["time"]] == [3, 4, 5]
    assert [m.position for m in misses["knowledge"]] == [6]
    review = reverse("analytics:block_review", args=[attempt.uuid, 1])
    assert f'href="{review}?item=6"' in response.content.decode()


def test_items_left_unanswered_with_time_left_are_not_time_pressure(
    build, examinee, examinee_client
):
    """A block ended with 29:57 left: its unopened items were omitted, not rushed."""
    from exams.models import AttemptBlock

    attempt = build.attempt(user=examinee, block_count=2)
    ended = build.block(attempt=attempt, number=1)  # ended by the examinee, time left
    expired = build.block(attempt=attempt, number=2)
    AttemptBlock.objects.filter(pk=expired.pk).update(close_reason=AttemptBlock.CloseReason.EXPIRED)
    expired.refresh_from_db()
    versions = [build.question(key=0) for _ in range(4)]
    build.response(block=ended, position=1, version=versions[0], choice=None, time_ms=0)
    build.response(block=ended, position=2, version=versions[1], choice=None, time_ms=3_000)
    build.response(block=expired, position=1, version=versions[2], choice=None, time_ms=0)
    build.response(block=expired, position=2, version=versions[3], choice=1, time_ms=5_000)

    response = examinee_client.get(reverse("analytics:score_report", args=[attempt.uuid]))

    misses = response.context["report"].misses
    assert [(m.block_number, m.position) for m in misses["omitted"]] == [(1, 1), (1, 2)]
    assert [(m.block_number, m.position) for m in misses["time"]] == [(2, 1), (2, 2)]
    assert misses["knowledge"] == []
    assert "Left unanswered" in response.content.decode()


def _finished(build, user, exam, correct_of_4: int, days: int = 0):
    versions = [build.question(key=0) for _ in range(4)]
    answers = [(v, 0 if i < correct_of_4 else 1) for i, v in enumerate(versions)]
    block = build.closed_block(
        user=user, answers=answers, exam=exam, started_at=build.t0 + timedelta(days=days)
    )
    return block.attempt


def test_percentile_among_peers_who_finished_the_same_exam(
    build, examinee, examinee_client, django_user_model
):
    exam = build.exam()
    for n, score in enumerate([0, 1, 2, 3, 4]):
        peer = django_user_model.objects.create_user(username=f"peer{n}", password="x")
        _finished(build, peer, exam, score)
        # A peer's later retake does not count twice.
        _finished(build, peer, exam, 4, days=1)
    other_exam_peer = django_user_model.objects.create_user(username="elsewhere", password="x")
    _finished(build, other_exam_peer, build.exam(title="Other"), 0)
    mine = _finished(build, examinee, exam, 3)

    standing = (
        examinee_client.get(reverse("analytics:score_report", args=[mine.uuid]))
        .context["report"]
        .standing
    )

    # Peers' first attempts: 0, 25, 50, 75, 100 %; mine 75 %: 3 below, 1 tie → (3 + 0.5) / 5.
    assert standing.peers == 5
    assert standing.percentile == pytest.approx(70.0)


def test_percentile_is_withheld_below_the_minimum_number_of_peers(
    build, examinee, examinee_client, django_user_model
):
    exam = build.exam()
    peer = django_user_model.objects.create_user(username="solo", password="x")
    _finished(build, peer, exam, 1)
    mine = _finished(build, examinee, exam, 3)

    response = examinee_client.get(reverse("analytics:score_report", args=[mine.uuid]))

    assert response.context["report"].standing.percentile is None
    assert "at least 5 peers" in response.content.decode()


def test_practice_form_is_prefilled_with_the_three_weakest_areas(examinee_client, profile_attempt):
    html = examinee_client.get(
        reverse("analytics:score_report", args=[profile_attempt.uuid])
    ).content.decode()

    checked = re.findall(r'name="(systems|disciplines)" value="([\w-]+)" checked', html)
    # cardiovascular 0 %, then the 50 % areas: nervous (system) and medicine (discipline).
    assert sorted(checked) == [
        ("disciplines", "medicine"),
        ("systems", "cardiovascular"),
        ("systems", "nervous"),
    ]
    for hidden in (
        'name="pool" value="all"',
        'name="count" value="20"',
        'name="mode" value="tutor"',
    ):
        assert hidden in html
    assert f'action="{reverse("exams:practice_create")}"' in html


def test_unfinished_exam_reports_closed_blocks_only(build, examinee, examinee_client):
    attempt = build.attempt(user=examinee, finished=False, block_count=2)
    closed = build.block(attempt=attempt, number=1)
    build.response(block=closed, position=1, version=build.question(key=0), choice=0)
    open_block = build.block(attempt=attempt, number=2, closed=False)
    build.response(block=open_block, position=1, version=build.question(key=0), choice=1)

    response = examinee_client.get(reverse("analytics:score_report", args=[attempt.uuid]))

    report = response.context["report"]
    assert (report.correct, report.total) == (1, 1)
    assert report.is_partial
    assert "covers the 1 closed block of 2 only" in response.content.decode()


def test_score_estimate_is_withheld_with_its_reason_while_no_item_has_statistics(
    examinee_client, profile_attempt
):
    response = examinee_client.get(reverse("analytics:score_report", args=[profile_attempt.uuid]))

    report = response.context["report"]
    html = response.content.decode()
    assert report.prediction is None
    assert report.prediction_note == "No item in these blocks has statistics yet."
    assert report.prediction_note in html
    assert "chance of passing" not in html


def test_progress_plots_finished_attempts_in_order(build, examinee, examinee_client):
    exam = build.exam()
    late = _finished(build, examinee, exam, 4, days=3)
    early = _finished(build, examinee, exam, 1, days=0)
    unfinished = build.attempt(user=examinee, finished=False)
    build.block(attempt=unfinished)

    response = examinee_client.get(reverse("analytics:progress"))

    points = response.context["progress"].points
    assert [p.attempt for p in points] == [early, late]
    assert [p.percent for p in points] == [25.0, 100.0]
    html = response.content.decode()
    assert '<svg class="chart chart-line"' in html
    assert reverse("analytics:score_report", args=[late.uuid]) in html


def test_progress_shows_only_my_attempts(build, examinee, other_examinee, examinee_client):
    _finished(build, other_examinee, build.exam(), 2)

    response = examinee_client.get(reverse("analytics:progress"))

    assert response.context["progress"].points == []
    assert "Finish an exam" in response.content.decode()


def test_score_estimate_appears_once_enough_items_are_calibrated(build, examinee, examinee_client):
    from analytics.models import ItemStatistic

    answers = []
    for i in range(120):
        version = build.question(key=0)
        ItemStatistic.objects.create(
            version=version,
            responses=200,
            answered=200,
            correct=120,
            option_counts=[120, 20, 20, 20, 20],
            computed_at=build.t0,
        )
        answers.append((version, 0 if i % 4 else 1))
    attempt = build.closed_block(user=examinee, answers=answers).attempt

    response = examinee_client.get(reverse("analytics:score_report", args=[attempt.uuid]))

    prediction = response.context["report"].prediction
    assert prediction is not None and prediction.is_shown
    assert prediction.low < prediction.score < prediction.high
    html = response.content.decode()
    assert f"{prediction.score:.0f}" in html
    assert "chance of passing (218)" in html
