from django.urls import include, path

urlpatterns = [
    path("", include("zichtbaar.core.urls")),
    path("accounts/", include("zichtbaar.accounts.urls")),
    path("audit/", include("zichtbaar.audit.urls")),
    # Product apps own their paths below these prefixes.
    path("", include("zichtbaar.helpline.urls")),
    path("", include("zichtbaar.hub.urls")),
    path("estimate/", include("zichtbaar.estimate.web.urls")),
    path("", include("zichtbaar.watch.urls")),
    path("monitor/", include("zichtbaar.monitor.urls")),
]

handler400 = "zichtbaar.core.views.error_400"
handler403 = "zichtbaar.core.views.error_403"
handler404 = "zichtbaar.core.views.error_404"
handler500 = "zichtbaar.core.views.error_500"
