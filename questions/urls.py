from django.urls import path

from questions import views

app_name = "questions"

urlpatterns = [
    path("", views.instructor_home, name="instructor_home"),
    path("banks/", views.bank_list, name="bank_list"),
    path("banks/new/", views.bank_create, name="bank_create"),
    path("banks/<uuid:bank_uuid>/", views.bank_detail, name="bank_detail"),
    path("banks/<uuid:bank_uuid>/practice/", views.bank_practice, name="bank_practice"),
    path("banks/<uuid:bank_uuid>/upload/", views.upload, name="upload"),
    path("banks/<uuid:bank_uuid>/upload/confirm/", views.upload_confirm, name="upload_confirm"),
    path("imports/<uuid:job_uuid>/", views.import_job, name="import_job"),
    path("items/<uuid:question_uuid>/", views.question_detail, name="question_detail"),
    path("items/<uuid:question_uuid>/retire/", views.question_retire, name="question_retire"),
    path("media/<uuid:media_uuid>/", views.media, name="media"),
]
