from django.apps import AppConfig


class LayersConfig(AppConfig):
    name = "layers"
    verbose_name = "Datasets and layers"

    def ready(self) -> None:
        # Registers this app's vector tile layers with webgis.lib.mvt.
        from layers import tiles  # noqa: F401
