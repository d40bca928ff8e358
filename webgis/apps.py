from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save


class WebgisConfig(AppConfig):
    name = "webgis"
    verbose_name = "AMDIS"

    def ready(self) -> None:
        from django.apps import apps

        from webgis.lib.tilecache import on_data_change

        # Tile versions follow datasets and boundaries: a change makes older cached tiles stale.
        for model in ("layers.Dataset", "deposits.MemberState"):
            for signal in (post_save, post_delete):
                signal.connect(
                    on_data_change, sender=apps.get_model(model), dispatch_uid=f"tilecache-{model}"
                )
