from __future__ import annotations

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from django.views.i18n import set_language as django_set_language

from zichtbaar import __version__
from zichtbaar.accounts.roles import Role

from . import home as home_work
from .decorators import public, require_capability


@require_capability("dashboard.view")
@require_GET
@never_cache
def home(request: HttpRequest) -> HttpResponse:
    """The user's live work; ``?part=live`` is the part htmx refreshes every 30 seconds."""
    user = request.user
    now = timezone.now()
    refresh = request.GET.get("part") == "live"
    if not refresh:
        request.session[home_work.OPENED_KEY] = now.timestamp()
    context = {
        "work": home_work.live_work(user, now=now),  # type: ignore[arg-type]
        "polling": home_work.keep_polling(request.session.get(home_work.OPENED_KEY), now),
        "poll_seconds": home_work.POLL_SECONDS, "now": now,
    }
    if refresh:
        return render(request, "core/partials/home_live.html", context)
    roles = sorted(user.role_set, key=list(Role).index)  # type: ignore[union-attr]
    context["roles"] = [Role(r).label for r in roles]
    context["share"] = home_work.share_links(user, request.build_absolute_uri)  # type: ignore[arg-type]
    return render(request, "core/home.html", context)


@public
@never_cache
def health(request: HttpRequest) -> JsonResponse:
    """Liveness and database reachability for load balancers; reveals nothing else."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        database = "ok"
    except Exception:  # health must answer, whatever the database does
        database = "unavailable"
    status = 200 if database == "ok" else 503
    return JsonResponse({"status": "ok" if status == 200 else "degraded",
                         "database": database, "version": __version__}, status=status)


set_language = public(django_set_language)


def error_400(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "core/error.html", {"code": 400}, status=400)


def error_403(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "core/error.html", {"code": 403}, status=403)


def error_404(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "core/error.html", {"code": 404}, status=404)


def error_500(request: HttpRequest) -> HttpResponse:
    return render(request, "core/error.html", {"code": 500}, status=500)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return render(request, "core/error.html", {"code": 403, "csrf": True}, status=403)
