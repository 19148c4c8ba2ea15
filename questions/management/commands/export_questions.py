"""`manage.py export_questions --bank SLUG --format FMT [--output PATH]`."""

import sys

from django.core.management.base import BaseCommand, CommandError

from questions.formats import EXPORT_FORMATS
from questions.models import Bank
from questions.services import is_binary_export, questions_export


class Command(BaseCommand):
    help = "Export a bank's current questions (stdout unless --output; qti needs --output)."

    def add_arguments(self, parser):
        parser.add_argument("--bank", required=True, metavar="SLUG")
        parser.add_argument("--format", required=True, choices=EXPORT_FORMATS)
        parser.add_argument("--output", metavar="PATH")

    def handle(self, *args, **options):
        bank = Bank.objects.filter(slug=options["bank"]).first()
        if bank is None:
            raise CommandError(f"no bank with slug {options['bank']!r}")
        fmt, output = options["format"], options["output"]
        if is_binary_export(fmt):
            if not output:
                raise CommandError(f"--format {fmt} writes a zip: give --output PATH")
            with open(output, "wb") as handle:
                count = questions_export(bank=bank, format=fmt, out=handle)
        elif output:
            with open(output, "w", encoding="utf-8", newline="") as handle:
                count = questions_export(bank=bank, format=fmt, out=handle)
        else:
            count = questions_export(bank=bank, format=fmt, out=self.stdout)
        if output:
            sys.stderr.write(f"exported {count} questions to {output}\n")
