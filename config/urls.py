from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from config import observability, views

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("livez", views.livez, name="livez"),
    path("metrics", observability.metrics, name="metrics"),
    path("accounts/", include("accounts.urls")),
    path("questions/", include("questions.urls")),
    path("exams/", include("exams.urls")),
    # Every instructor page; it spells out its own /questions/ and /teach/ paths.
    path("", include("teach.urls")),
    path("analytics/", include("analytics.urls")),
    path("study/", include("study.urls")),
    path("admin/", admin.site.urls),
]

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
