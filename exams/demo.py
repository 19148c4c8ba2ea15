"""The demo: accounts, bank, blueprints and public exams, loaded by `manage.py load_demo`.

It lives in `exams/` because it builds exams from the question bank; `questions/` may not
import the exam engine. docs/demo-content.md describes what is bundled and how the MedQA
explanations were written and checked.

The MedQA questions are shipped as MedQA published them (`medqa_step2ck.jsonl`, tagged by us)
and the team's teaching material as an overlay (`medqa_explanations.jsonl`): the
explanations, the typo fixes and the key review. The overlay is applied at load time, so the
original wording stays findable in the repository and every fix is a reviewable line.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from django.contrib.auth import get_user_model
from django.db import transaction

from exams.authoring import exam_create
from exams.models import Blueprint, Exam
from questions.importing import ImportFile
from questions.models import Bank, Question
from questions.outline import (
    STEP2CK_DISCIPLINE_WEIGHTS,
    STEP2CK_SYSTEM_WEIGHTS,
    outline_tags_seed,
)
from questions.services import ImportSummary, question_retire, questions_import

DEMO_DIR = Path(__file__).resolve().parents[1] / "questions" / "demo"
ORIGINAL_FILE = "original.jsonl"
MEDQA_FILE = "medqa_step2ck.jsonl"
OVERLAY_FILE = "medqa_explanations.jsonl"
DEMO_PASSWORD = "mockboard-demo"  # noqa: S105 - the published demo password
BANK_SLUG = "demo-step2ck"
BANK_NAME = "Step 2 CK demo bank"
BANK_DESCRIPTION = (
    "594 Step 2&3 questions from MedQA (Jin et al. 2021, MIT licence) with explanations "
    "written for Mockboard's demo (CC BY 4.0, not reviewed by a physician), and original "
    "Mockboard demo questions (CC BY 4.0)."
)
MEDQA_SOURCE = (
    "Question: MedQA (Jin et al. 2021), US test split, MIT licence. Explanation: written for "
    "Mockboard's demo, CC BY 4.0, not reviewed by a physician."
)
MEDQA_LICENCE = "MIT (question); CC BY 4.0 (explanation)"

# slug, name, blocks, items per block, block minutes, break minutes, tutorial minutes
BLUEPRINTS = (
    ("step2ck-2026", "Step 2 CK (2026)", 16, 20, 30, 55, 5),
    ("step2ck-2026-sample", "Step 2 CK sample form: 6 × 20", 6, 20, 30, 55, 5),
    ("step2ck-legacy", "Step 2 CK (before May 2026)", 8, 40, 60, 45, 15),
    ("self-assessment", "Self-assessment", 4, 40, 60, 45, 0),
    ("demo-4x20", "Demo: 4 × 20", 4, 20, 30, 30, 5),
    ("quick-2x10", "Quick practice: 2 × 10", 2, 10, 15, 10, 0),
)

# title, blueprint slug, description
EXAMS = (
    (
        "Step 2 CK full-length (2026 format)",
        "step2ck-2026",
        "The whole test day: 16 timed 30-minute blocks of 20 items, a 55-minute break pool "
        "and the 5-minute tutorial, drawn by the Step 2 CK outline's discipline and system "
        "weights.",
    ),
    (
        "Step 2 CK sample form: 120 items",
        "step2ck-2026-sample",
        "Six timed 30-minute blocks of 20 items in the 2026 format: a self-assessment of "
        "about half a test day.",
    ),
    (
        "Step 2 CK practice exam",
        "demo-4x20",
        "Four timed 30-minute blocks of 20 items drawn by the Step 2 CK outline's weights.",
    ),
    (
        "Quick practice: 2 × 10",
        "quick-2x10",
        "Two timed 15-minute blocks of 10 items: a short run through the exam interface.",
    ),
)

LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


@dataclass
class DemoResult:
    tags_created: int
    users_created: list[str]
    blueprints_created: int
    exams_created: int
    summary: ImportSummary
    retired: int


@dataclass
class Overlaid:
    """The MedQA file with the overlay applied, and what the overlay says to retire."""

    lines: list[dict]
    retired: dict[str, str] = field(default_factory=dict)  # external id -> reason


def _jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def _fixed(text: str, fixes: list[dict], field_name: str, external_id: str) -> str:
    for fix in fixes:
        if fix["field"] != field_name:
            continue
        if text.count(fix["from"]) != 1:
            raise ValueError(f"{OVERLAY_FILE}: {external_id}: {fix['from']!r} not found once")
        text = text.replace(fix["from"], fix["to"])
    return text


def medqa_overlaid(
    *, items: list[dict] | None = None, overlay: list[dict] | None = None
) -> Overlaid:
    """Apply the explanations, typo fixes and key review to the MedQA questions."""
    items = _jsonl(DEMO_DIR / MEDQA_FILE) if items is None else items
    overlay = _jsonl(DEMO_DIR / OVERLAY_FILE) if overlay is None else overlay
    by_id = {rec["external_id"]: rec for rec in overlay}
    result = Overlaid(lines=[])
    for item in items:
        external_id = item["external_id"]
        rec = by_id.get(external_id)
        if rec is None:
            raise ValueError(f"{OVERLAY_FILE}: no explanation for {external_id}")
        fixes = rec.get("text_fixes", [])
        options = [
            {
                "text": _fixed(text, fixes, f"option:{LETTERS[i]}", external_id),
                "explanation": rec["option_explanations"][i],
            }
            for i, text in enumerate(item["options"])
        ]
        result.lines.append(
            item
            | {
                "stem": _fixed(item["stem"], fixes, "stem", external_id),
                "options": options,
                "explanation": rec["explanation"],
                "objective": rec["objective"],
                "source": MEDQA_SOURCE,
                "licence": MEDQA_LICENCE,
            }
        )
        if rec.get("refers_to_missing"):
            result.retired[external_id] = "refers to missing material: " + rec["key_note"]
        elif rec.get("key_check") == "questioned":
            result.retired[external_id] = "key questioned: " + rec["key_note"]
    return result


def _demo_user(*, username: str, role: str, last_name: str):
    User = get_user_model()
    user, created = User.objects.get_or_create(
        username=username,
        defaults={"role": role, "first_name": "Demo", "last_name": last_name},
    )
    if created:
        # Only on creation: a password changed after the first load is left alone.
        user.set_password(DEMO_PASSWORD)
        user.save(update_fields=["password"])
    return user, created


def demo_load(*, now: datetime) -> DemoResult:
    """Seed the outline tags, demo accounts, bank, questions, blueprints and public exams."""
    medqa = medqa_overlaid()
    medqa_bytes = "".join(json.dumps(line) + "\n" for line in medqa.lines).encode()
    files = [
        ImportFile(ORIGINAL_FILE, (DEMO_DIR / ORIGINAL_FILE).read_bytes()),
        ImportFile(MEDQA_FILE, medqa_bytes),
    ]
    User = get_user_model()
    with transaction.atomic():
        tags_created = outline_tags_seed()
        examinee, examinee_new = _demo_user(
            username="examinee", role=User.Role.EXAMINEE, last_name="Examinee"
        )
        instructor, instructor_new = _demo_user(
            username="instructor", role=User.Role.INSTRUCTOR, last_name="Instructor"
        )
        bank, _ = Bank.objects.get_or_create(
            slug=BANK_SLUG,
            defaults={
                "name": BANK_NAME,
                "description": BANK_DESCRIPTION,
                "is_open_for_practice": True,
            },
        )
        wanted = (BANK_NAME, BANK_DESCRIPTION, True)
        if (bank.name, bank.description, bank.is_open_for_practice) != wanted:
            # The demo bank backs only public exams, never assigned ones: practice material.
            bank.name, bank.description, bank.is_open_for_practice = wanted
            bank.save(update_fields=["name", "description", "is_open_for_practice"])
        bank.owners.add(instructor)
        summary = questions_import(bank=bank, files=files, format="json", now=now)
        retired = 0
        for question in Question.objects.filter(
            bank=bank, external_id__in=list(medqa.retired), is_retired=False
        ):
            question_retire(question=question, now=now)
            retired += 1

        blueprints_created = 0
        blueprints = {}
        for slug, name, blocks, items, minutes, break_minutes, tutorial in BLUEPRINTS:
            blueprint, created = Blueprint.objects.get_or_create(
                slug=slug,
                defaults={
                    "name": name,
                    "block_count": blocks,
                    "items_per_block": items,
                    "block_minutes": minutes,
                    "break_minutes": break_minutes,
                    "tutorial_minutes": tutorial,
                    "owner": None,
                },
            )
            blueprints[slug] = blueprint
            blueprints_created += created

        exams_created = 0
        for title, blueprint_slug, description in EXAMS:
            if Exam.objects.filter(owner=instructor, title=title).exists():
                continue
            exam_create(
                owner=instructor,
                title=title,
                blueprint=blueprints[blueprint_slug],
                banks=[bank],
                mode=Exam.Mode.TIMED,
                assembly=Exam.Assembly.PROPORTIONS,
                discipline_weights=dict(STEP2CK_DISCIPLINE_WEIGHTS),
                system_weights=dict(STEP2CK_SYSTEM_WEIGHTS),
                is_public=True,
                description=description,
            )
            exams_created += 1

    users_created = [
        u.username for u, new in ((examinee, examinee_new), (instructor, instructor_new)) if new
    ]
    return DemoResult(
        tags_created, users_created, blueprints_created, exams_created, summary, retired
    )
