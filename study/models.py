"""A student's study loop between exams: review cards scheduled by FSRS, and a plan to test day.

A card is one student's own copy of one question's schedule; what it shows (stem, options, key)
is always read from the question's current version, and only when exams/exposure.py allows.
"""

import uuid
from datetime import date

from django.conf import settings
from django.db import models

from questions.models import Question


class Card(models.Model):
    class Reason(models.TextChoices):
        MISSED = "missed", "Missed"
        CHANGED = "changed", "Correct after a change"
        MARKED = "marked", "Marked"
        ADDED = "added", "Added by you"

    class State(models.IntegerChoices):
        # The values of fsrs.State, so a card round-trips through the package unchanged.
        LEARNING = 1, "Learning"
        REVIEW = 2, "Review"
        RELEARNING = 3, "Relearning"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="study_cards"
    )
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="+")
    reason = models.CharField(max_length=16, choices=Reason.choices)
    # FSRS memory state, stored as the fsrs package's Card fields.
    state = models.PositiveSmallIntegerField(choices=State.choices, default=State.LEARNING)
    step = models.PositiveSmallIntegerField(null=True, blank=True)
    stability = models.FloatField(null=True, blank=True)
    difficulty = models.FloatField(null=True, blank=True)
    due_at = models.DateTimeField()
    last_reviewed_at = models.DateTimeField(null=True, blank=True)
    review_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["due_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "question"], name="card_one_per_question"),
            models.CheckConstraint(
                condition=models.Q(difficulty__isnull=True)
                | (models.Q(difficulty__gte=1) & models.Q(difficulty__lte=10)),
                name="card_difficulty_range",
            ),
        ]
        indexes = [models.Index(fields=["user", "due_at"])]

    def __str__(self) -> str:
        return f"{self.user} · {self.question}"


class CardReview(models.Model):
    """One rating of a card: the log FSRS would need to re-optimise, and the cohort counts."""

    class Rating(models.IntegerChoices):
        AGAIN = 1, "Again"
        HARD = 2, "Hard"
        GOOD = 3, "Good"
        EASY = 4, "Easy"

    card = models.ForeignKey(Card, on_delete=models.CASCADE, related_name="reviews")
    rating = models.PositiveSmallIntegerField(choices=Rating.choices)
    choice = models.PositiveSmallIntegerField(null=True, blank=True)
    is_correct = models.BooleanField(default=False)
    reviewed_at = models.DateTimeField()

    class Meta:
        ordering = ["reviewed_at", "id"]

    def __str__(self) -> str:
        return f"{self.card} · {self.get_rating_display()}"


class StudyPlan(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="study_plan"
    )
    test_date = models.DateField()
    hours_per_day = models.DecimalField(max_digits=3, decimal_places=1)
    start_date = models.DateField()
    # The day the future part of the schedule was last computed: a day missed after it
    # triggers a re-plan.
    built_on = models.DateField()
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(hours_per_day__gt=0) & models.Q(hours_per_day__lte=16),
                name="plan_hours_range",
            ),
            models.CheckConstraint(
                condition=models.Q(test_date__gt=models.F("start_date")),
                name="plan_test_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} → {self.test_date}"

    def days_left(self, today: date) -> int:
        return max(0, (self.test_date - today).days)


class PlanDay(models.Model):
    class Assessment(models.TextChoices):
        NONE = "", "None"
        SHORT = "short", "120-item self-assessment"
        FULL = "full", "Full-length self-assessment"

    plan = models.ForeignKey(StudyPlan, on_delete=models.CASCADE, related_name="days")
    day = models.DateField()
    target_questions = models.PositiveIntegerField(default=0)
    # {"medicine": 20, "surgery": 8, ...}: discipline slug to new questions that day.
    areas = models.JSONField(default=dict, blank=True)
    assessment = models.CharField(
        max_length=8, choices=Assessment.choices, default=Assessment.NONE, blank=True
    )
    assessment_items = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["plan", "day"]
        constraints = [models.UniqueConstraint(fields=["plan", "day"], name="planday_unique")]

    def __str__(self) -> str:
        return f"{self.plan} · {self.day}"
