from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HubConfig(AppConfig):
    name = "zichtbaar.hub"
    label = "hub"
    verbose_name = _("Signal hub")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from zichtbaar.accounts.roles import Role, register_capability
        from zichtbaar.audit.events import register_events
        from zichtbaar.core.navigation import NavItem, register
        from zichtbaar.helpline.signals import referral_created

        from . import api  # noqa: F401  # registers the OpenAPI auth extension
        from .events import ACTIONS
        from .receivers import on_referral_created

        r = Role
        desk = {r.ANALYST, r.SUPERVISOR, r.ADMIN}
        register_capability("hub.signal.submit", {r.ANALYST, r.SUPERVISOR, r.ADMIN, r.PARTNER,
                                                  r.COORDINATOR, r.COUNSELLOR})
        register_capability("hub.queue.view", desk)
        register_capability("hub.signal.manage", desk)
        register_capability("hub.inbox.view", {r.PARTNER, r.COORDINATOR, r.ANALYST,
                                               r.SUPERVISOR, r.ADMIN})
        register_capability("hub.agreements.manage", {r.ADMIN})
        register_capability("hub.rules.manage", {r.ADMIN})
        register_capability("hub.api_tokens.manage", {r.ADMIN})
        register_capability("hub.linkage.review", {r.ANALYST})
        register_capability("hub.capture_histories.export", {r.ANALYST, r.RESEARCHER})
        register_events(ACTIONS)

        register(NavItem(_("Signal queue"), "hub:queue", "hub.queue.view", 10))
        register(NavItem(_("New signal"), "hub:signal_new", "hub.signal.submit", 11))
        register(NavItem(_("Inbox"), "hub:inbox", "hub.inbox.view", 12))
        register(NavItem(_("Duplicates"), "hub:duplicates", "hub.linkage.review", 13))
        register(NavItem(_("Capture histories"), "hub:capture_histories",
                         "hub.capture_histories.export", 14))
        register(NavItem(_("Sharing agreements"), "hub:agreements", "hub.agreements.manage", 60))
        register(NavItem(_("Codebook"), "hub:codebook", "hub.rules.manage", 61))
        register(NavItem(_("Routing rules"), "hub:routing", "hub.rules.manage", 62))
        register(NavItem(_("API tokens"), "hub:api_tokens", "hub.api_tokens.manage", 63))

        referral_created.connect(on_referral_created, dispatch_uid="hub-helpline-referral")
