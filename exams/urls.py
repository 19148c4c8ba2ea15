from django.urls import path

from exams import views

app_name = "exams"

urlpatterns = [
    path("", views.examinee_home, name="examinee_home"),
]
