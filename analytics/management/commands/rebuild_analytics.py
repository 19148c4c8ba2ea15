from django.core.management.base import BaseCommand
from django.utils import timezone

from analytics import services


class Command(BaseCommand):
    help = (
        "Recompute every block's performance rows and every item statistic from the stored "
        "responses. Safe to run while the site is up; gives the same numbers as the per-block task."
    )

    def handle(self, *args, **options) -> None:
        result = services.analytics_rebuild(now=timezone.now())
        self.stdout.write(
            self.style.SUCCESS(
                f"Rebuilt analytics for {result['blocks']} closed blocks: "
                f"{result['performance_rows']} performance rows, "
                f"{result['item_statistics']} item statistics."
            )
        )
