"""Every instructor page, under one namespace. The public paths predate the app and stay as
they were: banks and uploads under /questions/, exams and cohorts under /teach/, statistics
under /teach/analytics/."""

from django.urls import include, path

from teach.views import (
    banks,
    cohorts,
    dashboard,
    editor,
    exams,
    gradebook,
    insights,
    rescore,
    uploads,
)

app_name = "teach"

bank_patterns = [
    path("", dashboard.instructor_home, name="instructor_home"),
    path("banks/", banks.bank_list, name="bank_list"),
    path("banks/new/", banks.bank_create, name="bank_create"),
    path("banks/<uuid:bank_uuid>/", banks.bank_detail, name="bank_detail"),
    path("banks/<uuid:bank_uuid>/practice/", banks.bank_practice, name="bank_practice"),
    path("banks/<uuid:bank_uuid>/export/", banks.bank_export, name="bank_export"),
    path("banks/<uuid:bank_uuid>/upload/", uploads.upload, name="upload"),
    path("banks/<uuid:bank_uuid>/upload/confirm/", uploads.upload_confirm, name="upload_confirm"),
    path("banks/<uuid:bank_uuid>/upload/map/", uploads.upload_map, name="upload_map"),
    path("imports/<uuid:job_uuid>/", uploads.import_job, name="import_job"),
    path("items/<uuid:question_uuid>/", banks.question_detail, name="question_detail"),
    path("items/<uuid:question_uuid>/retire/", banks.question_retire, name="question_retire"),
    path(
        "items/<uuid:question_uuid>/versions/<int:number>/",
        banks.question_version,
        name="question_version",
    ),
    path("items/<uuid:question_uuid>/edit/", editor.question_edit, name="question_edit"),
    path("items/<uuid:question_uuid>/rescore/", rescore.key_fix, name="key_fix"),
    path("rescores/<uuid:change_uuid>/", rescore.key_change, name="key_change"),
]

exam_patterns = [
    path("exams/", exams.exam_list, name="exam_list"),
    path("exams/new/", exams.exam_create, name="exam_create"),
    path("exams/<uuid:exam_uuid>/", exams.exam_detail, name="exam_detail"),
    path("exams/<uuid:exam_uuid>/form/", exams.fixed_form_edit, name="fixed_form_edit"),
    path(
        "exams/<uuid:exam_uuid>/form/autofill/",
        exams.fixed_form_autofill,
        name="fixed_form_autofill",
    ),
    path("exams/<uuid:exam_uuid>/edit/", exams.exam_edit, name="exam_edit"),
    path("exams/<uuid:exam_uuid>/archive/", exams.exam_archive, name="exam_archive"),
    path("exams/<uuid:exam_uuid>/delete/", exams.exam_delete, name="exam_delete"),
    path("exams/<uuid:exam_uuid>/gradebook/", gradebook.gradebook, name="gradebook"),
    path("blueprints/new/", exams.blueprint_create, name="blueprint_create"),
    path("blueprints/<uuid:blueprint_uuid>/", exams.blueprint_edit, name="blueprint_edit"),
    path(
        "blueprints/<uuid:blueprint_uuid>/delete/",
        exams.blueprint_delete,
        name="blueprint_delete",
    ),
    path("cohorts/", cohorts.cohort_list, name="cohort_list"),
    path("cohorts/new/", cohorts.cohort_create, name="cohort_create"),
    path("cohorts/<uuid:cohort_uuid>/", cohorts.cohort_detail, name="cohort_detail"),
    path(
        "cohorts/<uuid:cohort_uuid>/members/",
        cohorts.cohort_members_add,
        name="cohort_members_add",
    ),
    path(
        "cohorts/<uuid:cohort_uuid>/members/remove/",
        cohorts.cohort_member_remove,
        name="cohort_member_remove",
    ),
    path(
        "cohorts/<uuid:cohort_uuid>/members/<int:user_id>/",
        cohorts.cohort_member_edit,
        name="cohort_member_edit",
    ),
    path(
        "cohorts/<uuid:cohort_uuid>/invitations/",
        cohorts.cohort_invite,
        name="cohort_invite",
    ),
    path(
        "cohorts/<uuid:cohort_uuid>/join-link/",
        cohorts.cohort_join_link,
        name="cohort_join_link",
    ),
    path(
        "cohorts/<uuid:cohort_uuid>/accommodations/",
        cohorts.cohort_accommodation,
        name="cohort_accommodation",
    ),
    path("cohorts/<uuid:cohort_uuid>/edit/", cohorts.cohort_edit, name="cohort_edit"),
    path("cohorts/<uuid:cohort_uuid>/archive/", cohorts.cohort_archive, name="cohort_archive"),
    path("cohorts/<uuid:cohort_uuid>/delete/", cohorts.cohort_delete, name="cohort_delete"),
    path("assignments/new/", cohorts.assignment_create, name="assignment_create"),
    path("assignments/<uuid:assignment_uuid>/", cohorts.assignment_edit, name="assignment_edit"),
    path(
        "assignments/<uuid:assignment_uuid>/remove/",
        cohorts.assignment_remove,
        name="assignment_remove",
    ),
    path(
        "assignments/<uuid:assignment_uuid>/override/",
        cohorts.assignment_override,
        name="assignment_override",
    ),
]

insight_patterns = [
    path("exams/<uuid:uuid>/", insights.exam_stats, name="exam_stats"),
    path("exams/<uuid:uuid>/items.csv", insights.exam_items_csv, name="exam_items_csv"),
    path("exams/<uuid:uuid>/attempts.csv", insights.exam_attempts_csv, name="exam_attempts_csv"),
    path(
        "exams/<uuid:uuid>/items.xlsx",
        insights.exam_items_csv,
        {"fmt": "xlsx"},
        name="exam_items_xlsx",
    ),
    path(
        "exams/<uuid:uuid>/attempts.xlsx",
        insights.exam_attempts_csv,
        {"fmt": "xlsx"},
        name="exam_attempts_xlsx",
    ),
    path(
        "banks/<uuid:uuid>/items.csv",
        insights.bank_items_export,
        {"fmt": "csv"},
        name="bank_items_csv",
    ),
    path(
        "banks/<uuid:uuid>/items.xlsx",
        insights.bank_items_export,
        {"fmt": "xlsx"},
        name="bank_items_xlsx",
    ),
    path(
        "cohorts/<uuid:uuid>/items.csv",
        insights.cohort_items_export,
        {"fmt": "csv"},
        name="cohort_items_csv",
    ),
    path(
        "cohorts/<uuid:uuid>/items.xlsx",
        insights.cohort_items_export,
        {"fmt": "xlsx"},
        name="cohort_items_xlsx",
    ),
    path("banks/<uuid:uuid>/", insights.bank_stats, name="bank_stats"),
    path("cohorts/<uuid:uuid>/", insights.cohort_stats, name="cohort_stats"),
]

urlpatterns = [
    path("questions/", include(bank_patterns)),
    path("teach/analytics/", include(insight_patterns)),
    path("teach/", include(exam_patterns)),
]
