from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HelplineConfig(AppConfig):
    name = "zichtbaar.helpline"
    label = "helpline"
    verbose_name = _("Helpline")
    default_auto_field = "django.db.models.BigAutoField"
