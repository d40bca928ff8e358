from django.contrib import admin

from prospectivity.models import ProspectivityMap, ProspectivityRun


@admin.register(ProspectivityMap)
class ProspectivityMapAdmin(admin.ModelAdmin):
    list_display = ["dataset", "method", "commodity"]
    list_filter = ["method"]
    raw_id_fields = ["dataset", "run"]


@admin.register(ProspectivityRun)
class ProspectivityRunAdmin(admin.ModelAdmin):
    list_display = ["id", "status", "created_at", "is_private"]
    list_filter = ["status"]
    readonly_fields = ["recipe_hash", "data_state", "result"]
