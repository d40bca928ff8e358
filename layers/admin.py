from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from leaflet.admin import LeafletGeoAdmin

from layers.models import Dataset, GeologicalUnit, Structure
from layers.services import dataset_delete, dataset_delete_blocker, dataset_holdings


@admin.register(Dataset)
class DatasetAdmin(admin.ModelAdmin):
    list_display = (
        "title",
        "kind",
        "member_state",
        "version",
        "is_published",
        "is_demo",
        "updated_at",
    )
    list_filter = ("kind", "is_published", "is_demo", "member_state")
    search_fields = ("title", "slug", "abstract", "organisation")
    prepopulated_fields = {"slug": ("title",)}
    readonly_fields = ("version", "created_at", "updated_at")

    # Deleting goes through layers.services.dataset_delete. Django's own delete loads every
    # object that goes with the dataset, first to list it on the confirmation page, then to
    # delete it: up to millions of features. Neither page nor delete would finish.

    def get_deleted_objects(
        self, objs: Any, request: HttpRequest
    ) -> tuple[list[str], dict[str, int], set[str], list[str]]:
        """The confirmation page's list: each dataset and what goes with it, counted."""
        summary = [
            "{}: {features:,} features, {versions} versions, {uploads} uploads".format(
                dataset, **dataset_holdings(dataset)
            )
            for dataset in objs
        ]
        # Shown as "protected": the page then refuses to delete.
        blockers = [f"{d}: {b}" for d in objs if (b := dataset_delete_blocker(d))]
        allowed = self.has_delete_permission(request)
        return summary, {"datasets": len(summary)}, set() if allowed else {"dataset"}, blockers

    def delete_model(self, request: HttpRequest, obj: Dataset) -> None:
        self._delete(request, [obj])

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Dataset]) -> None:
        self._delete(request, list(queryset))

    def _delete(self, request: HttpRequest, datasets: list[Dataset]) -> None:
        for dataset in datasets:
            try:
                dataset_delete(dataset, actor=request.user)
            except ValidationError as refused:  # an upload started after the page was shown
                self.message_user(request, f"{dataset}: {refused.messages[0]}", messages.ERROR)


@admin.register(GeologicalUnit)
class GeologicalUnitAdmin(LeafletGeoAdmin):
    list_display = ("name", "lithology", "age", "dataset")
    list_filter = ("dataset",)
    search_fields = ("name", "lithology", "age")
    list_select_related = ("dataset",)


@admin.register(Structure)
class StructureAdmin(LeafletGeoAdmin):
    list_display = ("__str__", "structure_type", "dataset")
    list_filter = ("structure_type", "dataset")
    list_select_related = ("dataset",)
