from typing import Any

from django.apps import AppConfig


def _blocks_build_queue(sender: Any, dataset_id: int, **kwargs: Any) -> None:
    from catalogue.tasks import feature_blocks_build_task

    feature_blocks_build_task.enqueue(dataset_id)


class CatalogueConfig(AppConfig):
    name = "catalogue"
    verbose_name = "Open data access: OGC API, downloads and the metadata catalogue"

    def ready(self) -> None:
        from layers.signals import dataset_published

        dataset_published.connect(_blocks_build_queue, dispatch_uid="catalogue-feature-blocks")
