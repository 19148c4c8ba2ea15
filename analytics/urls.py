from django.urls import path

from analytics import views

app_name = "analytics"

urlpatterns = [
    path("progress/", views.progress, name="progress"),
    path("attempts/<uuid:attempt_uuid>/review/", views.attempt_review, name="attempt_review"),
    path(
        "attempts/<uuid:attempt_uuid>/review/block/<int:number>/",
        views.block_review,
        name="block_review",
    ),
    path("attempts/<uuid:attempt_uuid>/report/", views.score_report, name="score_report"),
]
