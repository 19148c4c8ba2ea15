"""Accounts: invitations into a cohort, join links, sign-ups through them, password resets.

Nothing here tells the caller whether an address already has an account: an instructor's
invitation, a join-link sign-up and a reset request all answer the same whatever the address.
Only the email itself, read by the address's owner, can say more.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from accounts import mail
from accounts.models import Invitation, JoinLink, PasswordReset, token_digest
from accounts.roster import Invitee
from exams.models import Cohort

User = get_user_model()


class Throttled(Exception):
    """Too many mail requests from one client address."""


def _account_for_email(email: str):
    return User.objects.filter(email__iexact=email).first()


def _queue_invitation(invitation: Invitation) -> None:
    from accounts.tasks import send_invitation

    send_invitation.delay_on_commit(invitation.pk)


# Invitations -----------------------------------------------------------------------------------


@transaction.atomic
def invitations_create(
    *, cohort: Cohort, invited_by, invitees: Iterable[Invitee], base_url: str, now: datetime
) -> int:
    """Invite each address into the cohort and queue its email; the count of addresses handled.

    Every address gets the same treatment, whether or not it has an account: the link it is
    sent decides at acceptance (a new account, or the existing examinee enrolled). Inviting an
    address again replaces its open invitation, so only the newest link works.
    """
    invitees = list(invitees)
    cohort = Cohort.objects.select_for_update().get(pk=cohort.pk)
    for invitee in invitees:
        invitation = (
            Invitation.objects.select_for_update()
            .filter(cohort=cohort, email=invitee.email, accepted_at__isnull=True)
            .first()
        )
        if invitation is None:
            invitation = Invitation(cohort=cohort, email=invitee.email)
        invitation.name = invitee.name
        invitation.source = Invitation.Source.INSTRUCTOR
        invitation.invited_by = invited_by
        invitation.username = invitation.password_hash = ""
        invitation.base_url = base_url
        invitation.created_at = now
        invitation.sent_at = invitation.expires_at = invitation.token_hash = None
        invitation.save()
        _queue_invitation(invitation)
    return len(invitees)


def invitation_send(*, invitation_id: int, now: datetime) -> bool:
    """Send an invitation's email once; False when it was already sent (or accepted).

    The claim is the conditional UPDATE on `sent_at`, which also stores the new token's digest,
    so a redelivered task sends nothing. A failed send releases the claim (for the retry).
    """
    token = secrets.token_urlsafe(32)
    digest = token_digest(token)
    expires_at = now + timedelta(days=settings.INVITATION_DAYS)
    claimed = Invitation.objects.filter(
        pk=invitation_id, sent_at__isnull=True, accepted_at__isnull=True
    ).update(sent_at=now, token_hash=digest, expires_at=expires_at)
    if not claimed:
        return False
    invitation = Invitation.objects.select_related("cohort", "cohort__owner").get(pk=invitation_id)
    link = invitation.base_url.rstrip("/") + reverse("accounts:invitation", args=[token])
    try:
        mail.send(
            to=invitation.email,
            template="invitation",
            context={"invitation": invitation, "link": link, "expires_at": expires_at},
        )
    except Exception:
        Invitation.objects.filter(pk=invitation_id, token_hash=digest).update(
            sent_at=None, token_hash=None, expires_at=None
        )
        raise
    return True


def invitation_for_token(token: str, *, now: datetime) -> Invitation | None:
    """The usable invitation behind a link, or None (unknown, used or expired alike)."""
    invitation = (
        Invitation.objects.select_related("cohort").filter(token_hash=token_digest(token)).first()
    )
    return invitation if invitation and invitation.is_usable(now) else None


def _enrol(*, cohort: Cohort, user) -> None:
    if not (user.is_active and user.is_examinee):
        # An instructor's (or a closed) account is never made an examinee of a cohort.
        raise ValidationError("This account cannot join a cohort as an examinee.")
    # Adding a member twice keeps their membership, and so their accommodations.
    cohort.members.add(user)


@transaction.atomic
def invitation_accept(
    *, invitation: Invitation, now: datetime, username: str = "", password: str = ""
):
    """Use an invitation, once: enrol the address's account, or make one and enrol it.

    A new account takes `username` and `password` (checked by the caller's form), or those a
    join-link sign-up chose. Returns the account.
    """
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if not invitation.is_usable(now):
        raise ValidationError("This link has expired or was already used.")
    cohort = Cohort.objects.select_for_update().get(pk=invitation.cohort_id)
    user = _account_for_email(invitation.email)
    if user is None:
        username = username or invitation.username
        if not username or not (password or invitation.password_hash):
            raise ValidationError("Choose a username and a password.")
        if User.objects.filter(username__iexact=username).exists():
            raise ValidationError({"username": "That username is taken; choose another."})
        user = User(
            username=username,
            email=invitation.email,
            first_name=invitation.name,
            role=User.Role.EXAMINEE,
        )
        if password:
            user.set_password(password)
        else:
            user.password = invitation.password_hash
        try:
            with transaction.atomic():
                user.save()
        except IntegrityError:
            raise ValidationError("That account could not be made; ask for a new link.") from None
    _enrol(cohort=cohort, user=user)
    invitation.accepted_at = now
    invitation.user = user
    invitation.token_hash = None  # the link is spent
    invitation.save(update_fields=["accepted_at", "user", "token_hash"])
    return user


def invitation_needs_account(invitation: Invitation) -> bool:
    """Whether following this link makes a new account (asked only by the link's holder)."""
    return _account_for_email(invitation.email) is None


# Join links ------------------------------------------------------------------------------------


@transaction.atomic
def join_link_set(*, cohort: Cohort, action: str, now: datetime) -> JoinLink:
    """Turn a cohort's join link on or off, or replace its code (the old one stops working)."""
    if action not in {"enable", "disable", "regenerate"}:
        raise ValidationError("Unknown action.")
    link = JoinLink.objects.select_for_update().filter(cohort=cohort).first()
    if link is None:
        link = JoinLink(cohort=cohort, code=secrets.token_urlsafe(9), created_at=now)
    if action == "regenerate":
        link.code = secrets.token_urlsafe(9)
        link.created_at = now
    link.is_active = action != "disable"
    link.save()
    return link


def join_link_for_code(code: str) -> JoinLink | None:
    return (
        JoinLink.objects.select_related("cohort", "cohort__owner")
        .filter(code=code, is_active=True)
        .first()
    )


@transaction.atomic
def cohort_join(*, join_link: JoinLink, user) -> None:
    link = JoinLink.objects.select_for_update().get(pk=join_link.pk)
    if not link.is_active:
        raise ValidationError("This join link has been turned off.")
    _enrol(cohort=link.cohort, user=user)


def _check_mail_rate(*, recent: Q, email: str, ip_address: str | None, model, now) -> bool:
    """False when the address has had its share of mail this hour (send nothing, say the same);
    Throttled when the client has asked too often."""
    since = now - timedelta(hours=1)
    rows = model.objects.filter(recent, created_at__gte=since)
    if ip_address and rows.filter(ip_address=ip_address).count() >= (
        settings.MAIL_REQUEST_ADDRESS_LIMIT
    ):
        raise Throttled
    return rows.filter(email=email).count() < settings.MAIL_REQUEST_EMAIL_LIMIT


@transaction.atomic
def join_signup(
    *,
    join_link: JoinLink,
    username: str,
    email: str,
    password: str,
    ip_address: str | None,
    base_url: str,
    now: datetime,
) -> None:
    """Ask to join through the link with a new account; the account is made when the emailed
    link is followed, so an address that already has an account is never told so here."""
    link = JoinLink.objects.select_for_update().get(pk=join_link.pk)
    if not link.is_active:
        raise ValidationError("This join link has been turned off.")
    email = email.lower()
    source = Q(source=Invitation.Source.JOIN_LINK)
    if not _check_mail_rate(
        recent=source, email=email, ip_address=ip_address, model=Invitation, now=now
    ):
        return
    # A sign-up never replaces an instructor's open invitation for the same address.
    if Invitation.objects.filter(
        cohort=link.cohort, email=email, accepted_at__isnull=True
    ).exists():
        return
    invitation = Invitation.objects.create(
        cohort=link.cohort,
        email=email,
        source=Invitation.Source.JOIN_LINK,
        username=username,
        password_hash=make_password(password),
        ip_address=ip_address,
        base_url=base_url,
        created_at=now,
    )
    _queue_invitation(invitation)


# Password resets -------------------------------------------------------------------------------


@transaction.atomic
def password_reset_request(
    *, email: str, ip_address: str | None, base_url: str, now: datetime
) -> PasswordReset:
    """Record a reset request and queue its email, if the address has an account that may
    reset and has not had its share of resets this hour. The caller says the same either way."""
    email = email.lower()
    # Every request is kept, even one past the per-email limit, so it counts for its address.
    within_limit = _check_mail_rate(
        recent=Q(), email=email, ip_address=ip_address, model=PasswordReset, now=now
    )
    user = (
        User.objects.filter(email__iexact=email, is_active=True)
        # An unusable password (UNUSABLE_PASSWORD_PREFIX): nothing to reset.
        .exclude(password__startswith="!")  # noqa: S106
        .first()
        if within_limit
        else None
    )
    reset = PasswordReset.objects.create(
        email=email, ip_address=ip_address, user=user, base_url=base_url, created_at=now
    )
    if user is not None:
        from accounts.tasks import send_password_reset

        send_password_reset.delay_on_commit(reset.pk)
    return reset


def password_reset_send(*, reset_id: int, now: datetime) -> bool:
    """Send a reset email once (the claim on `sent_at`); the link is Django's token, made now."""
    claimed = PasswordReset.objects.filter(
        pk=reset_id, sent_at__isnull=True, user__isnull=False
    ).update(sent_at=now)
    if not claimed:
        return False
    reset = PasswordReset.objects.select_related("user").get(pk=reset_id)
    user = reset.user
    path = reverse(
        "accounts:password_reset_confirm",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
        },
    )
    try:
        mail.send(
            to=user.email,
            template="password_reset",
            context={"user": user, "link": reset.base_url.rstrip("/") + path},
        )
    except Exception:
        PasswordReset.objects.filter(pk=reset_id).update(sent_at=None)
        raise
    return True
