from django.urls import path

from . import views

app_name = "helpline"
urlpatterns = [
    # Public visitor pages (no account).
    path("chat/<slug:slug>/", views.visitor_chat, name="visitor"),
    path("chat/<slug:slug>/exit/", views.visitor_exit, name="visitor_exit"),
    path("chat/<slug:slug>/start-token/", views.visitor_start_token,
         name="visitor_start_token"),
    path("chat/<slug:slug>/veilig-browsen/", views.browse_safely, name="browse_safely"),
    # Staff.
    path("helpline/", views.console, name="console"),
    path("helpline/chats/<int:pk>/", views.transcript, name="transcript"),
    path("helpline/chats/<int:pk>/coding/", views.coding, name="coding"),
    path("helpline/chats/<int:pk>/referral/", views.referral, name="referral"),
    path("helpline/shift/", views.shift_start, name="shift_start"),
    path("helpline/team/", views.team, name="team"),
    path("helpline/queue/clear/", views.queue_clear, name="queue_clear"),
    path("helpline/canned/", views.canned, name="canned"),
    path("helpline/canned/<int:pk>/delete/", views.canned_delete, name="canned_delete"),
    path("helpline/settings/", views.settings_view, name="settings"),
    path("helpline/stats/", views.stats, name="stats"),
    path("helpline/stats.csv", views.stats_csv, name="stats_csv"),
]
