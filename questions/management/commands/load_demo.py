"""`manage.py load_demo`: the demo accounts, bank, blueprints and public exams. Idempotent.

Running it again changes nothing that exists (passwords included) and imports only questions
whose content changed, as new versions. docs/demo-content.md describes what is bundled.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from exams.authoring import exam_create
from exams.models import Blueprint, Exam
from questions.importing import ImportFile
from questions.models import Bank
from questions.outline import (
    STEP2CK_DISCIPLINE_WEIGHTS,
    STEP2CK_SYSTEM_WEIGHTS,
    outline_tags_seed,
)
from questions.services import ImportRejected, ImportSummary, questions_import

DEMO_DIR = Path(__file__).resolve().parents[2] / "demo"
DEMO_FILES = ("original.jsonl", "medqa_step2ck.jsonl")
DEMO_PASSWORD = "mockboard-demo"  # noqa: S105 - the published demo password
BANK_SLUG = "demo-step2ck"
BANK_NAME = "Step 2 CK demo bank"
BANK_DESCRIPTION = (
    "594 Step 2&3 questions from MedQA (Jin et al. 2021, MIT licence; no explanations) and "
    "original Mockboard demo questions with full explanations (CC BY 4.0)."
)

# slug, name, blocks, items per block, block minutes, break minutes, tutorial minutes
BLUEPRINTS = (
    ("step2ck-2026", "Step 2 CK (2026)", 16, 20, 30, 55, 5),
    ("step2ck-legacy", "Step 2 CK (before May 2026)", 8, 40, 60, 45, 15),
    ("self-assessment", "Self-assessment", 4, 40, 60, 45, 0),
    ("demo-4x20", "Demo: 4 × 20", 4, 20, 30, 30, 5),
    ("quick-2x10", "Quick practice: 2 × 10", 2, 10, 15, 10, 0),
)

# title, blueprint slug, description
EXAMS = (
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


@dataclass
class DemoResult:
    tags_created: int
    users_created: list[str]
    blueprints_created: int
    exams_created: int
    summary: ImportSummary


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
    files = [ImportFile(name, (DEMO_DIR / name).read_bytes()) for name in DEMO_FILES]
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
        if (bank.name, bank.description, bank.is_open_for_practice) != (
            BANK_NAME,
            BANK_DESCRIPTION,
            True,
        ):
            # The demo bank backs only public exams: it is practice material.
            bank.name, bank.description = BANK_NAME, BANK_DESCRIPTION
            bank.is_open_for_practice = True
            bank.save(update_fields=["name", "description", "is_open_for_practice"])
        bank.owners.add(instructor)
        summary = questions_import(bank=bank, files=files, format="json", now=now)

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
    return DemoResult(tags_created, users_created, blueprints_created, exams_created, summary)


class Command(BaseCommand):
    help = "Load the demo accounts, question bank, blueprints and public exams (idempotent)."

    def handle(self, *args, **options):
        try:
            result = demo_load(now=timezone.now())
        except ImportRejected as exc:
            raise CommandError(
                "the bundled demo questions did not import:\n" + "\n".join(exc.lines())
            ) from exc
        created = ", ".join(result.users_created) or "none (already present)"
        self.stdout.write(
            "\n".join(
                [
                    "",
                    "Mockboard demo loaded",
                    f"  questions: {result.summary}",
                    f"  outline tags created: {result.tags_created}; blueprints created: "
                    f"{result.blueprints_created}; exams created: {result.exams_created}",
                    f"  accounts created: {created}",
                    "  ------------------------------------------------------------",
                    f"  Open http://127.0.0.1:{os.environ.get('PORT', '8000')}/",
                    f"  Examinee:   username examinee     password {DEMO_PASSWORD}",
                    f"  Instructor: username instructor   password {DEMO_PASSWORD}",
                    "  (passwords are set only when the accounts are first created)",
                    "  ------------------------------------------------------------",
                    "",
                ]
            )
        )
