from django.urls import path

from . import views

app_name = "accounts"
urlpatterns = [
    path("login/", views.sign_in, name="login"),
    path("verify/", views.verify, name="verify"),
    path("2fa/setup/", views.setup, name="setup"),
    path("logout/", views.sign_out, name="logout"),
    path("security/", views.security, name="security"),
    path("members/", views.members, name="members"),
    path("members/<int:pk>/", views.member_detail, name="member_detail"),
]
