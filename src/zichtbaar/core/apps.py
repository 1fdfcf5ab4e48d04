from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "zichtbaar.core"
    label = "core"
    verbose_name = "zichtbaar"

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers the deployment checks)
