from django.urls import path

from . import views

app_name = "estimate"
urlpatterns = [
    path("", views.run_list, name="list"),
    path("new/", views.run_new, name="new"),
    path("new/hub/", views.run_new_hub, name="new_hub"),
    path("<int:pk>/", views.run_detail, name="detail"),
    path("<int:pk>/progress/", views.run_progress, name="progress"),
    path("<int:pk>/reproduce/", views.run_reproduce, name="reproduce"),
    path("<int:pk>/result.json", views.download_json, name="download_json"),
    path("<int:pk>/result.csv", views.download_csv, name="download_csv"),
    path("<int:pk>/input.csv", views.download_input, name="download_input"),
    path("<int:pk>/plot/<slug:kind>.png", views.plot_png, name="plot"),
]
