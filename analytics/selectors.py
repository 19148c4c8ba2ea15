"""Reads behind the examinee's review, score report and progress pages.

The rule that protects the answer key lives here: only closed blocks are reviewable, except in
tutor mode, where an item's answer is shown as soon as the examinee has committed to one.
Whether a question's key may be shown to this examinee at all, now, is exams/exposure.py's rule.
"""

from __future__ import annotations

import logging
import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np
from django.db.models import Count, F, Q
from django.shortcuts import get_object_or_404

from analytics.models import ItemStatistic
from exams import exposure
from exams.models import Attempt, AttemptBlock, Exam, Response
from questions.models import Tag, credited_q

logger = logging.getLogger(__name__)

# "Why you missed": a miss counts as made under time pressure when the answer was given with
# less than this much time left on the block clock ...
TIME_PRESSURE_SECONDS_LEFT = 60
# ... or when the examinee answered after less than this on the item. An item left unanswered
# counts as time pressure only when the block's clock ran out; one left unanswered in a block
# ended with time to spare (or never taken) is "omitted", whatever time was spent on it.
RUSHED_ITEM_SECONDS = 15
# Width of the borderline band: a two-sided 90% Wilson interval on the area's proportion.
BAND_Z = 1.6449
# Below this many peers a percentile says more about the few peers than about the examinee.
PERCENTILE_MIN_PEERS = 5
WEAKEST_AREAS = 3
# "Weakest areas lately": the closed blocks of this many days back from now.
RECENT_DAYS = 14
PROFILE_KINDS = (Tag.Kind.DISCIPLINE, Tag.Kind.SYSTEM, Tag.Kind.TASK)
REVIEW_FILTERS = ("all", "incorrect", "marked", "omitted")


# --- statistics -------------------------------------------------------------------------------


def wilson_interval(correct: int, total: int, z: float = BAND_Z) -> tuple[float, float]:
    """Wilson score interval for a proportion, as fractions in [0, 1]."""
    if total <= 0:
        return 0.0, 1.0
    p = correct / total
    denom = 1 + z * z / total
    centre = (p + z * z / (2 * total)) / denom
    half = z * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def percentile_rank(value: float, others: list[float]) -> float:
    """Percent of others below value, counting ties as half (the mid-rank convention)."""
    below = sum(1 for o in others if o < value)
    equal = sum(1 for o in others if o == value)
    return 100 * (below + 0.5 * equal) / len(others)


def _percent(correct: int, total: int) -> float:
    return 100 * correct / total if total else 0.0


# --- ownership and reviewability --------------------------------------------------------------


def owned_attempt(*, user, attempt_uuid) -> Attempt:
    """The attempt if it belongs to user; a 404 for everyone else, instructors included."""
    return get_object_or_404(Attempt.objects.select_related("exam"), uuid=attempt_uuid, user=user)


def is_tutor(attempt: Attempt) -> bool:
    return attempt.mode == Exam.Mode.TUTOR


def block_is_reviewable(attempt: Attempt, block: AttemptBlock) -> bool:
    if block.state == AttemptBlock.State.CLOSED:
        return True
    return is_tutor(attempt) and block.state == AttemptBlock.State.ACTIVE


def response_is_reviewable(block: AttemptBlock, response: Response) -> bool:
    """Closed block: every item. Open tutor block: the items already answered."""
    return block.state == AttemptBlock.State.CLOSED or response.choice is not None


# --- review -----------------------------------------------------------------------------------


@dataclass
class ReviewOption:
    letter: str
    text: str
    explanation: str
    is_key: bool
    is_choice: bool
    share: float | None  # percent of all examinees who chose it


@dataclass
class ReviewItem:
    number: int
    response: Response
    is_reviewable: bool
    status: str  # correct / incorrect / omitted / unanswered (open tutor block)
    is_marked: bool
    is_withheld: bool = False
    statistic: ItemStatistic | None = None
    options: list[ReviewOption] = field(default_factory=list)

    @property
    def version(self):
        return self.response.version

    @property
    def is_changed(self) -> bool:
        return self.response.change_count > 0

    @property
    def is_right_to_wrong(self) -> bool:
        r = self.response
        key = r.version.key_index
        return r.first_choice == key and r.choice is not None and r.choice != key

    @property
    def choice_letter(self) -> str | None:
        choice = self.response.choice
        return None if choice is None else chr(ord("A") + choice)

    @property
    def time_seconds(self) -> int:
        return round(self.response.time_spent_ms / 1000)

    @property
    def peer_median_seconds(self) -> int | None:
        s = self.statistic
        return None if s is None or s.median_time_ms is None else round(s.median_time_ms / 1000)

    @property
    def peer_percent_correct(self) -> float | None:
        s = self.statistic
        return None if s is None or not s.responses else round(100 * s.correct / s.responses)

    def matches(self, which: str) -> bool:
        if which == "incorrect":
            # Omitted items have their own filter, as in the summary's columns.
            return self.status == "incorrect"
        if which == "marked":
            return self.is_marked
        if which == "omitted":
            return self.status == "omitted"
        return True


def _status(block: AttemptBlock, response: Response) -> str:
    if response.version.is_voided and block.state == AttemptBlock.State.CLOSED:
        return "correct"
    if response.choice is None:
        return "omitted" if block.state == AttemptBlock.State.CLOSED else "unanswered"
    return "correct" if response.version.credits(response.choice) else "incorrect"


def review_items(*, attempt: Attempt, block: AttemptBlock, now: datetime) -> list[ReviewItem]:
    """Every item of a reviewable block; answers and statistics only on reviewable items, and
    never on an item exams/exposure.py withholds (e.g. it sits in an open block elsewhere)."""
    if not block_is_reviewable(attempt, block):
        raise ValueError("this block is not reviewable")
    responses = list(
        block.responses.select_related("version", "question__item_set").order_by("position")
    )
    withheld = exposure.withheld_ids(
        user=attempt.user_id,
        question_ids=[r.question_id for r in responses],
        now=now,
        viewing_block=block,
    )
    reviewable = [
        r for r in responses if response_is_reviewable(block, r) and r.question_id not in withheld
    ]
    stats = {
        s.version_id: s
        for s in ItemStatistic.objects.filter(version_id__in=[r.version_id for r in reviewable])
    }
    items = []
    for response in responses:
        is_withheld = response.question_id in withheld
        ok = response_is_reviewable(block, response) and not is_withheld
        item = ReviewItem(
            number=response.position,
            response=response,
            is_reviewable=ok,
            # Even right or wrong narrows the key down: a withheld item says nothing.
            status="withheld" if is_withheld else _status(block, response) if ok else "unanswered",
            is_marked=response.is_marked,
            is_withheld=is_withheld,
        )
        if ok:
            item.statistic = stats.get(response.version_id)
            item.options = _options(response, item.statistic)
        items.append(item)
    return items


def _options(response: Response, statistic: ItemStatistic | None) -> list[ReviewOption]:
    version = response.version
    counts = statistic.option_counts if statistic else []
    responses = statistic.responses if statistic else 0
    options = []
    for i, option in enumerate(version.options):
        share = None
        if responses and i < len(counts):
            share = round(100 * counts[i] / responses)
        options.append(
            ReviewOption(
                letter=chr(ord("A") + i),
                text=option.get("text", ""),
                explanation=option.get("explanation", ""),
                is_key=i == version.key_index,
                is_choice=i == response.choice,
                share=share,
            )
        )
    return options


@dataclass
class BlockSummary:
    block: AttemptBlock
    is_reviewable: bool
    correct: int = 0
    incorrect: int = 0
    omitted: int = 0
    marked: int = 0
    total: int = 0

    @property
    def percent(self) -> float:
        return _percent(self.correct, self.total)


def block_summaries(*, attempt: Attempt) -> list[BlockSummary]:
    """Counts per block; correctness only for blocks the examinee may review."""
    blocks = list(attempt.blocks.order_by("number"))
    rows = defaultdict(dict)
    for row in (
        Response.objects.filter(attempt=attempt)
        .values("block_id")
        .annotate(
            total=Count("id"),
            correct=Count("id", filter=credited_q()),
            answered=Count("id", filter=Q(choice__isnull=False)),
            marked=Count("id", filter=Q(is_marked=True)),
        )
        .order_by()
    ):
        rows[row["block_id"]] = row
    summaries = []
    for block in blocks:
        ok = block_is_reviewable(attempt, block)
        row = rows.get(block.id, {})
        summary = BlockSummary(block=block, is_reviewable=ok, total=row.get("total", 0))
        if ok:
            summary.correct = row.get("correct", 0)
            summary.incorrect = row.get("answered", 0) - summary.correct
            summary.omitted = summary.total - row.get("answered", 0)
            summary.marked = row.get("marked", 0)
        summaries.append(summary)
    return summaries


# --- score report -----------------------------------------------------------------------------


@dataclass
class Area:
    kind: str
    slug: str
    name: str
    correct: int
    total: int
    low: float  # percent
    high: float  # percent
    verdict: str  # lower / higher / same

    @property
    def percent(self) -> float:
        return _percent(self.correct, self.total)


def _areas(responses, overall_percent: float, kinds=PROFILE_KINDS) -> dict[str, list[Area]]:
    rows = (
        responses.filter(question__tags__kind__in=kinds)
        .values(
            kind=F("question__tags__kind"),
            slug=F("question__tags__slug"),
            name=F("question__tags__name"),
        )
        .annotate(total=Count("id"), correct=Count("id", filter=credited_q()))
        .order_by()
    )
    by_kind: dict[str, list[Area]] = {kind: [] for kind in kinds}
    for row in rows:
        low, high = wilson_interval(row["correct"], row["total"])
        low, high = 100 * low, 100 * high
        if high < overall_percent:
            verdict = "lower"
        elif low > overall_percent:
            verdict = "higher"
        else:
            verdict = "same"
        by_kind[row["kind"]].append(
            Area(
                kind=row["kind"],
                slug=row["slug"],
                name=row["name"],
                correct=row["correct"],
                total=row["total"],
                low=low,
                high=high,
                verdict=verdict,
            )
        )
    for areas in by_kind.values():
        areas.sort(key=lambda a: (-a.percent, a.name))
    return by_kind


def weakest_areas(areas: dict[str, list[Area]]) -> list[Area]:
    """The lowest systems and disciplines by percent correct, leaving out any area answered
    all correctly; ties go to the area with more items."""
    candidates = [
        a for a in areas[Tag.Kind.SYSTEM] + areas[Tag.Kind.DISCIPLINE] if a.correct < a.total
    ]
    return sorted(candidates, key=lambda a: (a.percent, -a.total, a.name))[:WEAKEST_AREAS]


@dataclass
class Miss:
    block_number: int
    position: int
    reason: str  # time / changed / knowledge


@dataclass
class PeerStanding:
    peers: int
    percentile: float | None  # None below PERCENTILE_MIN_PEERS
    peer_percents: list[float]


@dataclass
class ScoreReport:
    attempt: Attempt
    closed_blocks: list[AttemptBlock]
    correct: int
    total: int
    areas: dict[str, list[Area]]
    misses: dict[str, list[Miss]]
    standing: PeerStanding | None
    prediction: object | None
    prediction_note: str
    weakest: list[Area]

    @property
    def percent(self) -> float:
        return _percent(self.correct, self.total)

    @property
    def interval(self) -> tuple[float, float]:
        low, high = wilson_interval(self.correct, self.total)
        return 100 * low, 100 * high

    @property
    def is_partial(self) -> bool:
        return len(self.closed_blocks) < self.attempt.block_count

    @property
    def miss_count(self) -> int:
        return sum(len(v) for v in self.misses.values())


def miss_reason(response: Response) -> str:
    """Why an incorrect or omitted item was missed; the order of the tests matters."""
    key = response.version.key_index
    if response.first_choice == key and response.choice is not None and response.choice != key:
        return "changed"
    if response.choice is None:
        ran_out = response.block.close_reason == AttemptBlock.CloseReason.EXPIRED
        return "time" if ran_out else "omitted"
    left = response.answered_with_seconds_left
    if (left is not None and left < TIME_PRESSURE_SECONDS_LEFT) or (
        response.time_spent_ms < RUSHED_ITEM_SECONDS * 1000
    ):
        return "time"
    return "knowledge"


def attempt_percent_correct(attempt_ids: list[int]) -> dict[int, tuple[int, int]]:
    """(correct, total) over closed blocks, per attempt."""
    return {
        row["attempt_id"]: (row["correct"], row["total"])
        for row in Response.objects.filter(
            attempt_id__in=attempt_ids, block__state=AttemptBlock.State.CLOSED
        )
        .values("attempt_id")
        .annotate(total=Count("id"), correct=Count("id", filter=credited_q()))
        .order_by()
    }


def peer_standing(*, attempt: Attempt) -> PeerStanding | None:
    """Percentile among other examinees' first finished attempt at the same exam."""
    if attempt.exam_id is None or not attempt.is_finished:
        return None
    firsts: dict[int, int] = {}
    for attempt_id, user_id in (
        Attempt.objects.filter(exam_id=attempt.exam_id, state=Attempt.State.FINISHED)
        .exclude(user_id=attempt.user_id)
        .order_by("finished_at", "id")
        .values_list("id", "user_id")
    ):
        firsts.setdefault(user_id, attempt_id)
    scores = attempt_percent_correct(list(firsts.values()) + [attempt.id])
    mine = scores.get(attempt.id)
    peers = [_percent(*scores[a]) for a in firsts.values() if a in scores and scores[a][1]]
    if mine is None or not mine[1]:
        return None
    percentile = None
    if len(peers) >= PERCENTILE_MIN_PEERS:
        percentile = percentile_rank(_percent(*mine), peers)
    return PeerStanding(peers=len(peers), percentile=percentile, peer_percents=peers)


def _load_prediction():
    try:
        from analytics.prediction import difficulties_from_p_values, predict_score
    except ImportError:
        return None
    return difficulties_from_p_values, predict_score


def predicted_score(responses: list[Response]) -> tuple[object | None, str]:
    """The prediction model's output, or None and the reason it is not shown."""
    functions = _load_prediction()
    if functions is None:
        return None, "Score prediction is not available on this server yet."
    difficulties_from_p_values, predict_score = functions
    stats = {
        s.version_id: s
        for s in ItemStatistic.objects.filter(version_id__in=[r.version_id for r in responses])
    }
    # Items nobody else has taken yet carry no information about difficulty; leave them out.
    scored = [r for r in responses if r.version_id in stats and stats[r.version_id].responses]
    if not scored:
        return None, "No item in these blocks has statistics yet."
    p = np.array([stats[r.version_id].correct / stats[r.version_id].responses for r in scored])
    n = np.array([stats[r.version_id].responses for r in scored])
    correct = np.array([1 if r.version.credits(r.choice) else 0 for r in scored])
    try:
        prediction = predict_score(correct=correct, difficulties=difficulties_from_p_values(p, n))
    except Exception:
        logger.exception("score prediction failed")
        return None, "The score prediction could not be computed."
    if not getattr(prediction, "is_shown", False):
        return None, getattr(prediction, "reason", "") or "Not enough information for a score."
    return prediction, ""


def score_report(*, attempt: Attempt) -> ScoreReport:
    closed = list(attempt.blocks.filter(state=AttemptBlock.State.CLOSED).order_by("number"))
    responses_qs = Response.objects.filter(block__in=closed)
    responses = list(
        responses_qs.select_related("version", "block").order_by("block__number", "position")
    )
    correct = sum(1 for r in responses if r.version.credits(r.choice))
    total = len(responses)
    overall = _percent(correct, total)
    areas = _areas(responses_qs, overall)
    misses: dict[str, list[Miss]] = {"time": [], "changed": [], "omitted": [], "knowledge": []}
    for r in responses:
        if not r.version.credits(r.choice):
            reason = miss_reason(r)
            misses[reason].append(Miss(r.block.number, r.position, reason))
    weakest = weakest_areas(areas)
    prediction, note = predicted_score(responses) if responses else (None, "No closed block yet.")
    return ScoreReport(
        attempt=attempt,
        closed_blocks=closed,
        correct=correct,
        total=total,
        areas=areas,
        misses=misses,
        standing=peer_standing(attempt=attempt),
        prediction=prediction,
        prediction_note=note,
        weakest=weakest,
    )


# --- progress ---------------------------------------------------------------------------------


@dataclass
class ProgressPoint:
    attempt: Attempt
    correct: int
    total: int

    @property
    def percent(self) -> float:
        return _percent(self.correct, self.total)


@dataclass
class AssessmentPoint:
    """One finished self-assessment (an exam, not a practice block) on the progress trend."""

    attempt: Attempt
    prediction: object | None  # analytics.prediction.Prediction, when the model allows one
    prediction_note: str
    standing: PeerStanding | None


@dataclass
class RecentAreas:
    days: int
    correct: int
    total: int
    weakest: list[Area]


@dataclass
class Progress:
    points: list[ProgressPoint]
    areas: dict[str, list[Area]]
    correct: int
    total: int
    assessments: list[AssessmentPoint] = field(default_factory=list)
    recent: RecentAreas | None = None

    @property
    def percent(self) -> float:
        return _percent(self.correct, self.total)

    @property
    def predictions(self) -> list[AssessmentPoint]:
        return [a for a in self.assessments if a.prediction is not None]


def assessment_trend(*, user) -> list[AssessmentPoint]:
    """The predicted score with its interval, and the percentile among peers, of each finished
    self-assessment in order. A point keeps the reason when the model declines a score, and
    the percentile stays None below PERCENTILE_MIN_PEERS (peer_standing's rule)."""
    attempts = list(
        Attempt.objects.filter(
            user=user, kind=Attempt.Kind.EXAM, state=Attempt.State.FINISHED
        ).order_by("finished_at", "id")
    )
    responses: dict[int, list[Response]] = defaultdict(list)
    for r in (
        Response.objects.filter(attempt__in=attempts, block__state=AttemptBlock.State.CLOSED)
        .select_related("version")
        .order_by("block__number", "position")
    ):
        responses[r.attempt_id].append(r)
    points = []
    for attempt in attempts:
        mine = responses[attempt.id]
        prediction, note = predicted_score(mine) if mine else (None, "No closed block.")
        points.append(AssessmentPoint(attempt, prediction, note, peer_standing(attempt=attempt)))
    return points


def recent_areas(*, user, now: datetime, days: int = RECENT_DAYS) -> RecentAreas:
    """The weakest areas over the blocks the student closed in the last `days` days (practice
    blocks and exams alike), against their own percent over those blocks."""
    responses = Response.objects.filter(
        attempt__user=user,
        block__state=AttemptBlock.State.CLOSED,
        block__closed_at__gt=now - timedelta(days=days),
        block__closed_at__lte=now,
    )
    totals = responses.aggregate(
        total=Count("id"), correct=Count("id", filter=Q(choice=F("version__key_index")))
    )
    areas = _areas(responses, _percent(totals["correct"], totals["total"]))
    return RecentAreas(
        days=days, correct=totals["correct"], total=totals["total"], weakest=weakest_areas(areas)
    )


def progress(*, user, now: datetime) -> Progress:
    attempts = list(
        Attempt.objects.filter(user=user, state=Attempt.State.FINISHED).order_by(
            "finished_at", "id"
        )
    )
    scores = attempt_percent_correct([a.id for a in attempts])
    points = [
        ProgressPoint(a, *scores[a.id]) for a in attempts if a.id in scores and scores[a.id][1]
    ]
    correct = sum(p.correct for p in points)
    total = sum(p.total for p in points)
    responses = Response.objects.filter(
        attempt__in=[p.attempt for p in points], block__state=AttemptBlock.State.CLOSED
    )
    areas = _areas(responses, _percent(correct, total))
    return Progress(
        points=points,
        areas=areas,
        correct=correct,
        total=total,
        assessments=assessment_trend(user=user),
        recent=recent_areas(user=user, now=now),
    )


def version_statistic(version) -> ItemStatistic | None:
    """The cohort statistic of a question version, or None before any block that delivered it
    closes (the instructor's question page)."""
    if version is None:
        return None
    return ItemStatistic.objects.filter(version=version).first()
