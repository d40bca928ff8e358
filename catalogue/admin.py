from django.contrib import admin

from catalogue.models import DownloadJob


@admin.register(DownloadJob)
class DownloadJobAdmin(admin.ModelAdmin):
    list_display = (
        "collection_id",
        "format",
        "status",
        "feature_count",
        "size_bytes",
        "created_at",
    )
    list_filter = ("status", "format")
    readonly_fields = [f.name for f in DownloadJob._meta.fields]

    def has_add_permission(self, request: object) -> bool:
        return False
