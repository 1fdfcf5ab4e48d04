from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EstimateWebConfig(AppConfig):
    name = "zichtbaar.estimate.web"
    label = "estimate"
    verbose_name = _("Estimate")
    default_auto_field = "django.db.models.BigAutoField"
