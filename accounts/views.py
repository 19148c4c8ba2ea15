"""Accounts pages: invitation links, join links, password reset (Django's views, our mail)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth import views as auth_views
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from accounts import services
from accounts.forms import JoinSignupForm, NewAccountForm, ResetRequestForm
from accounts.throttle import client_ip


def site_url(request: HttpRequest) -> str:
    """The origin the links in mail point at: this request's, which ALLOWED_HOSTS vouched for."""
    return request.build_absolute_uri("/").rstrip("/")


def _throttled(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/throttled.html", status=429)


# Invitations -----------------------------------------------------------------------------------


@never_cache
@require_http_methods(["GET", "POST"])
def invitation(request: HttpRequest, token: str) -> HttpResponse:
    now = timezone.now()
    found = services.invitation_for_token(token, now=now)
    if found is None:
        # Unknown, used and expired links answer alike.
        return render(request, "accounts/invitation_invalid.html", status=404)
    needs_account = services.invitation_needs_account(found)
    form = None
    if needs_account and not found.username:
        form = NewAccountForm(
            request.POST or None,
            email=found.email,
            initial={"username": found.email.split("@")[0]},
        )
    if request.method == "POST" and (form is None or form.is_valid()):
        try:
            user = services.invitation_accept(
                invitation=found,
                now=now,
                username=form.cleaned_data["username"] if form else "",
                password=form.cleaned_data["password1"] if form else "",
            )
        except ValidationError as exc:
            if form is not None and hasattr(exc, "error_dict"):
                form.add_error(None, exc.messages)
            else:
                return render(
                    request,
                    "accounts/invitation_invalid.html",
                    {"reason": " ".join(exc.messages)},
                    status=409,
                )
        else:
            if request.user.is_authenticated and request.user.pk != user.pk:
                logout(request)  # the link's account, not whoever used this browser before
            messages.success(
                request,
                f"You are in {found.cohort.name}. Sign in as {user.get_username()} "
                "(or with your email) to see its exams.",
            )
            if request.user.is_authenticated:
                return redirect("home")
            return redirect("accounts:login")
    return render(
        request,
        "accounts/invitation.html",
        {"invitation": found, "form": form, "needs_account": needs_account},
    )


# Join links ------------------------------------------------------------------------------------


@never_cache
@require_http_methods(["GET", "POST"])
def join(request: HttpRequest, code: str) -> HttpResponse:
    link = services.join_link_for_code(code)
    if link is None:
        raise Http404("This join link is not valid or has been turned off.")
    user = request.user
    form = None
    if not user.is_authenticated:
        form = JoinSignupForm(request.POST or None)
    if request.method == "POST":
        if user.is_authenticated:
            if not user.is_examinee:
                return render(request, "accounts/join.html", {"link": link}, status=403)
            try:
                services.cohort_join(join_link=link, user=user)
            except ValidationError as exc:
                messages.error(request, " ".join(exc.messages))
                return redirect("accounts:join", code)
            messages.success(request, f"You joined {link.cohort.name}.")
            return redirect("home")
        if form.is_valid():
            try:
                services.join_signup(
                    join_link=link,
                    username=form.cleaned_data["username"],
                    email=form.cleaned_data["email"],
                    password=form.cleaned_data["password1"],
                    ip_address=client_ip(request),
                    base_url=site_url(request),
                    now=timezone.now(),
                )
            except services.Throttled:
                return _throttled(request)
            return render(
                request,
                "accounts/join_check_email.html",
                {"link": link, "email": form.cleaned_data["email"]},
            )
    return render(request, "accounts/join.html", {"link": link, "form": form})


# Password reset: Django's views, with the request recorded and mailed by the worker -------------


class PasswordResetView(auth_views.PasswordResetView):
    template_name = "accounts/password_reset.html"
    form_class = ResetRequestForm
    success_url = reverse_lazy("accounts:password_reset_done")

    def form_valid(self, form):
        try:
            services.password_reset_request(
                email=form.cleaned_data["email"],
                ip_address=client_ip(self.request),
                base_url=site_url(self.request),
                now=timezone.now(),
            )
        except services.Throttled:
            return _throttled(self.request)
        return redirect(self.get_success_url())


_GET_POST = require_http_methods(["GET", "POST"])
password_reset = _GET_POST(PasswordResetView.as_view())
password_reset_done = require_http_methods(["GET"])(
    auth_views.PasswordResetDoneView.as_view(template_name="accounts/password_reset_done.html")
)
password_reset_confirm = _GET_POST(
    auth_views.PasswordResetConfirmView.as_view(
        template_name="accounts/password_reset_confirm.html",
        success_url=reverse_lazy("accounts:password_reset_complete"),
    )
)
password_reset_complete = require_http_methods(["GET"])(
    auth_views.PasswordResetCompleteView.as_view(
        template_name="accounts/password_reset_complete.html"
    )
)
