"""Instructor-side services: blueprints, exams, fixed forms, cohorts, assignments, accommodations.

Every function that writes runs in one transaction and validates everything before the first
write, so a ValidationError always leaves the database as it was.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Q
from django.utils.text import slugify

from exams.drawing import apportion, draw_items, pack_blocks
from exams.models import Assignment, Blueprint, Cohort, Exam, FixedItem, Membership
from questions.models import Bank, Question, Tag

User = get_user_model()

BLOCK_COUNT_RANGE = (1, 40)
ITEMS_PER_BLOCK_RANGE = (1, 60)
BLOCK_MINUTES_RANGE = (1, 240)
BREAK_MINUTES_RANGE = (0, 600)
TUTORIAL_MINUTES_RANGE = (0, 60)
MAX_ATTEMPTS_RANGE = (1, 20)
TIME_MULTIPLIER_RANGE = (Decimal("1.00"), Decimal("3.00"))
EXTRA_BREAK_RANGE = (0, 240)


# Blueprints ------------------------------------------------------------------------------------


def _check_range(errors: dict, field: str, value: int, bounds: tuple[int, int], label: str):
    low, high = bounds
    if not isinstance(value, int) or not low <= value <= high:
        errors[field] = f"{label} must be between {low} and {high}."


@transaction.atomic
def blueprint_create(
    *,
    owner,
    name: str,
    block_count: int,
    items_per_block: int,
    block_minutes: int,
    break_minutes: int = 0,
    tutorial_minutes: int = 0,
) -> Blueprint:
    errors: dict[str, str] = {}
    name = (name or "").strip()
    if not name:
        errors["name"] = "Give the blueprint a name."
    elif len(name) > 120:
        errors["name"] = "Keep the name under 120 characters."
    _check_range(errors, "block_count", block_count, BLOCK_COUNT_RANGE, "Blocks")
    _check_range(errors, "items_per_block", items_per_block, ITEMS_PER_BLOCK_RANGE, "Items")
    _check_range(errors, "block_minutes", block_minutes, BLOCK_MINUTES_RANGE, "Block minutes")
    _check_range(errors, "break_minutes", break_minutes, BREAK_MINUTES_RANGE, "Break minutes")
    _check_range(
        errors, "tutorial_minutes", tutorial_minutes, TUTORIAL_MINUTES_RANGE, "Tutorial minutes"
    )
    if not getattr(owner, "is_instructor", False):
        errors["owner"] = "Only instructors define blueprints."
    if errors:
        raise ValidationError(errors)
    base = slugify(name)[:60] or "blueprint"
    slug = f"{owner.pk}-{base}"
    suffix = 2
    while Blueprint.objects.filter(slug=slug).exists():
        slug = f"{owner.pk}-{base}-{suffix}"
        suffix += 1
    return Blueprint.objects.create(
        owner=owner,
        slug=slug,
        name=name,
        block_count=block_count,
        items_per_block=items_per_block,
        block_minutes=block_minutes,
        break_minutes=break_minutes,
        tutorial_minutes=tutorial_minutes,
    )


def blueprints_usable_by(owner):
    """Presets plus the instructor's own blueprints."""
    return Blueprint.objects.filter(Q(owner__isnull=True) | Q(owner=owner)).order_by(
        "owner_id", "name"
    )


# Exams -----------------------------------------------------------------------------------------


def default_weights(banks: Iterable[Bank]) -> tuple[dict[str, float], dict[str, float]]:
    """The published Step 2 CK outline weights, or equal weights over the banks' own tags."""
    try:
        from questions import outline

        return dict(outline.STEP2CK_DISCIPLINE_WEIGHTS), dict(outline.STEP2CK_SYSTEM_WEIGHTS)
    except (ImportError, AttributeError):
        slugs = (
            Tag.objects.filter(questions__bank__in=list(banks), questions__is_retired=False)
            .values_list("kind", "slug")
            .distinct()
        )
        disciplines = {slug: 1.0 for kind, slug in slugs if kind == Tag.Kind.DISCIPLINE}
        systems = {slug: 1.0 for kind, slug in slugs if kind == Tag.Kind.SYSTEM}
        return disciplines, systems


def _clean_weights(raw, field: str, errors: dict) -> dict[str, float]:
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        errors[field] = "Weights must map tag slugs to numbers."
        return {}
    cleaned: dict[str, float] = {}
    for slug, weight in raw.items():
        if not isinstance(slug, str) or not slug or slugify(slug) != slug:
            errors[field] = f"“{slug}” is not a tag slug."
            return {}
        try:
            value = float(weight)
        except (TypeError, ValueError):
            errors[field] = f"The weight of “{slug}” is not a number."
            return {}
        if value < 0 or value != value or value == float("inf"):
            errors[field] = f"The weight of “{slug}” must be zero or more."
            return {}
        cleaned[slug] = value
    if cleaned and not any(cleaned.values()):
        errors[field] = "At least one weight must be above zero."
    return cleaned


@transaction.atomic
def exam_create(
    *,
    owner,
    title: str,
    blueprint: Blueprint,
    banks: Iterable[Bank],
    mode: str = Exam.Mode.TIMED,
    assembly: str = Exam.Assembly.PROPORTIONS,
    discipline_weights: Mapping[str, float] | None = None,
    system_weights: Mapping[str, float] | None = None,
    is_public: bool = False,
    description: str = "",
) -> Exam:
    """Create an exam over the owner's banks. Weights left as None take the outline defaults."""
    errors: dict[str, str] = {}
    title = (title or "").strip()
    if not title:
        errors["title"] = "Give the exam a title."
    elif len(title) > 200:
        errors["title"] = "Keep the title under 200 characters."
    if not getattr(owner, "is_instructor", False):
        errors["owner"] = "Only instructors create exams."
    if blueprint is None or not (blueprint.is_preset or blueprint.owner_id == owner.pk):
        errors["blueprint"] = "Choose a preset blueprint or one of your own."
    banks = list(banks)
    if not banks:
        errors["banks"] = "Choose at least one question bank."
    else:
        owned = set(
            Bank.objects.filter(pk__in=[b.pk for b in banks], owners=owner).values_list(
                "pk", flat=True
            )
        )
        if len(owned) != len({b.pk for b in banks}):
            errors["banks"] = "You can only build exams from banks you own."
    if mode not in Exam.Mode.values:
        errors["mode"] = "Choose timed, tutor or untimed."
    if assembly not in Exam.Assembly.values:
        errors["assembly"] = "Choose proportions or a fixed form."
    if discipline_weights is None or system_weights is None:
        default_d, default_s = default_weights(banks)
        if discipline_weights is None:
            discipline_weights = default_d
        if system_weights is None:
            system_weights = default_s
    disciplines = _clean_weights(discipline_weights, "discipline_weights", errors)
    systems = _clean_weights(system_weights, "system_weights", errors)
    if errors:
        raise ValidationError(errors)
    exam = Exam.objects.create(
        owner=owner,
        title=title,
        description=description,
        blueprint=blueprint,
        mode=mode,
        assembly=assembly,
        discipline_weights=disciplines,
        system_weights=systems,
        is_public=is_public,
    )
    exam.banks.set(banks)
    return exam


@dataclass(frozen=True)
class PoolRow:
    kind: str
    slug: str
    name: str
    weight: float
    need: int
    available: int

    @property
    def status(self) -> str:
        if self.available >= self.need:
            return "ok"
        return "warn" if self.available * 2 >= self.need else "bad"


@dataclass(frozen=True)
class PoolReport:
    total_need: int
    total_available: int
    disciplines: list[PoolRow]
    systems: list[PoolRow]


def exam_pool_report(*, exam: Exam) -> PoolReport:
    """Active questions per discipline and system in the exam's banks, against what it needs."""
    blueprint = exam.blueprint
    bank_ids = list(exam.banks.values_list("pk", flat=True))
    active = Question.objects.filter(
        bank_id__in=bank_ids, is_retired=False, current_version__isnull=False
    )
    counts = (
        Tag.objects.filter(
            kind__in=[Tag.Kind.DISCIPLINE, Tag.Kind.SYSTEM],
            questions__in=active,
        )
        .values("kind", "slug", "name")
        .annotate(n=Count("questions", distinct=True))
    )
    available: dict[tuple[str, str], int] = defaultdict(int)
    names: dict[tuple[str, str], str] = {}
    for row in counts:
        key = (row["kind"], row["slug"])
        available[key] += row["n"]
        names.setdefault(key, row["name"])

    def rows(kind: str, weights: Mapping[str, float]) -> list[PoolRow]:
        need = apportion(blueprint.total_items, weights)
        slugs = set(weights) | {slug for k, slug in available if k == kind}
        out = [
            PoolRow(
                kind=kind,
                slug=slug,
                name=names.get((kind, slug), slug.replace("-", " ").capitalize()),
                weight=float(weights.get(slug, 0)),
                need=need.get(slug, 0),
                available=available.get((kind, slug), 0),
            )
            for slug in slugs
        ]
        return sorted(out, key=lambda r: (-r.weight, r.name))

    return PoolReport(
        total_need=blueprint.total_items,
        total_available=active.count(),
        disciplines=rows(Tag.Kind.DISCIPLINE, exam.discipline_weights or {}),
        systems=rows(Tag.Kind.SYSTEM, exam.system_weights or {}),
    )


# Fixed forms -----------------------------------------------------------------------------------


@transaction.atomic
def fixed_form_set(*, exam: Exam, items: list[tuple[int, int, Question]]) -> list[FixedItem]:
    """Replace the exam's fixed form with `items` as (block_number, position, question)."""
    exam = Exam.objects.select_for_update().select_related("blueprint").get(pk=exam.pk)
    blueprint = exam.blueprint
    bank_ids = set(exam.banks.values_list("pk", flat=True))
    problems: list[str] = []
    seen_questions: set[int] = set()
    seen_slots: set[tuple[int, int]] = set()
    per_block: dict[int, int] = defaultdict(int)
    fresh = {
        q.pk: q
        for q in Question.objects.filter(pk__in=[q.pk for _, _, q in items]).only(
            "pk", "bank_id", "is_retired", "current_version_id", "external_id"
        )
    }
    for block_number, position, question in items:
        q = fresh.get(question.pk)
        label = question.external_id
        if q is None:
            problems.append(f"{label}: no such question.")
            continue
        if q.bank_id not in bank_ids:
            problems.append(f"{label} is not in this exam's banks.")
        if q.is_retired:
            problems.append(f"{label} is retired.")
        if q.current_version_id is None:
            problems.append(f"{label} has no version to deliver.")
        if q.pk in seen_questions:
            problems.append(f"{label} appears more than once.")
        seen_questions.add(q.pk)
        if not 1 <= block_number <= blueprint.block_count:
            problems.append(
                f"Block {block_number} does not exist (the blueprint has {blueprint.block_count})."
            )
        if not 1 <= position <= blueprint.items_per_block:
            problems.append(
                f"Position {position} in block {block_number} is outside 1–"
                f"{blueprint.items_per_block}."
            )
        if (block_number, position) in seen_slots:
            problems.append(f"Block {block_number} position {position} is used twice.")
        seen_slots.add((block_number, position))
        per_block[block_number] += 1
    for block_number, n in sorted(per_block.items()):
        if n > blueprint.items_per_block:
            problems.append(
                f"Block {block_number} has {n} questions; the blueprint allows "
                f"{blueprint.items_per_block}."
            )
    if problems:
        # Keep the first occurrence of each message: one bad row can trip several checks.
        raise ValidationError(list(dict.fromkeys(problems)))
    FixedItem.objects.filter(exam=exam).delete()
    return FixedItem.objects.bulk_create(
        FixedItem(exam=exam, block_number=b, position=p, question_id=q.pk) for b, p, q in items
    )


def proportional_draw(*, exam: Exam, seed: int) -> list[tuple[int, int, Question]]:
    """A form drawn from the exam's pool by its tag weights, as (block, position, question).

    Uses the same draw as delivery (exams/drawing.py), so an auto-filled form has the mix a
    proportions exam would have, with item sets kept together. Deterministic for a seed.
    """
    blueprint = exam.blueprint
    pool = list(
        Question.objects.filter(
            bank__in=exam.banks.all(), is_retired=False, current_version__isnull=False
        )
        .prefetch_related("tags")
        .order_by("pk")
    )
    rng = random.Random(seed)
    units = draw_items(
        questions=pool,
        total=min(blueprint.total_items, len(pool)),
        discipline_weights=exam.discipline_weights or {},
        system_weights=exam.system_weights or {},
        rng=rng,
    )
    blocks = pack_blocks(
        units=units,
        block_count=blueprint.block_count,
        per_block=blueprint.items_per_block,
        rng=rng,
    )
    return [
        (block_number, position, question)
        for block_number, block in enumerate(blocks, start=1)
        for position, question in enumerate(block, start=1)
    ]


@transaction.atomic
def fixed_form_autofill(*, exam: Exam, seed: int) -> list[FixedItem]:
    """Replace the fixed form with a proportional draw from the current pool."""
    return fixed_form_set(exam=exam, items=proportional_draw(exam=exam, seed=seed))


def _current_form(exam: Exam) -> list[tuple[int, int, Question]]:
    return [
        (item.block_number, item.position, item.question)
        for item in exam.fixed_items.select_related("question").order_by("block_number", "position")
    ]


@transaction.atomic
def fixed_form_add(
    *, exam: Exam, block_number: int, questions: Iterable[Question]
) -> list[FixedItem]:
    """Append questions to the end of one block, keeping the rest of the form as it is."""
    items = _current_form(exam)
    used = [p for b, p, _ in items if b == block_number]
    start = max(used, default=0) + 1
    added = [(block_number, start + i, q) for i, q in enumerate(questions)]
    return fixed_form_set(exam=exam, items=items + added)


@transaction.atomic
def fixed_form_remove(*, exam: Exam, question: Question) -> list[FixedItem]:
    """Take a question off the form and close the gap it leaves in its block."""
    items = [(b, q) for b, _, q in _current_form(exam) if q.pk != question.pk]
    renumbered: list[tuple[int, int, Question]] = []
    positions: dict[int, int] = defaultdict(int)
    for block_number, q in items:
        positions[block_number] += 1
        renumbered.append((block_number, positions[block_number], q))
    return fixed_form_set(exam=exam, items=renumbered)


def exam_pool_questions(*, exam: Exam, text: str = ""):
    """Active questions in the exam's banks that the fixed form does not use yet."""
    qs = Question.objects.filter(
        bank__in=exam.banks.all(), is_retired=False, current_version__isnull=False
    ).exclude(pk__in=exam.fixed_items.values("question_id"))
    if text:
        qs = qs.filter(
            Q(current_version__stem_html__icontains=text) | Q(external_id__icontains=text)
        )
    return (
        qs.select_related("current_version", "bank")
        .prefetch_related("tags")
        .order_by("bank__name", "external_id")
    )


# Cohorts ---------------------------------------------------------------------------------------


@transaction.atomic
def cohort_create(*, owner, name: str) -> Cohort:
    name = (name or "").strip()
    if not getattr(owner, "is_instructor", False):
        raise ValidationError({"owner": "Only instructors create cohorts."})
    if not name:
        raise ValidationError({"name": "Give the cohort a name."})
    if len(name) > 200:
        raise ValidationError({"name": "Keep the name under 200 characters."})
    return Cohort.objects.create(owner=owner, name=name)


@dataclass(frozen=True)
class MembersAdded:
    added: list
    not_added: int


@transaction.atomic
def cohort_add_members(*, cohort: Cohort, usernames: Iterable[str]) -> MembersAdded:
    """Add the active examinees among `usernames`; the rest are only counted.

    Never say why a name was not added: that would tell any instructor which accounts exist
    and which are instructors. Invitations by email will replace this.
    """
    wanted = list(dict.fromkeys(u.strip() for u in usernames if u and u.strip()))
    if not wanted:
        raise ValidationError("Enter at least one username.")
    cohort = Cohort.objects.select_for_update().get(pk=cohort.pk)
    found = {
        u.username: u
        for u in User.objects.filter(username__in=wanted, is_active=True, role=User.Role.EXAMINEE)
    }
    users = [found[u] for u in wanted if u in found]
    # Adding a member twice keeps their membership, and so their accommodations.
    cohort.members.add(*users)
    return MembersAdded(added=users, not_added=len(wanted) - len(users))


@transaction.atomic
def cohort_remove_member(*, cohort: Cohort, member) -> None:
    if not cohort.members.filter(pk=member.pk).exists():
        raise ValidationError(f"{member.username} is not in {cohort.name}.")
    cohort.members.remove(member)


@transaction.atomic
def accommodation_set(
    *, cohort: Cohort, member, time_multiplier: Decimal, extra_break_minutes: int
) -> Membership:
    """Record a member's accommodations for this cohort's exams only.

    Attempts already started keep the old ones; other instructors' exams never see them.
    """
    errors: dict[str, str] = {}
    try:
        multiplier = Decimal(str(time_multiplier)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        multiplier = None
    low, high = TIME_MULTIPLIER_RANGE
    if multiplier is None or not low <= multiplier <= high:
        errors["time_multiplier"] = "The time multiplier must be between 1.0 and 3.0."
    _check_range(
        errors, "extra_break_minutes", extra_break_minutes, EXTRA_BREAK_RANGE, "Extra break"
    )
    membership = Membership.objects.select_for_update().filter(cohort=cohort, user=member).first()
    if membership is None:
        errors["member"] = f"{member.username} is not in {cohort.name}."
    if errors:
        raise ValidationError(errors)
    membership.time_multiplier = multiplier
    membership.extra_break_minutes = extra_break_minutes
    membership.save(update_fields=["time_multiplier", "extra_break_minutes"])
    return membership


# Assignments -----------------------------------------------------------------------------------


@transaction.atomic
def assignment_create(
    *, exam: Exam, cohort: Cohort, opens_at: datetime, closes_at: datetime, max_attempts: int = 1
) -> Assignment:
    errors: dict[str, str] = {}
    if exam.owner_id != cohort.owner_id:
        errors["cohort"] = "The exam and the cohort must both be yours."
    if opens_at is None or closes_at is None:
        errors["closes_at"] = "Give both an opening and a closing time."
    elif closes_at <= opens_at:
        errors["closes_at"] = "The window must close after it opens."
    _check_range(errors, "max_attempts", max_attempts, MAX_ATTEMPTS_RANGE, "Attempts")
    if errors:
        raise ValidationError(errors)
    return Assignment.objects.create(
        exam=exam,
        cohort=cohort,
        opens_at=opens_at,
        closes_at=closes_at,
        max_attempts=max_attempts,
    )
