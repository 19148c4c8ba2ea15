"""Forms and blocks from blueprints: which questions an attempt gets, and in which block.

Items are drawn once, when an attempt starts (`attempts.attempt_start`, `practice.practice_create`)
and never change afterwards. The instructor's pool report and auto-filled fixed forms
(`exams/authoring.py`) use the same functions, so what an instructor is shown is what delivery
does.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from exams.errors import ExamError
from exams.models import Exam
from questions.models import Question, Tag


def _units_from(questions: Sequence[Question]) -> list[list[Question]]:
    """Group questions into delivery units: a whole item set stays together, in order."""
    by_set: dict[int, list[Question]] = defaultdict(list)
    units: list[list[Question]] = []
    for q in questions:
        if q.item_set_id is None:
            units.append([q])
        else:
            by_set[q.item_set_id].append(q)
    for members in by_set.values():
        units.append(sorted(members, key=lambda q: q.set_position or 0))
    return units


def apportion(total: int, weights: Mapping[str, float]) -> dict[str, int]:
    """Split `total` items over weighted keys by the largest-remainder method; sums to `total`.

    Each key first gets the whole part of its exact share; the items left over go one each to
    the largest remainders. The one tie rule, used by delivery (`draw_items`) and by the
    instructor's pool report (`authoring.exam_pool_report`) alike: on equal remainders the
    larger weight wins, then the key that sorts first, so the result never depends on the
    order of `weights`. Keys with no positive weight get 0.
    """
    positive = {k: float(w) for k, w in weights.items() if float(w) > 0}
    weight_sum = sum(positive.values())
    if total <= 0 or not weight_sum:
        return dict.fromkeys(weights, 0)
    exact = {k: total * w / weight_sum for k, w in positive.items()}
    counts = {k: int(v) for k, v in exact.items()}
    short = total - sum(counts.values())
    for k in sorted(exact, key=lambda k: (counts[k] - exact[k], -positive[k], k))[:short]:
        counts[k] += 1
    return {k: counts.get(k, 0) for k in weights}


@dataclass(frozen=True, slots=True)
class PoolItem:
    """What the draw needs of a question, read without building model instances."""

    pk: int
    current_version_id: int
    item_set_id: int | None
    set_position: int | None
    discipline: str | None
    system: str | None


def _tag_of(question, kind: str) -> str | None:
    if isinstance(question, PoolItem):
        return question.discipline if kind == Tag.Kind.DISCIPLINE else question.system
    for tag in question.tags.all():
        if tag.kind == kind:
            return tag.slug
    return None


def draw_items(
    *,
    questions: Sequence[Question],
    total: int,
    discipline_weights: dict[str, float],
    system_weights: dict[str, float],
    rng: random.Random,
) -> list[list[Question]]:
    """Draw delivery units adding up to `total` items, following the tag proportions.

    Disciplines get item quotas by `apportion` over the disciplines present in the pool.
    Within a discipline, units are drawn without replacement with probability proportional
    to their system's weight divided by how common that system is in the pool
    (Efraimidis–Spirakis keys), so the system mix follows its weights too. Short quotas are
    topped up from the rest of the pool, so the exam always has `total` items if the pool has.
    """
    units = _units_from(questions)
    by_disc: dict[str, list[list[Question]]] = defaultdict(list)
    for unit in units:
        by_disc[_tag_of(unit[0], Tag.Kind.DISCIPLINE) or ""].append(unit)
    present = {d: discipline_weights.get(d, 0.0) for d in by_disc}
    if not any(present.values()):
        present = dict.fromkeys(by_disc, 1.0)
    quotas = apportion(total, present)

    system_freq: dict[str, int] = defaultdict(int)
    for unit in units:
        system_freq[_tag_of(unit[0], Tag.Kind.SYSTEM) or ""] += 1

    def key(unit: list[Question]) -> float:
        system = _tag_of(unit[0], Tag.Kind.SYSTEM) or ""
        weight = system_weights.get(system, 0.0) if system_weights else 1.0
        weight = max(weight, 0.05) / system_freq[system]
        return rng.random() ** (1.0 / weight)

    chosen: list[list[Question]] = []
    leftovers: list[list[Question]] = []
    count = 0
    for disc, disc_units in by_disc.items():
        ranked = sorted(disc_units, key=key, reverse=True)
        quota = quotas.get(disc, 0)
        taken = 0
        for unit in ranked:
            if taken + len(unit) <= quota and count + len(unit) <= total:
                chosen.append(unit)
                taken += len(unit)
                count += len(unit)
            else:
                leftovers.append(unit)
    rng.shuffle(leftovers)
    for unit in leftovers:
        if count >= total:
            break
        if count + len(unit) <= total:
            chosen.append(unit)
            count += len(unit)
    return chosen


def pack_blocks(
    *, units: list[list[Question]], block_count: int, per_block: int, rng: random.Random
) -> list[list[Question]]:
    """Spread units over blocks, largest first into the emptiest block, then shuffle each."""
    blocks: list[list[list[Question]]] = [[] for _ in range(block_count)]
    sizes = [0] * block_count
    for unit in sorted(units, key=len, reverse=True):
        target = min(range(block_count), key=lambda i: sizes[i])
        if sizes[target] + len(unit) > per_block:
            continue
        blocks[target].append(unit)
        sizes[target] += len(unit)
    result = []
    for block_units in blocks:
        rng.shuffle(block_units)
        result.append([q for unit in block_units for q in unit])
    return result


def pool_items(questions) -> list[PoolItem]:
    """The draw's view of a question queryset: two flat reads, whatever the bank's size.

    A start spike (a whole cohort pressing Start together) runs this once per examinee, so it
    avoids model instances and per-question tag prefetches.
    """
    rows = list(
        questions.order_by("pk").values_list(
            "pk", "current_version_id", "item_set_id", "set_position"
        )
    )
    first_tag: dict[tuple[int, str], str] = {}
    for question_id, kind, slug in (
        Question.tags.through.objects.filter(
            question_id__in=questions.values("pk"),
            tag__kind__in=(Tag.Kind.DISCIPLINE, Tag.Kind.SYSTEM),
        )
        .order_by("tag__slug")
        .values_list("question_id", "tag__kind", "tag__slug")
    ):
        first_tag.setdefault((question_id, kind), slug)
    return [
        PoolItem(
            pk=pk,
            current_version_id=version_id,
            item_set_id=item_set_id,
            set_position=set_position,
            discipline=first_tag.get((pk, Tag.Kind.DISCIPLINE)),
            system=first_tag.get((pk, Tag.Kind.SYSTEM)),
        )
        for pk, version_id, item_set_id, set_position in rows
    ]


def _pool_for(banks) -> list[PoolItem]:
    return pool_items(
        Question.objects.filter(bank__in=banks, is_retired=False, current_version__isnull=False)
    )


def exam_blocks(*, exam: Exam, rng: random.Random) -> list[list[Question]]:
    blueprint = exam.blueprint
    if exam.assembly == Exam.Assembly.FIXED:
        blocks: list[list[Question]] = [[] for _ in range(blueprint.block_count)]
        for item in exam.fixed_items.select_related("question").order_by(
            "block_number", "position"
        ):
            if 1 <= item.block_number <= blueprint.block_count:
                blocks[item.block_number - 1].append(item.question)
        if not any(blocks):
            raise ExamError("This exam's fixed form has no items yet.")
        return blocks
    pool = _pool_for(exam.banks.all())
    need = blueprint.total_items
    if len(pool) < need:
        raise ExamError(
            f"The question pool has {len(pool)} questions; this exam needs {need}. "
            "Ask your instructor to add questions or use a smaller blueprint."
        )
    units = draw_items(
        questions=pool,
        total=need,
        discipline_weights=exam.discipline_weights or {},
        system_weights=exam.system_weights or {},
        rng=rng,
    )
    return pack_blocks(
        units=units,
        block_count=blueprint.block_count,
        per_block=blueprint.items_per_block,
        rng=rng,
    )
