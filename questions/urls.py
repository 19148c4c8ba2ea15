from django.urls import path

from questions import views

app_name = "questions"

# The instructor pages under /questions/ belong to teach (teach/urls.py); media is for
# examinees too.
urlpatterns = [
    path("media/<uuid:media_uuid>/", views.media, name="media"),
]
