from django.apps import AppConfig


class DepositsConfig(AppConfig):
    name = "deposits"
    verbose_name = "Mineral occurrences"

    def ready(self) -> None:
        # Registers this app's vector tile layers with webgis.lib.mvt.
        from deposits import tiles  # noqa: F401
