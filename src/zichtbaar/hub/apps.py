from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HubConfig(AppConfig):
    name = "zichtbaar.hub"
    label = "hub"
    verbose_name = _("Signal hub")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from zichtbaar.accounts.roles import OrganisationType, Role, register_capability
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
        # Data-subject rights: the desk's administrator acts as privacy officer and the
        # supervisor is the second person an erasure needs.
        register_capability("hub.subject_rights.manage", {r.ADMIN, r.SUPERVISOR})
        register_capability("hub.retention.manage", {r.ADMIN})
        register_events(ACTIONS)

        register(NavItem(_("Signal queue"), "hub:queue", "hub.queue.view", 10))
        register(NavItem(_("New signal"), "hub:signal_new", "hub.signal.submit", 11))
        register(NavItem(_("Inbox"), "hub:inbox", "hub.inbox.view", 12))
        register(NavItem(_("Duplicates"), "hub:duplicates", "hub.linkage.review", 13))
        register(NavItem(_("Capture histories"), "hub:capture_histories",
                         "hub.capture_histories.export", 14))
        register(NavItem(_("Sharing agreements"), "hub:agreements", "hub.agreements.manage", 60))
        # Only a desk edits the shared rules and keeps personal data; other admins would get
        # a 403 behind these entries.
        desks = frozenset({OrganisationType.REPORTING_POINT, OrganisationType.PLATFORM_OPERATOR})
        register(NavItem(_("Codebook"), "hub:codebook", "hub.rules.manage", 61,
                         organisation_types=desks))
        register(NavItem(_("Routing rules"), "hub:routing", "hub.rules.manage", 62,
                         organisation_types=desks))
        register(NavItem(_("Data-subject rights"), "hub:rights", "hub.subject_rights.manage",
                         64, organisation_types=desks))
        register(NavItem(_("Retention"), "hub:retention", "hub.retention.manage", 65,
                         organisation_types=desks))
        register(NavItem(_("API tokens"), "hub:api_tokens", "hub.api_tokens.manage", 63))

        referral_created.connect(on_referral_created, dispatch_uid="hub-helpline-referral")
