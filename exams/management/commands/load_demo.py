"""`manage.py load_demo`: the demo accounts, bank, blueprints and public exams. Idempotent.

Running it again changes nothing that exists (passwords included) and imports only questions
whose content changed, as new versions. exams/demo.py does the work.
"""

from __future__ import annotations

import os

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from exams.demo import DEMO_PASSWORD, demo_load
from questions.services import ImportRejected


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
                    f"{result.blueprints_created}; exams created: {result.exams_created}; "
                    f"questions retired by the key review: {result.retired}",
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
