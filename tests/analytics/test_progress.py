"""Progress over time (#16 point 5): the predicted score with its interval across
self-assessments, the percentile among peers above a stated minimum, and the weakest areas of
the last N days."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse

from analytics import charts, selectors
from analytics.models import ItemStatistic
from tests.analytics.test_charts import SVG, _parse

pytestmark = pytest.mark.django_db


def _calibrated(build, n: int, *, tags=()):
    """n questions (key A) that 200 peers have answered, 60% of them correctly."""
    versions = []
    for _ in range(n):
        version = build.question(key=0, tags=tags)
        ItemStatistic.objects.create(
            version=version,
            responses=200,
            answered=200,
            correct=120,
            option_counts=[120, 20, 20, 20, 20],
            computed_at=build.t0,
        )
        versions.append(version)
    return versions


def _sit(build, user, exam, versions, *, right_every: int, days: int):
    answers = [(v, 0 if i % right_every else 1) for i, v in enumerate(versions)]
    return build.closed_block(
        user=user, answers=answers, exam=exam, started_at=build.t0 + timedelta(days=days)
    ).attempt


def test_each_self_assessment_has_a_predicted_score_with_its_interval_in_order(build, examinee):
    exam = build.exam()
    versions = _calibrated(build, 120)
    # Later sitting, better: wrong one in two, then one in ten.
    second = _sit(build, examinee, exam, versions, right_every=10, days=7)
    first = _sit(build, examinee, exam, versions, right_every=2, days=0)
    short = _sit(build, examinee, build.exam(title="Short"), versions[:10], right_every=2, days=9)
    practice = build.closed_block(user=examinee, answers=[(versions[0], 0)]).attempt

    trend = selectors.assessment_trend(user=examinee)

    assert [p.attempt for p in trend] == [first, second, short]
    assert practice not in [p.attempt for p in trend]
    a, b, c = (p.prediction for p in trend)
    assert a.low < a.score < a.high and b.low < b.score < b.high
    assert b.score > a.score
    # Ten items is too few for a score: the point stays on the trend with the reason.
    assert c is None and "at least 40" in trend[2].prediction_note


def test_the_percentile_needs_the_stated_number_of_peers_and_names_their_count(
    build, examinee, examinee_client, django_user_model
):
    exam = build.exam()
    versions = _calibrated(build, 4)
    for n in range(selectors.PERCENTILE_MIN_PEERS - 1):
        peer = django_user_model.objects.create_user(username=f"peer{n}", password="x")
        _sit(build, peer, exam, versions, right_every=2, days=0)
    _sit(build, examinee, exam, versions, right_every=4, days=1)

    [point] = selectors.assessment_trend(user=examinee)
    assert point.standing.peers == 4 and point.standing.percentile is None
    html = examinee_client.get(reverse("analytics:progress")).content.decode()
    assert "Shown once at least 5 peers have finished this exam (4 so far)." in html

    last = django_user_model.objects.create_user(username="peer-last", password="x")
    _sit(build, last, exam, versions, right_every=2, days=0)
    [point] = selectors.assessment_trend(user=examinee)
    # Every peer 50%, mine 75%.
    assert point.standing.peers == 5 and point.standing.percentile == 100
    html = examinee_client.get(reverse("analytics:progress")).content.decode()
    assert "100th among 5 peers" in html


def test_weakest_areas_count_only_the_blocks_closed_in_the_last_n_days(build, examinee):
    now = build.t0 + timedelta(days=30)
    renal = [build.question(key=0, tags=("system:renal",)) for _ in range(4)]
    heart = [build.question(key=0, tags=("system:cardiovascular",)) for _ in range(4)]
    lungs = [build.question(key=0, tags=("system:pulmonary",)) for _ in range(4)]
    # A month ago the heart was all wrong; this week the kidneys are, and the lungs all right.
    build.closed_block(user=examinee, answers=[(v, 1) for v in heart], started_at=build.t0)
    build.closed_block(
        user=examinee,
        answers=[(v, 1) for v in renal] + [(v, 0) for v in heart + lungs],
        started_at=now - timedelta(days=3),
    )

    recent = selectors.recent_areas(user=examinee, now=now, days=14)

    assert (recent.days, recent.correct, recent.total) == (14, 8, 12)
    assert [a.slug for a in recent.weakest] == ["renal"]
    month = selectors.recent_areas(user=examinee, now=now, days=31)
    assert [a.slug for a in month.weakest] == ["renal", "cardiovascular"]


def test_weakest_areas_are_empty_without_a_recent_block_and_the_page_says_so(
    build, examinee, examinee_client
):
    build.closed_block(user=examinee, answers=[(build.question(key=0), 1)])
    recent = selectors.recent_areas(user=examinee, now=build.t0 + timedelta(days=60))
    assert recent.total == 0 and recent.weakest == []
    # The page asks the server's clock, months after the fixed t0 of the block.
    html = examinee_client.get(reverse("analytics:progress")).content.decode()
    assert f"No block closed in the last {selectors.RECENT_DAYS} days." in html


def test_another_students_self_assessments_are_not_on_my_trend(build, examinee, other_examinee):
    _sit(build, other_examinee, build.exam(), _calibrated(build, 4), right_every=2, days=0)
    assert selectors.assessment_trend(user=examinee) == []


def test_the_progress_page_plots_predicted_scores_with_their_intervals(
    build, examinee, examinee_client
):
    exam = build.exam()
    versions = _calibrated(build, 120, tags=("system:renal",))
    _sit(build, examinee, exam, versions, right_every=2, days=0)
    _sit(build, examinee, exam, versions, right_every=10, days=7)

    response = examinee_client.get(reverse("analytics:progress"))

    scores = [round(p.prediction.score) for p in response.context["progress"].assessments]
    html = response.content.decode()
    assert "Self-assessments: predicted score and standing" in html
    assert all(str(s) in html for s in scores)
    root = _parse(response.context["prediction_trend"])
    assert len(list(root.iter(f"{SVG}circle"))) == 2
    assert len([ln for ln in root.iter(f"{SVG}line") if ln.get("class") == "chart-interval"]) == 2


def test_a_line_chart_draws_each_interval_between_its_low_and_high():
    root = _parse(
        charts.line_chart(
            title="t",
            points=[("a", 200), ("b", 250)],
            intervals=[(190, 210), (240, 260)],
            y_min=150,
            y_max=300,
            unit="",
        )
    )
    whiskers = [ln for ln in root.iter(f"{SVG}line") if ln.get("class") == "chart-interval"]
    dots = list(root.iter(f"{SVG}circle"))
    assert len(whiskers) == 2
    for whisker, dot in zip(whiskers, dots, strict=True):
        low, high = float(whisker.get("y1")), float(whisker.get("y2"))
        assert whisker.get("x1") == dot.get("cx")
        assert high < float(dot.get("cy")) < low  # SVG y grows downwards
