from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "zichtbaar.core"
    label = "core"
    verbose_name = "zichtbaar"
