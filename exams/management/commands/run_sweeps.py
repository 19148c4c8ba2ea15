import logging
import time

from django.core.management.base import BaseCommand
from django.utils import timezone

from exams.services import close_expired_blocks

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = (
        "Run the periodic sweeps in a loop. `make run` starts it when there is no broker "
        "(and so no Celery beat), so blocks still close on time in the embedded mode."
    )

    def add_arguments(self, parser):
        parser.add_argument("--every", type=float, default=15.0, help="seconds between sweeps")
        parser.add_argument("--once", action="store_true", help="sweep once and exit")

    def handle(self, *args, every: float, once: bool, **options):
        from analytics.tasks import sweep_missing_analytics

        while True:
            try:
                closed = close_expired_blocks(now=timezone.now())
                sweep_missing_analytics()
            except Exception:
                if once:
                    raise
                # One failed round (a locked database, say) must not stop the clock for good:
                # vanished examinees' blocks still have to close on time.
                logger.exception("sweep failed; trying again in %s s", every)
            else:
                if once:
                    self.stdout.write(f"closed {closed} attempts' expired blocks")
                    return
            time.sleep(every)
