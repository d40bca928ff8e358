from django.contrib import admin
from leaflet.admin import LeafletGeoAdmin

from layers.models import Dataset, GeologicalUnit, Structure


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
