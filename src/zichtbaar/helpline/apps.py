from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HelplineConfig(AppConfig):
    name = "zichtbaar.helpline"
    label = "helpline"
    verbose_name = _("Helpline")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from zichtbaar.core.navigation import NavItem, register

        from . import access, events  # noqa: F401  (capabilities and audit events register)

        register(NavItem(_("Chat console"), "helpline:console", access.COUNSEL, order=10))
        register(NavItem(_("Helpline statistics"), "helpline:stats", access.STATS, order=40))
        register(NavItem(_("Helpline settings"), "helpline:settings", access.MANAGE, order=70))
