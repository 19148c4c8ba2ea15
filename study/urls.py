from django.urls import path

from study import views

app_name = "study"

urlpatterns = [
    path("", views.home, name="home"),
    path("review/", views.review, name="review"),
    path("cards/<uuid:card_uuid>/answer/", views.card_answer, name="card_answer"),
    path("cards/<uuid:card_uuid>/rate/", views.card_rate, name="card_rate"),
    path(
        "attempts/<uuid:attempt_uuid>/block/<int:number>/item/<int:position>/card/",
        views.card_add,
        name="card_add",
    ),
    path(
        "attempts/<uuid:attempt_uuid>/block/<int:number>/item/<int:position>/note/",
        views.note_save,
        name="note_save",
    ),
    path("anki/", views.anki_export, name="anki_export"),
    path("notebook/", views.notebook_page, name="notebook"),
    path("notebook.md", views.notebook_markdown, name="notebook_markdown"),
    path("plan/", views.plan_page, name="plan"),
    path("plan.ics", views.plan_ics, name="plan_ics"),
    path("teach/cohorts/<uuid:cohort_uuid>/", views.cohort_study, name="cohort_study"),
]
