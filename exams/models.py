import uuid
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.urls import reverse

from questions.models import Bank, Question, QuestionVersion


class Blueprint(models.Model):
    """The shape of an exam day: blocks, items, minutes and the break pool."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    slug = models.SlugField(max_length=80, unique=True)
    name = models.CharField(max_length=120)
    block_count = models.PositiveSmallIntegerField()
    items_per_block = models.PositiveSmallIntegerField()
    block_minutes = models.PositiveSmallIntegerField()
    break_minutes = models.PositiveSmallIntegerField(default=0)
    tutorial_minutes = models.PositiveSmallIntegerField(default=0)
    # Presets have no owner and cannot be edited by instructors.
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE
    )

    class Meta:
        ordering = ["owner_id", "name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(block_count__gte=1) & models.Q(block_count__lte=40),
                name="blueprint_block_count",
            ),
            models.CheckConstraint(
                condition=models.Q(items_per_block__gte=1) & models.Q(items_per_block__lte=60),
                name="blueprint_items_per_block",
            ),
            models.CheckConstraint(
                condition=models.Q(block_minutes__gte=1) & models.Q(block_minutes__lte=240),
                name="blueprint_block_minutes",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_preset(self) -> bool:
        return self.owner_id is None

    @property
    def total_items(self) -> int:
        return self.block_count * self.items_per_block

    @property
    def day_minutes(self) -> int:
        return self.block_count * self.block_minutes + self.break_minutes + self.tutorial_minutes


class Exam(models.Model):
    class Mode(models.TextChoices):
        TIMED = "timed", "Timed"
        TUTOR = "tutor", "Tutor"
        UNTIMED = "untimed", "Untimed"

    class Assembly(models.TextChoices):
        PROPORTIONS = "proportions", "Drawn by tag proportions"
        FIXED = "fixed", "Fixed form"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="exams_owned"
    )
    blueprint = models.ForeignKey(Blueprint, on_delete=models.PROTECT)
    banks = models.ManyToManyField(Bank, related_name="exams")
    mode = models.CharField(max_length=16, choices=Mode.choices, default=Mode.TIMED)
    assembly = models.CharField(
        max_length=16, choices=Assembly.choices, default=Assembly.PROPORTIONS
    )
    # {"medicine": 60, "surgery": 25, ...}; tag slugs to relative weights.
    discipline_weights = models.JSONField(default=dict, blank=True)
    system_weights = models.JSONField(default=dict, blank=True)
    # Open to every examinee (the demo exam); otherwise only through an assignment.
    is_public = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    # An exam with attempts is archived rather than deleted: its attempts and scores stay,
    # but nobody can start it again until it is restored.
    archived_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("exams:exam_detail", args=[self.uuid])

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None


class FixedItem(models.Model):
    exam = models.ForeignKey(Exam, on_delete=models.CASCADE, related_name="fixed_items")
    block_number = models.PositiveSmallIntegerField()
    position = models.PositiveSmallIntegerField()
    question = models.ForeignKey(Question, on_delete=models.PROTECT)

    class Meta:
        ordering = ["exam", "block_number", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["exam", "block_number", "position"], name="fixeditem_slot"
            ),
            models.UniqueConstraint(fields=["exam", "question"], name="fixeditem_no_repeat"),
        ]

    def __str__(self) -> str:
        return f"{self.exam} · block {self.block_number} #{self.position}"


class Cohort(models.Model):
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="cohorts_owned"
    )
    name = models.CharField(max_length=200)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, related_name="cohorts", blank=True, through="Membership"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # A cohort whose examinees sat an exam is archived rather than deleted, so their attempts
    # keep the assignment they were made under.
    archived_at = models.DateTimeField(null=True, blank=True)
    # The zone its windows are entered and shown in; blank means the owner's zone.
    time_zone = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None


class Membership(models.Model):
    """An examinee in a cohort, with the accommodations that cohort's owner granted.

    Accommodations live here, not on the user: each instructor grants time only for the exams
    they assign through their own cohorts, so no other instructor can stretch or reset them.
    They are copied onto an attempt when it starts, so a later change never alters an exam in
    progress; leaving the cohort drops them.
    """

    cohort = models.ForeignKey(Cohort, on_delete=models.CASCADE)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    time_multiplier = models.DecimalField(max_digits=3, decimal_places=2, default=Decimal("1.00"))
    extra_break_minutes = models.PositiveIntegerField(default=0)

    class Meta:
        # The table of the plain many-to-many this replaced, so existing members stay; its
        # unique index was created as unique_together, and keeping that form keeps its name.
        db_table = "exams_cohort_members"
        unique_together = [("cohort", "user")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(time_multiplier__gte=1) & models.Q(time_multiplier__lte=3),
                name="membership_time_multiplier_range",
            ),
            models.CheckConstraint(
                condition=models.Q(extra_break_minutes__lte=240),
                name="membership_extra_break_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.cohort}"


class Assignment(models.Model):
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    exam = models.ForeignKey(Exam, on_delete=models.CASCADE, related_name="assignments")
    cohort = models.ForeignKey(Cohort, on_delete=models.CASCADE, related_name="assignments")
    opens_at = models.DateTimeField()
    closes_at = models.DateTimeField()
    max_attempts = models.PositiveSmallIntegerField(default=1)

    class Meta:
        ordering = ["-opens_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(closes_at__gt=models.F("opens_at")),
                name="assignment_window",
            ),
            models.CheckConstraint(
                condition=models.Q(max_attempts__gte=1), name="assignment_attempts"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.exam} → {self.cohort}"

    def is_open(self, now: datetime) -> bool:
        return self.opens_at <= now < self.closes_at


class AssignmentOverride(models.Model):
    """One examinee's exception to an assignment: a later close, more attempts, more time.

    Read when an attempt starts and summarised onto it, so changing or removing an override
    later never alters an attempt already started.
    """

    assignment = models.ForeignKey(Assignment, on_delete=models.CASCADE, related_name="overrides")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="assignment_overrides"
    )
    # Null keeps the assignment's own close.
    closes_at = models.DateTimeField(null=True, blank=True)
    extra_attempts = models.PositiveSmallIntegerField(default=0)
    extra_block_minutes = models.PositiveSmallIntegerField(default=0)
    extra_break_minutes = models.PositiveSmallIntegerField(default=0)
    reason = models.CharField(max_length=200, blank=True)
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["assignment", "user"]
        constraints = [
            models.UniqueConstraint(fields=["assignment", "user"], name="override_one_per_user"),
            models.CheckConstraint(
                condition=models.Q(extra_attempts__lte=20), name="override_extra_attempts"
            ),
            models.CheckConstraint(
                condition=models.Q(extra_block_minutes__lte=240), name="override_extra_block"
            ),
            models.CheckConstraint(
                condition=models.Q(extra_break_minutes__lte=240), name="override_extra_break"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} on {self.assignment}"

    def closes_for_user(self) -> datetime:
        return (
            max(self.closes_at, self.assignment.closes_at)
            if self.closes_at
            else (self.assignment.closes_at)
        )

    @property
    def summary(self) -> str:
        """What the override grants, in words, as frozen onto an attempt's record."""
        parts = []
        if self.closes_at and self.closes_at > self.assignment.closes_at:
            parts.append(f"window to {self.closes_at:%Y-%m-%d %H:%M} UTC")
        if self.extra_attempts:
            parts.append(f"+{self.extra_attempts} attempt{'s' if self.extra_attempts > 1 else ''}")
        if self.extra_block_minutes:
            parts.append(f"+{self.extra_block_minutes} min per block")
        if self.extra_break_minutes:
            parts.append(f"+{self.extra_break_minutes} min break")
        return "; ".join(parts) or "no change"


class Attempt(models.Model):
    """One examinee's sitting of an exam, or one custom practice block: the server's clock.

    The exam day is a fixed window from the start: blocks, breaks and the tutorial all spend it.
    Time not used by the tutorial or by a block ended early therefore becomes break time, and a
    break overrun shortens what is left of the day, exactly as on the real exam.
    """

    class Kind(models.TextChoices):
        EXAM = "exam", "Exam"
        PRACTICE = "practice", "Practice block"

    class State(models.TextChoices):
        TUTORIAL = "tutorial", "Tutorial"
        IN_BLOCK = "in_block", "In a block"
        BETWEEN_BLOCKS = "between_blocks", "Between blocks"
        FINISHED = "finished", "Finished"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="attempts"
    )
    exam = models.ForeignKey(
        Exam, null=True, blank=True, on_delete=models.CASCADE, related_name="attempts"
    )
    assignment = models.ForeignKey(
        Assignment, null=True, blank=True, on_delete=models.SET_NULL, related_name="attempts"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.EXAM)
    title = models.CharField(max_length=200)
    mode = models.CharField(max_length=16, choices=Exam.Mode.choices, default=Exam.Mode.TIMED)
    state = models.CharField(max_length=16, choices=State.choices, default=State.TUTORIAL)
    # Copied from the blueprint and the accommodations when the attempt starts.
    block_count = models.PositiveSmallIntegerField()
    block_seconds = models.PositiveIntegerField(null=True, blank=True)
    break_seconds = models.PositiveIntegerField(default=0)
    tutorial_seconds = models.PositiveIntegerField(default=0)
    time_multiplier = models.DecimalField(max_digits=3, decimal_places=2, default=Decimal("1"))
    started_at = models.DateTimeField()
    tutorial_ends_at = models.DateTimeField(null=True, blank=True)
    day_deadline_at = models.DateTimeField(null=True, blank=True)
    break_started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    last_activity_at = models.DateTimeField()
    # Highest client sequence number applied; a new tab or device starts above it.
    last_seq = models.BigIntegerField(default=0)
    # The per-examinee override in force when the attempt started, in words (frozen).
    override_summary = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-started_at"]
        indexes = [
            models.Index(fields=["user", "-started_at"]),
            models.Index(fields=["state", "day_deadline_at"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(block_count__gte=1), name="attempt_block_count"
            ),
            models.CheckConstraint(
                condition=~models.Q(state="finished") | models.Q(finished_at__isnull=False),
                name="attempt_finished_has_time",
            ),
            # One open attempt per exam per examinee (exams/exposure.py relies on it: a
            # finished sitting's review must not hold the key to one still open).
            models.UniqueConstraint(
                fields=["user", "exam"],
                condition=models.Q(exam__isnull=False) & ~models.Q(state="finished"),
                name="attempt_one_open_per_exam",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} · {self.user}"

    def get_absolute_url(self) -> str:
        return reverse("exams:attempt", args=[self.uuid])

    @property
    def is_timed(self) -> bool:
        return self.block_seconds is not None

    @property
    def is_finished(self) -> bool:
        return self.state == self.State.FINISHED

    def day_remaining(self, now: datetime) -> timedelta | None:
        if self.day_deadline_at is None:
            return None
        return max(self.day_deadline_at - now, timedelta(0))

    def break_remaining_seconds(self, now: datetime, blocks_left: int) -> int | None:
        """Break time still available: what the day has left beyond the blocks still to sit.

        Negative once a break has overrun, which is then taken off the last block.
        """
        if self.day_deadline_at is None or self.block_seconds is None:
            return None
        day_left = (self.day_deadline_at - now).total_seconds()
        return int(day_left - blocks_left * self.block_seconds)


class AttemptBlock(models.Model):
    class State(models.TextChoices):
        PENDING = "pending", "Not started"
        ACTIVE = "active", "In progress"
        CLOSED = "closed", "Closed"

    class CloseReason(models.TextChoices):
        EXPIRED = "expired", "Time expired"
        ENDED = "ended", "Ended by examinee"
        DAY_ENDED = "day_ended", "Exam day ended"
        NOT_TAKEN = "not_taken", "Not taken (exam ended)"

    class AnalyticsState(models.TextChoices):
        NOT_DUE = "not_due", "Not due"
        PENDING = "pending", "Pending"
        CLAIMED = "claimed", "Being computed"
        DONE = "done", "Done"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    attempt = models.ForeignKey(Attempt, on_delete=models.CASCADE, related_name="blocks")
    number = models.PositiveSmallIntegerField()
    state = models.CharField(max_length=16, choices=State.choices, default=State.PENDING)
    started_at = models.DateTimeField(null=True, blank=True)
    deadline_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    close_reason = models.CharField(max_length=16, choices=CloseReason.choices, blank=True)
    # The item the examinee is on, and since when, so time per item is measured by the server.
    current_position = models.PositiveSmallIntegerField(default=1)
    current_since = models.DateTimeField(null=True, blank=True)
    analytics_state = models.CharField(
        max_length=16, choices=AnalyticsState.choices, default=AnalyticsState.NOT_DUE
    )
    analytics_claimed_at = models.DateTimeField(null=True, blank=True)
    analytics_done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["attempt", "number"]
        constraints = [
            models.UniqueConstraint(fields=["attempt", "number"], name="block_number"),
            models.CheckConstraint(
                condition=~models.Q(state="closed") | models.Q(closed_at__isnull=False),
                name="block_closed_has_time",
            ),
            models.CheckConstraint(
                condition=models.Q(state="pending") | models.Q(started_at__isnull=False),
                name="block_started_has_time",
            ),
        ]
        indexes = [
            # The expiry sweep scans active blocks by deadline.
            models.Index(
                fields=["deadline_at"],
                condition=models.Q(state="active"),
                name="block_active_deadline",
            ),
            models.Index(
                fields=["analytics_state"],
                condition=models.Q(analytics_state__in=["pending", "claimed"]),
                name="block_analytics_due",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.attempt} · block {self.number}"

    @property
    def is_closed(self) -> bool:
        return self.state == self.State.CLOSED

    def remaining_seconds(self, now: datetime) -> int | None:
        if self.deadline_at is None:
            return None
        if self.state == self.State.CLOSED:
            return 0
        return max(0, int((self.deadline_at - now).total_seconds()))


class Response(models.Model):
    """One delivered item in a block, and everything the examinee did with it."""

    attempt = models.ForeignKey(Attempt, on_delete=models.CASCADE, related_name="responses")
    block = models.ForeignKey(AttemptBlock, on_delete=models.CASCADE, related_name="responses")
    position = models.PositiveSmallIntegerField()
    question = models.ForeignKey(Question, on_delete=models.PROTECT, related_name="responses")
    version = models.ForeignKey(QuestionVersion, on_delete=models.PROTECT, related_name="+")
    choice = models.PositiveSmallIntegerField(null=True, blank=True)
    first_choice = models.PositiveSmallIntegerField(null=True, blank=True)
    change_count = models.PositiveSmallIntegerField(default=0)
    is_marked = models.BooleanField(default=False)
    struck = models.JSONField(default=list, blank=True)
    # [[start, end], ...] character offsets into the stem's text.
    highlights = models.JSONField(default=list, blank=True)
    note = models.TextField(blank=True, max_length=5000)
    # Sequential sets: once the examinee moves past an item its answer can no longer change.
    is_locked = models.BooleanField(default=False)
    # Per-field client sequence numbers: a save applies only if it is newer than the last one
    # applied to that field, so retries and reordered offline replays are harmless.
    field_seqs = models.JSONField(default=dict, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    time_spent_ms = models.PositiveIntegerField(default=0)
    # Seconds left on the block clock when the final answer was given ("why you missed").
    answered_with_seconds_left = models.IntegerField(null=True, blank=True)

    class Meta:
        ordering = ["block", "position"]
        constraints = [
            models.UniqueConstraint(fields=["block", "position"], name="response_position"),
            # No item repeats within an exam.
            models.UniqueConstraint(fields=["attempt", "question"], name="response_question"),
        ]
        indexes = [models.Index(fields=["version"])]

    def __str__(self) -> str:
        return f"{self.block} · item {self.position}"

    @property
    def is_answered(self) -> bool:
        return self.choice is not None

    @property
    def is_correct(self) -> bool:
        return self.version.credits(self.choice)
