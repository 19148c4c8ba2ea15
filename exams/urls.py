from django.urls import path

from exams import views

app_name = "exams"

urlpatterns = [
    path("", views.examinee_home, name="examinee_home"),
    path("lab-values/", views.lab_values, name="lab_values"),
    path("time-zone/", views.time_zone, name="time_zone"),
    path("practice/new/", views.practice_new, name="practice_new"),
    path("practice/", views.practice_create, name="practice_create"),
    path("<uuid:uuid>/start/", views.exam_start, name="exam_start"),
    path("a/<uuid:uuid>/", views.attempt_detail, name="attempt"),
    path("a/<uuid:uuid>/clock/", views.clock, name="clock"),
    path("a/<uuid:uuid>/tutorial/end/", views.tutorial_end, name="tutorial_end"),
    path("a/<uuid:uuid>/blocks/start/", views.block_start, name="block_start"),
    path("a/<uuid:uuid>/blocks/end/", views.block_end, name="block_end"),
    path("a/<uuid:uuid>/suspend/", views.exam_suspend, name="exam_suspend"),
    path("a/<uuid:uuid>/end/", views.exam_end, name="exam_end"),
    path("a/<uuid:uuid>/review/", views.review_screen, name="review_screen"),
    path("a/<uuid:uuid>/block/items/", views.block_items, name="block_items"),
    path("a/<uuid:uuid>/item/<int:position>/", views.item, name="item"),
    path("a/<uuid:uuid>/item/<int:position>/save/", views.save, name="save"),
    path("a/<uuid:uuid>/item/<int:position>/visit/", views.visit, name="visit"),
]
