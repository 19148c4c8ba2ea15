from django.urls import path

from exams import instructor_views as views

app_name = "teach"

urlpatterns = [
    path("exams/", views.exam_list, name="exam_list"),
    path("exams/new/", views.exam_create, name="exam_create"),
    path("exams/<uuid:exam_uuid>/", views.exam_detail, name="exam_detail"),
    path("exams/<uuid:exam_uuid>/form/", views.fixed_form_edit, name="fixed_form_edit"),
    path(
        "exams/<uuid:exam_uuid>/form/autofill/",
        views.fixed_form_autofill,
        name="fixed_form_autofill",
    ),
    path("blueprints/new/", views.blueprint_create, name="blueprint_create"),
    path("cohorts/", views.cohort_list, name="cohort_list"),
    path("cohorts/new/", views.cohort_create, name="cohort_create"),
    path("cohorts/<uuid:cohort_uuid>/", views.cohort_detail, name="cohort_detail"),
    path(
        "cohorts/<uuid:cohort_uuid>/members/", views.cohort_members_add, name="cohort_members_add"
    ),
    path(
        "cohorts/<uuid:cohort_uuid>/members/remove/",
        views.cohort_member_remove,
        name="cohort_member_remove",
    ),
    path(
        "cohorts/<uuid:cohort_uuid>/accommodations/",
        views.cohort_accommodation,
        name="cohort_accommodation",
    ),
    path("assignments/new/", views.assignment_create, name="assignment_create"),
]
