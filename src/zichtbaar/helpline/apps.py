from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HelplineConfig(AppConfig):
    name = "zichtbaar.helpline"
    label = "helpline"
    verbose_name = _("Helpline")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from zichtbaar.accounts.roles import OrganisationType
        from zichtbaar.core.navigation import NavItem, register

        from . import access, events  # noqa: F401  (capabilities and audit events register)

        # Only a care NGO runs a helpline (access.helpline_can checks the same on the server).
        ngo = frozenset({OrganisationType.CARE_NGO})
        register(NavItem(_("Chat console"), "helpline:console", access.COUNSEL, order=10,
                         organisation_types=ngo))
        register(NavItem(_("Helpline statistics"), "helpline:stats", access.STATS, order=40,
                         organisation_types=ngo))
        register(NavItem(_("Helpline settings"), "helpline:settings", access.MANAGE, order=70,
                         organisation_types=ngo))
