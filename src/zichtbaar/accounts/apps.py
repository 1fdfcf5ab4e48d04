from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "zichtbaar.accounts"
    label = "accounts"
    verbose_name = _("Accounts")

    def ready(self) -> None:
        from zichtbaar.core.navigation import NavItem, register

        register(NavItem(_("Dashboard"), "core:home", "dashboard.view", order=0))
        register(NavItem(_("Members"), "accounts:members", "organisation.members.view", 80))
        register(NavItem(_("My account"), "accounts:security", "account.manage_own", order=95))
