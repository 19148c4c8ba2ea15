from django.db import models

from exams.models import Attempt, AttemptBlock
from questions.models import QuestionVersion, Tag


class BlockPerformance(models.Model):
    """Correct and total items per tag in one closed block; rebuilt from responses at will."""

    block = models.ForeignKey(AttemptBlock, on_delete=models.CASCADE, related_name="performance")
    attempt = models.ForeignKey(Attempt, on_delete=models.CASCADE, related_name="performance")
    tag = models.ForeignKey(Tag, on_delete=models.CASCADE, related_name="+")
    correct = models.PositiveIntegerField()
    total = models.PositiveIntegerField()
    computed_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["block", "tag"], name="blockperf_block_tag"),
            models.CheckConstraint(
                condition=models.Q(correct__lte=models.F("total")), name="blockperf_correct_le"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.block} · {self.tag}: {self.correct}/{self.total}"


class ItemStatistic(models.Model):
    """Cohort statistics of one question version over every closed block that delivered it."""

    version = models.OneToOneField(
        QuestionVersion, on_delete=models.CASCADE, related_name="statistic"
    )
    responses = models.PositiveIntegerField(default=0)
    answered = models.PositiveIntegerField(default=0)
    correct = models.PositiveIntegerField(default=0)
    # Count per option index, as a list aligned with the version's options.
    option_counts = models.JSONField(default=list)
    median_time_ms = models.PositiveIntegerField(null=True, blank=True)
    computed_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.version}: {self.correct}/{self.responses}"

    @property
    def p_value(self) -> float | None:
        return self.correct / self.responses if self.responses else None


class ItemStatisticDue(models.Model):
    """A question version whose cohort statistics must be recomputed.

    A closing block marks its versions here instead of recomputing them inline: the examinee's
    own results are ready at once, and the statistics of many blocks closing together are
    recomputed in one batch (analytics.tasks.refresh_item_statistics).
    """

    version = models.OneToOneField(
        QuestionVersion, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    queued_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"statistics due for {self.version_id}"
