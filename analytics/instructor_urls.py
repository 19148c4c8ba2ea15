from django.urls import path

from analytics import instructor_views as views

app_name = "insights"

urlpatterns = [
    path("exams/<uuid:uuid>/", views.exam_stats, name="exam_stats"),
    path("exams/<uuid:uuid>/items.csv", views.exam_items_csv, name="exam_items_csv"),
    path("exams/<uuid:uuid>/attempts.csv", views.exam_attempts_csv, name="exam_attempts_csv"),
    path("banks/<uuid:uuid>/", views.bank_stats, name="bank_stats"),
    path("cohorts/<uuid:uuid>/", views.cohort_stats, name="cohort_stats"),
]
