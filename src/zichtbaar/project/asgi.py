"""ASGI entry point: HTTP through Django, websockets through Channels."""

from __future__ import annotations

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "zichtbaar.project.settings")

from channels.auth import AuthMiddlewareStack
from channels.routing import ProtocolTypeRouter, URLRouter
from channels.security.websocket import AllowedHostsOriginValidator
from django.conf import settings
from django.core.asgi import get_asgi_application

django_asgi = get_asgi_application()

from zichtbaar.project.ws_urls import websocket_urlpatterns  # noqa: E402


def _http_app():  # type: ignore[no-untyped-def]
    """Static files are served by ServeStatic in-process: one server, no separate web server."""
    from servestatic import ServeStaticASGI

    return ServeStaticASGI(django_asgi, root=str(settings.STATIC_ROOT), prefix="static/")


application = ProtocolTypeRouter({
    "http": _http_app(),
    # Sessions and users on websockets too; each consumer still checks role, organisation and
    # the second factor itself (the OTP middleware only runs for HTTP).
    "websocket": AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
})
