"""Instructor-side services: blueprints, exams, fixed forms, cohorts, assignments, accommodations.

Every function that writes runs in one transaction and validates everything before the first
write, so a ValidationError always leaves the database as it was.
"""

from __future__ import annotations

import random
import zoneinfo
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
from exams.models import (
    Assignment,
    AssignmentOverride,
    Attempt,
    Blueprint,
    Cohort,
    Exam,
    FixedItem,
    Membership,
)
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


def _blueprint_errors(
    *,
    name: str,
    block_count: int,
    items_per_block: int,
    block_minutes: int,
    break_minutes: int,
    tutorial_minutes: int,
) -> dict[str, str]:
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
    return errors


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
    errors = _blueprint_errors(
        name=name,
        block_count=block_count,
        items_per_block=items_per_block,
        block_minutes=block_minutes,
        break_minutes=break_minutes,
        tutorial_minutes=tutorial_minutes,
    )
    name = (name or "").strip()
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


@transaction.atomic
def blueprint_update(
    *,
    blueprint: Blueprint,
    name: str,
    block_count: int,
    items_per_block: int,
    block_minutes: int,
    break_minutes: int = 0,
    tutorial_minutes: int = 0,
) -> Blueprint:
    """Change an instructor's own blueprint; the next attempt of each exam using it draws the
    new shape. Attempts already started copied their blocks and minutes and do not change.

    A fixed-form exam on this blueprint must still fit it: no item may fall outside the new
    block count or block size.
    """
    blueprint = Blueprint.objects.select_for_update().get(pk=blueprint.pk)
    errors = _blueprint_errors(
        name=name,
        block_count=block_count,
        items_per_block=items_per_block,
        block_minutes=block_minutes,
        break_minutes=break_minutes,
        tutorial_minutes=tutorial_minutes,
    )
    if blueprint.is_preset:
        errors["name"] = "Preset blueprints cannot be edited; make one of your own."
    outside = (
        FixedItem.objects.filter(exam__blueprint=blueprint)
        .filter(Q(block_number__gt=block_count) | Q(position__gt=items_per_block))
        .values_list("exam__title", flat=True)
        .distinct()
        if isinstance(block_count, int) and isinstance(items_per_block, int)
        else []
    )
    if outside:
        errors["block_count"] = (
            "The fixed form of “" + "”, “".join(sorted(outside)) + "” would not fit: "
            "move its items into the first blocks first."
        )
    if errors:
        raise ValidationError(errors)
    blueprint.name = name.strip()
    blueprint.block_count = block_count
    blueprint.items_per_block = items_per_block
    blueprint.block_minutes = block_minutes
    blueprint.break_minutes = break_minutes
    blueprint.tutorial_minutes = tutorial_minutes
    blueprint.save()
    return blueprint


@transaction.atomic
def blueprint_delete(*, blueprint: Blueprint) -> None:
    """Delete an unused blueprint of one's own; one that an exam uses stays."""
    blueprint = Blueprint.objects.select_for_update().get(pk=blueprint.pk)
    if blueprint.is_preset:
        raise ValidationError("Preset blueprints cannot be deleted.")
    titles = list(blueprint.exam_set.values_list("title", flat=True))
    if titles:
        raise ValidationError(
            "Blueprints in use cannot be deleted; “" + "”, “".join(sorted(titles)) + "” uses it."
        )
    blueprint.delete()


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
    fields = _clean_exam(
        owner=owner,
        title=title,
        blueprint=blueprint,
        banks=banks,
        mode=mode,
        assembly=assembly,
        discipline_weights=discipline_weights,
        system_weights=system_weights,
    )
    banks = fields.pop("banks")
    exam = Exam.objects.create(owner=owner, description=description, is_public=is_public, **fields)
    exam.banks.set(banks)
    return exam


def _clean_exam(
    *,
    owner,
    title: str,
    blueprint: Blueprint,
    banks: Iterable[Bank],
    mode: str,
    assembly: str,
    discipline_weights: Mapping[str, float] | None,
    system_weights: Mapping[str, float] | None,
    exam: Exam | None = None,
) -> dict:
    """Validate an exam's fields for create or update; raise every error at once."""
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
    if exam is not None and assembly == Exam.Assembly.FIXED and not errors:
        # The fixed form must survive the edit: every item in a chosen bank, and inside the
        # blueprint's blocks.
        items = exam.fixed_items.select_related("question")
        if items.exclude(question__bank__in=banks).exists():
            errors["banks"] = (
                "The fixed form uses questions from a bank you removed; take them off the form "
                "first."
            )
        if items.filter(
            Q(block_number__gt=blueprint.block_count) | Q(position__gt=blueprint.items_per_block)
        ).exists():
            errors["blueprint"] = (
                "The fixed form does not fit that blueprint; take items off the later blocks first."
            )
    if errors:
        raise ValidationError(errors)
    return {
        "title": title,
        "blueprint": blueprint,
        "banks": banks,
        "mode": mode,
        "assembly": assembly,
        "discipline_weights": disciplines,
        "system_weights": systems,
    }


@transaction.atomic
def exam_update(
    *,
    exam: Exam,
    title: str,
    blueprint: Blueprint,
    banks: Iterable[Bank],
    mode: str,
    assembly: str,
    discipline_weights: Mapping[str, float] | None,
    system_weights: Mapping[str, float] | None,
    is_public: bool,
    description: str = "",
) -> Exam:
    """Edit an exam. Attempts already started keep the items, blocks and minutes they were
    drawn with (they are copied onto the attempt); only the next attempt sees the change."""
    exam = Exam.objects.select_for_update().get(pk=exam.pk)
    fields = _clean_exam(
        owner=exam.owner,
        title=title,
        blueprint=blueprint,
        banks=banks,
        mode=mode,
        assembly=assembly,
        discipline_weights=discipline_weights,
        system_weights=system_weights,
        exam=exam,
    )
    banks = fields.pop("banks")
    for name, value in fields.items():
        setattr(exam, name, value)
    exam.description = description
    exam.is_public = is_public
    exam.save()
    exam.banks.set(banks)
    return exam


def _set_archived_at(row, now: datetime | None):
    """Lock an exam or cohort and archive it at `now`, or restore it with None. Archiving
    an archived row keeps its first archived_at. The caller holds the transaction."""
    row = type(row).objects.select_for_update().get(pk=row.pk)
    if now is None or row.archived_at is None:
        row.archived_at = now
        row.save(update_fields=["archived_at"])
    return row


@transaction.atomic
def exam_archive(*, exam: Exam, now: datetime) -> Exam:
    """Hide an exam and stop new attempts; its attempts, scores and statistics stay."""
    return _set_archived_at(exam, now)


@transaction.atomic
def exam_restore(*, exam: Exam) -> Exam:
    return _set_archived_at(exam, None)


@transaction.atomic
def exam_delete(*, exam: Exam) -> None:
    """Delete an exam nobody has sat. One with attempts is archived instead, never deleted."""
    exam = Exam.objects.select_for_update().get(pk=exam.pk)
    if Attempt.objects.filter(exam=exam).exists():
        raise ValidationError(
            "This exam has attempts, so it cannot be deleted; archive it instead."
        )
    exam.delete()


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


@transaction.atomic
def cohort_update(*, cohort: Cohort, name: str, time_zone: str = "") -> Cohort:
    """Rename a cohort or change its time zone; windows are stored in UTC, so neither moves
    an assignment's window or touches an attempt."""
    name = (name or "").strip()
    errors: dict[str, str] = {}
    if not name:
        errors["name"] = "Give the cohort a name."
    elif len(name) > 200:
        errors["name"] = "Keep the name under 200 characters."
    if time_zone and time_zone not in zoneinfo.available_timezones():
        errors["time_zone"] = f"“{time_zone}” is not a time zone name such as Europe/London."
    if errors:
        raise ValidationError(errors)
    cohort = Cohort.objects.select_for_update().get(pk=cohort.pk)
    cohort.name = name
    cohort.time_zone = time_zone
    cohort.save(update_fields=["name", "time_zone"])
    return cohort


def _cohort_has_attempts(cohort: Cohort) -> bool:
    return Attempt.objects.filter(assignment__cohort=cohort).exists()


@transaction.atomic
def cohort_archive(*, cohort: Cohort, now: datetime) -> Cohort:
    """Close every assignment of the cohort to its members; attempts and scores stay."""
    return _set_archived_at(cohort, now)


@transaction.atomic
def cohort_restore(*, cohort: Cohort) -> Cohort:
    return _set_archived_at(cohort, None)


@transaction.atomic
def cohort_delete(*, cohort: Cohort) -> None:
    """Delete a cohort whose assignments nobody has sat; otherwise archive it."""
    cohort = Cohort.objects.select_for_update().get(pk=cohort.pk)
    if _cohort_has_attempts(cohort):
        raise ValidationError(
            "Members of this cohort have sat its exams, so it cannot be deleted; archive it "
            "instead."
        )
    cohort.delete()


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


def _window_errors(errors: dict, opens_at, closes_at, max_attempts) -> None:
    if opens_at is None or closes_at is None:
        errors["closes_at"] = "Give both an opening and a closing time."
    elif closes_at <= opens_at:
        errors["closes_at"] = "The window must close after it opens."
    _check_range(errors, "max_attempts", max_attempts, MAX_ATTEMPTS_RANGE, "Attempts")


@transaction.atomic
def assignment_create(
    *, exam: Exam, cohort: Cohort, opens_at: datetime, closes_at: datetime, max_attempts: int = 1
) -> Assignment:
    errors: dict[str, str] = {}
    if exam.owner_id != cohort.owner_id:
        errors["cohort"] = "The exam and the cohort must both be yours."
    if exam.is_archived:
        errors["exam"] = "Restore the exam before assigning it."
    _window_errors(errors, opens_at, closes_at, max_attempts)
    if errors:
        raise ValidationError(errors)
    return Assignment.objects.create(
        exam=exam,
        cohort=cohort,
        opens_at=opens_at,
        closes_at=closes_at,
        max_attempts=max_attempts,
    )


@transaction.atomic
def assignment_update(
    *, assignment: Assignment, opens_at: datetime, closes_at: datetime, max_attempts: int
) -> Assignment:
    """Move the window or change the attempt limit. An attempt already started runs on its own
    clock to its own end: closing the window early or lowering the limit stops only new
    attempts, and never takes away one already used."""
    errors: dict[str, str] = {}
    _window_errors(errors, opens_at, closes_at, max_attempts)
    if errors:
        raise ValidationError(errors)
    assignment = Assignment.objects.select_for_update().get(pk=assignment.pk)
    assignment.opens_at = opens_at
    assignment.closes_at = closes_at
    assignment.max_attempts = max_attempts
    assignment.save(update_fields=["opens_at", "closes_at", "max_attempts"])
    return assignment


@transaction.atomic
def assignment_close(*, assignment: Assignment, now: datetime) -> Assignment:
    """Revoke an assignment that has attempts: close its window now (attempts stay)."""
    assignment = Assignment.objects.select_for_update().get(pk=assignment.pk)
    if assignment.closes_at <= now:
        return assignment
    if assignment.opens_at >= now:
        raise ValidationError("This window has not opened yet: delete the assignment instead.")
    assignment.closes_at = now
    assignment.save(update_fields=["closes_at"])
    return assignment


@transaction.atomic
def assignment_delete(*, assignment: Assignment) -> None:
    """Delete an assignment nobody has sat; one with attempts is closed instead."""
    assignment = Assignment.objects.select_for_update().get(pk=assignment.pk)
    if assignment.attempts.exists():
        raise ValidationError(
            "Attempts were made under this assignment, so it cannot be deleted; close it now "
            "instead."
        )
    assignment.delete()


# Per-examinee overrides ------------------------------------------------------------------------

EXTRA_ATTEMPTS_RANGE = (0, 20)
EXTRA_MINUTES_RANGE = (0, 240)


@transaction.atomic
def override_set(
    *,
    assignment: Assignment,
    member,
    closes_at: datetime | None,
    extra_attempts: int,
    extra_block_minutes: int,
    extra_break_minutes: int,
    reason: str = "",
    now: datetime,
) -> AssignmentOverride:
    """Grant one member of the assignment's cohort a later close, more attempts or more time.

    Read when an attempt starts (exams.access and attempt_start) and frozen onto it, so an
    attempt already started keeps what it began with.
    """
    errors: dict[str, str] = {}
    if not Membership.objects.filter(cohort_id=assignment.cohort_id, user=member).exists():
        errors["member"] = "That account is not in this assignment's cohort."
    if closes_at is not None and closes_at <= assignment.closes_at:
        errors["closes_at"] = "An extension must close after the assignment's own window."
    _check_range(errors, "extra_attempts", extra_attempts, EXTRA_ATTEMPTS_RANGE, "Extra attempts")
    _check_range(
        errors, "extra_block_minutes", extra_block_minutes, EXTRA_MINUTES_RANGE, "Extra minutes"
    )
    _check_range(
        errors, "extra_break_minutes", extra_break_minutes, EXTRA_MINUTES_RANGE, "Extra break"
    )
    reason = (reason or "").strip()
    if len(reason) > 200:
        errors["reason"] = "Keep the reason under 200 characters."
    if not errors and not (
        closes_at or extra_attempts or extra_block_minutes or extra_break_minutes
    ):
        errors["closes_at"] = "Grant something: a later close, attempts or minutes."
    if errors:
        raise ValidationError(errors)
    override, _ = AssignmentOverride.objects.select_for_update().update_or_create(
        assignment=assignment,
        user=member,
        defaults={
            "closes_at": closes_at,
            "extra_attempts": extra_attempts,
            "extra_block_minutes": extra_block_minutes,
            "extra_break_minutes": extra_break_minutes,
            "reason": reason,
            "updated_at": now,
        },
    )
    return override


@transaction.atomic
def override_delete(*, override: AssignmentOverride) -> None:
    """Remove an override; attempts started under it keep their time (frozen at start)."""
    AssignmentOverride.objects.filter(pk=override.pk).delete()
