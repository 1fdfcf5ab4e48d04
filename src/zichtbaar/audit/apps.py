from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    name = "zichtbaar.audit"
    label = "audit"
    verbose_name = _("Audit trail")

    def ready(self) -> None:
        from zichtbaar.core.navigation import NavItem, register

        register(NavItem(_("Audit trail"), "audit:search", "audit.search", order=90))
