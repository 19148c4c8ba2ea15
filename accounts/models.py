from decimal import Decimal

from django.contrib.auth.models import AbstractUser
from django.db import models


class User(AbstractUser):
    class Role(models.TextChoices):
        EXAMINEE = "examinee", "Examinee"
        INSTRUCTOR = "instructor", "Instructor"

    role = models.CharField(max_length=16, choices=Role.choices, default=Role.EXAMINEE)
    # Testing accommodations, as granted by a licensing board: more time per block and more
    # break time. They are copied onto an attempt when it starts, so a later change never
    # alters an exam in progress.
    time_multiplier = models.DecimalField(max_digits=3, decimal_places=2, default=Decimal("1.00"))
    extra_break_minutes = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(time_multiplier__gte=1) & models.Q(time_multiplier__lte=3),
                name="user_time_multiplier_range",
            ),
        ]

    @property
    def is_instructor(self) -> bool:
        return self.role == self.Role.INSTRUCTOR

    @property
    def is_examinee(self) -> bool:
        return self.role == self.Role.EXAMINEE
