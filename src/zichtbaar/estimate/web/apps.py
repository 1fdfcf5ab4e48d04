from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EstimateWebConfig(AppConfig):
    """The researcher page for Multiple Systems Estimation: stored, reproducible runs."""

    name = "zichtbaar.estimate.web"
    label = "estimate"
    verbose_name = _("Estimate")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from zichtbaar.accounts.roles import Role, register_capability
        from zichtbaar.audit.events import register_events
        from zichtbaar.core.navigation import NavItem, register

        from .events import ACTIONS

        register_capability("estimate.use", {Role.RESEARCHER, Role.ANALYST, Role.ADMIN})
        register_events(ACTIONS)
        register(NavItem(_("Estimate"), "estimate:list", "estimate.use", order=60))
