from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HubConfig(AppConfig):
    name = "zichtbaar.hub"
    label = "hub"
    verbose_name = _("Signal hub")
    default_auto_field = "django.db.models.BigAutoField"
