from django.contrib.auth import views as auth_views
from django.urls import path
from django.views.decorators.http import require_http_methods

from accounts import views
from accounts.forms import LoginForm

app_name = "accounts"

login_view = auth_views.LoginView.as_view(
    template_name="accounts/login.html",
    authentication_form=LoginForm,
    redirect_authenticated_user=True,
)

urlpatterns = [
    # FormView would also accept PUT; sign-in is GET and POST only.
    path("login/", require_http_methods(["GET", "POST"])(login_view), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("invitations/<str:token>/", views.invitation, name="invitation"),
    path("join/<str:code>/", views.join, name="join"),
    path("password-reset/", views.password_reset, name="password_reset"),
    path("password-reset/sent/", views.password_reset_done, name="password_reset_done"),
    path(
        "password-reset/<uidb64>/<token>/",
        views.password_reset_confirm,
        name="password_reset_confirm",
    ),
    path("password-reset/done/", views.password_reset_complete, name="password_reset_complete"),
]
