from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from zichtbaar.accounts.roles import OrganisationType

# Only reporting points and police units see the analyst queue (issue 10).
WATCH_ORGANISATION_TYPES = frozenset({OrganisationType.REPORTING_POINT,
                                      OrganisationType.POLICE})


class WatchConfig(AppConfig):
    name = "zichtbaar.watch"
    label = "watch"
    verbose_name = _("Online watch")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from zichtbaar.accounts.roles import Role, register_capability
        from zichtbaar.audit.events import register_events
        from zichtbaar.core.navigation import NavItem, register

        from .events import ACTIONS

        r = Role
        register_capability("watch.queue.view", {r.ANALYST, r.SUPERVISOR})
        register_capability("watch.cluster.label", {r.ANALYST, r.SUPERVISOR})
        register_capability("watch.cluster.handover", {r.ANALYST, r.SUPERVISOR})
        register_capability("watch.sources.manage", {r.ADMIN})
        register_capability("watch.lexicon.manage", {r.ADMIN})
        register_capability("watch.decoys.manage", {r.ADMIN, r.SUPERVISOR})
        register_events(ACTIONS)

        watchers = WATCH_ORGANISATION_TYPES
        register(NavItem(_("Online watch"), "watch:queue", "watch.queue.view", 20,
                         organisation_types=watchers))
        register(NavItem(_("Indicator report"), "watch:indicator_report", "watch.queue.view",
                         21, organisation_types=watchers))
        register(NavItem(_("Ad sources"), "watch:sources", "watch.sources.manage", 66,
                         organisation_types=watchers))
        register(NavItem(_("Indicator lexicon"), "watch:lexicon", "watch.lexicon.manage", 68,
                         organisation_types=watchers))
        register(NavItem(_("Decoy profiles"), "watch:decoys", "watch.decoys.manage", 67,
                         organisation_types=watchers))
