from django.urls import path

from . import api, views

app_name = "hub"
api_patterns = [
    path("api/v1/signals/", api.signal_create, name="api_signals"),
    path("api/v1/handovers/", api.handover_list, name="api_handovers"),
    path("api/v1/handovers/<str:pk>/outcome/", api.handover_outcome, name="api_outcome"),
]
urlpatterns = [
    # Public, in Dutch: no account needed.
    path("melden/", views.report_new, name="report_new"),
    path("melden/aanvullen/", views.report_add, name="report_add"),
    # Staff.
    path("hub/", views.queue, name="queue"),
    path("hub/signalen/nieuw/", views.signal_new, name="signal_new"),
    path("hub/signalen/<int:pk>/", views.signal_detail, name="signal_detail"),
    path("hub/signalen/<int:pk>/bijlagen/<int:attachment>/", views.attachment_download,
         name="attachment"),
    path("hub/signalen/<int:pk>/overdragen/", views.handover_confirm, name="handover_confirm"),
    path("hub/signalen/<int:pk>/<slug:action>/", views.signal_action, name="signal_action"),
    path("hub/inbox/", views.inbox, name="inbox"),
    path("hub/inbox/<int:pk>/", views.handover_detail, name="handover_detail"),
    path("hub/afspraken/", views.agreements, name="agreements"),
    path("hub/afspraken/<int:pk>/beeindigen/", views.agreement_end, name="agreement_end"),
    path("hub/codeboek/", views.codebook_edit, name="codebook"),
    path("hub/routering/", views.routing_edit, name="routing"),
    path("hub/api-tokens/", views.api_tokens, name="api_tokens"),
    path("hub/dubbelen/", views.duplicates, name="duplicates"),
    path("hub/dubbelen/<int:pk>/", views.duplicate_decide, name="duplicate_decide"),
    path("hub/vangstgeschiedenissen/", views.capture_histories, name="capture_histories"),
    path("hub/bewaartermijnen/", views.retention, name="retention"),
    path("hub/rechten/", views.rights_overview, name="rights"),
    path("hub/rechten/personen/<int:pk>/", views.person_rights, name="person_rights"),
    path("hub/rechten/personen/<int:pk>/inzage/", views.subject_access, name="subject_access"),
    path("hub/rechten/personen/<int:pk>/wissen/", views.erasure_request_create,
         name="erasure_request"),
    path("hub/rechten/verzoeken/<int:pk>/", views.erasure_decide, name="erasure_decide"),
    *api_patterns,
    path("api/v1/schema/", api.schema_view(api_patterns), name="api_schema"),
]
