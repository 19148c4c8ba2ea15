"""`manage.py import_questions PATH... --bank SLUG --owner USERNAME`: all or nothing, one
summary line. A new bank needs an owner, or no instructor could ever see it."""

import sys
from pathlib import Path

from django.contrib.auth import get_user_model
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
        parser.add_argument(
            "--owner",
            metavar="USERNAME",
            help="The instructor who owns the bank: required for a new bank; added to an "
            "existing one.",
        )
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
        owner = None
        if options["owner"]:
            owner = (
                get_user_model().objects.filter(username=options["owner"], is_active=True).first()
            )
            if owner is None or not getattr(owner, "is_instructor", False):
                raise CommandError(f"--owner: no active instructor named {options['owner']!r}")
        elif bank is None and not dry_run:
            raise CommandError(
                f"--owner USERNAME is required to create the bank {options['bank']!r}: a bank "
                "without an owner is invisible to every instructor"
            )
        if bank is None and not dry_run:
            bank = bank_create(slug=options["bank"], name=options["bank"], owner=owner)
        elif bank is not None and owner is not None and not dry_run:
            bank.owners.add(owner)
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
