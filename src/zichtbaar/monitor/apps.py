from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MonitorConfig(AppConfig):
    name = "zichtbaar.monitor"
    label = "monitor"
    verbose_name = _("Monitor")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from zichtbaar.accounts.roles import Role, register_capability
        from zichtbaar.audit.events import register_events
        from zichtbaar.core.navigation import NavItem, register

        from .events import ACTIONS

        r = Role
        register_capability("monitor.view", {r.RESEARCHER, r.ANALYST, r.SUPERVISOR, r.ADMIN,
                                             r.COORDINATOR})
        register_capability("monitor.catalogue.manage", {r.ADMIN})
        register_capability("monitor.values.enter", {r.RESEARCHER, r.ADMIN})
        register_events(ACTIONS)
        # The public view needs no entry: the dashboard links to it, and it needs no sign-in.
        register(NavItem(_("Monitor"), "monitor:dashboard", "monitor.view", 50))
        register(NavItem(_("Monitor values"), "monitor:values", "monitor.values.enter", 51))
        register(NavItem(_("Indicator catalogue"), "monitor:catalogue",
                         "monitor.catalogue.manage", 66))
