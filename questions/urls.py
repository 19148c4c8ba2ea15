from django.urls import path

from questions import views

app_name = "questions"

urlpatterns = [
    path("", views.instructor_home, name="instructor_home"),
    path("banks/", views.bank_list, name="bank_list"),
]
