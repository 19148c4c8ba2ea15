from django.contrib.auth.models import AbstractUser
from django.db import models


class User(AbstractUser):
    class Role(models.TextChoices):
        EXAMINEE = "examinee", "Examinee"
        INSTRUCTOR = "instructor", "Instructor"

    role = models.CharField(max_length=16, choices=Role.choices, default=Role.EXAMINEE)
    # Testing accommodations are not here: each instructor grants them for their own cohorts
    # (exams.models.Membership), so one instructor can never change another's exams.

    @property
    def is_instructor(self) -> bool:
        return self.role == self.Role.INSTRUCTOR

    @property
    def is_examinee(self) -> bool:
        return self.role == self.Role.EXAMINEE
