"""`manage.py import_questions PATH... --bank SLUG`: all or nothing, one summary line."""

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from questions.formats import IMPORT_FORMATS
from questions.importing import ImportFile
from questions.models import Bank
from questions.services import ImportRejected, bank_create, questions_import


class Command(BaseCommand):
    help = "Import questions from files into a bank (created if missing). Nothing is written on any error."

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="+", metavar="PATH")
        parser.add_argument("--bank", required=True, metavar="SLUG")
        parser.add_argument("--format", default="auto", choices=IMPORT_FORMATS)
        parser.add_argument("--dry-run", action="store_true")
        parser.add_argument("--skip-unsupported", action="store_true")

    def handle(self, *args, **options):
        files = []
        for raw in options["paths"]:
            path = Path(raw)
            try:
                files.append(
                    ImportFile(
                        path.name if len(options["paths"]) == 1 else str(path), path.read_bytes()
                    )
                )
            except OSError as exc:
                self.stderr.write(f"{raw}:1: cannot read the file ({exc.strerror})")
                sys.exit(1)
        bank = Bank.objects.filter(slug=options["bank"]).first()
        dry_run = options["dry_run"]
        if bank is None and not dry_run:
            bank = bank_create(slug=options["bank"], name=options["bank"], owner=None)
        try:
            if bank is None:
                # A dry run never creates the bank: count against an empty one.
                bank = Bank(slug=options["bank"], name=options["bank"])
            summary = questions_import(
                bank=bank,
                files=files,
                format=options["format"],
                skip_unsupported=options["skip_unsupported"],
                now=timezone.now(),
                dry_run=dry_run,
            )
        except ImportRejected as exc:
            for line in exc.lines():
                self.stderr.write(line)
            sys.exit(1)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        line = str(summary)
        if dry_run:
            line += " (dry run: nothing was written)"
        self.stdout.write(line)
