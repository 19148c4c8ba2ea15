from __future__ import annotations

import hashlib
import uuid
from datetime import datetime

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models.functions import Lower


class User(AbstractUser):
    class Role(models.TextChoices):
        EXAMINEE = "examinee", "Examinee"
        INSTRUCTOR = "instructor", "Instructor"

    role = models.CharField(max_length=16, choices=Role.choices, default=Role.EXAMINEE)
    # The zone this user reads and enters times in (blank: the browser's, then UTC). On the
    # user row because every request loads that row anyway (exams/timezones.py).
    time_zone = models.CharField(max_length=64, blank=True)
    # Testing accommodations are not here: each instructor grants them for their own cohorts
    # (exams.models.Membership), so one instructor can never change another's exams.

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"
        constraints = [
            # One account per address: sign-in by email and invitations find at most one.
            models.UniqueConstraint(
                Lower("email"), condition=~models.Q(email=""), name="user_email_unique_ci"
            ),
        ]

    @property
    def is_instructor(self) -> bool:
        return self.role == self.Role.INSTRUCTOR

    @property
    def is_examinee(self) -> bool:
        return self.role == self.Role.EXAMINEE


def token_digest(token: str) -> str:
    """What is stored of a secret link token: a leaked table opens no link."""
    return hashlib.sha256(token.encode()).hexdigest()


class Invitation(models.Model):
    """An email address invited into a cohort, through a link that works once.

    The token exists only in the email: it is made when the message is sent (the claim on
    `sent_at`), and only its digest is kept. Sending again makes a new token, so an older link
    stops working.
    """

    class Source(models.TextChoices):
        INSTRUCTOR = "instructor", "Invited by the instructor"
        JOIN_LINK = "join_link", "Signed up through the join link"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    cohort = models.ForeignKey("exams.Cohort", on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()  # lower-cased by the services
    name = models.CharField(max_length=150, blank=True)
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.INSTRUCTOR)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    # A join-link sign-up chose these before the address was confirmed; the account is made
    # from them when the link is followed.
    username = models.CharField(max_length=150, blank=True)
    password_hash = models.CharField(max_length=128, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    base_url = models.CharField(max_length=200)
    token_hash = models.CharField(max_length=64, unique=True, null=True, blank=True)
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="invitations_accepted",
    )

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["cohort", "email"],
                condition=models.Q(accepted_at__isnull=True),
                name="invitation_one_open_per_cohort_email",
            ),
            models.CheckConstraint(
                condition=models.Q(email=Lower("email")), name="invitation_email_lower"
            ),
            models.CheckConstraint(
                # A sent link has a token until it is used (accepting spends it).
                condition=models.Q(sent_at__isnull=True)
                | (
                    models.Q(expires_at__gt=models.F("sent_at"))
                    & (models.Q(token_hash__isnull=False) | models.Q(accepted_at__isnull=False))
                ),
                name="invitation_sent_has_token",
            ),
            models.CheckConstraint(
                condition=models.Q(accepted_at__isnull=True) | models.Q(sent_at__isnull=False),
                name="invitation_accepted_was_sent",
            ),
        ]
        indexes = [models.Index(fields=["email", "created_at"])]

    def __str__(self) -> str:
        return f"{self.email} → {self.cohort}"

    def is_usable(self, now: datetime) -> bool:
        return (
            self.accepted_at is None
            and self.sent_at is not None
            and self.expires_at is not None
            and now < self.expires_at
        )

    def status(self, now: datetime) -> str:
        if self.accepted_at:
            return "joined"
        if self.expires_at and now >= self.expires_at:
            return "expired"
        return "invited"


class JoinLink(models.Model):
    """A cohort's shared join code. Anyone holding it may ask to join while it is on; turning it
    off (or making a new code) stops the old one at once."""

    cohort = models.OneToOneField(
        "exams.Cohort", on_delete=models.CASCADE, related_name="join_link"
    )
    code = models.CharField(max_length=32, unique=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.cohort}: {self.code}"


class PasswordReset(models.Model):
    """One request for a password-reset email. Kept (with the address that asked) to limit
    requests per email and per client address; `user` is empty when no account matched, and then
    nothing is sent. The link itself is Django's stateless token, made when the mail is sent."""

    email = models.EmailField()
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    base_url = models.CharField(max_length=200)
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["email", "created_at"]),
            models.Index(fields=["ip_address", "created_at"]),
        ]

    def __str__(self) -> str:
        return f"reset for {self.email} at {self.created_at:%Y-%m-%d %H:%M}"
