import uuid

from django.conf import settings
from django.db import models

from exams.models import Attempt, AttemptBlock
from questions.models import Question, QuestionVersion, Tag


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


class KeyChange(models.Model):
    """One rescore of a question: the audit row (who, when, what) and the job that recomputes.

    The responses it moved are listed, so the change can be read back and its recomputation
    repeated; recomputing is a rebuild from stored responses, so running it twice is harmless.
    """

    class Kind(models.TextChoices):
        KEY = "key", "Key corrected"
        VOID = "void", "Item voided (credited to everyone)"
        RESTORE = "restore", "Void lifted"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Recomputing"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="key_changes")
    from_version = models.ForeignKey(QuestionVersion, on_delete=models.PROTECT, related_name="+")
    to_version = models.ForeignKey(QuestionVersion, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    old_key_index = models.PositiveSmallIntegerField()
    new_key_index = models.PositiveSmallIntegerField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField()
    # What moved: response ids and the closed blocks they sit in (the recomputation's scope).
    response_ids = models.JSONField(default=list)
    block_ids = models.JSONField(default=list)
    # Versions the responses were moved from: their item statistics are recomputed too.
    from_version_ids = models.JSONField(default=list)
    changed_count = models.PositiveIntegerField(default=0)
    attempts = models.ManyToManyField(Attempt, related_name="key_changes", blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    progress = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(progress__lte=models.F("total")), name="keychange_progress_le"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.question}: {self.get_kind_display()} ({self.status})"

    @property
    def response_count(self) -> int:
        return len(self.response_ids)

    @property
    def old_key_letter(self) -> str:
        return chr(ord("A") + self.old_key_index)

    @property
    def new_key_letter(self) -> str:
        return chr(ord("A") + self.new_key_index)

    @property
    def is_running(self) -> bool:
        return self.status in (self.Status.QUEUED, self.Status.RUNNING)
