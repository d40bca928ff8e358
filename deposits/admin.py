from django.contrib import admin
from leaflet.admin import LeafletGeoAdmin

from deposits.models import Commodity, MemberState, MineralOccurrence, OccurrenceCommodity
from webgis.lib.admin_delete import ReferenceCountedDelete


# Both are vocabulary that up to millions of rows refer to (PROTECT): their delete page counts
# the references instead of listing them (webgis.lib.admin_delete).
@admin.register(MemberState)
class MemberStateAdmin(ReferenceCountedDelete, LeafletGeoAdmin):
    list_display = ("code", "name", "accession_year", "boundary_source", "updated_at")
    search_fields = ("code", "name")
    readonly_fields = ("boundary_source", "updated_at")


@admin.register(Commodity)
class CommodityAdmin(ReferenceCountedDelete, admin.ModelAdmin):
    list_display = ("code", "name", "symbol", "group")
    list_filter = ("group",)
    search_fields = ("code", "name", "symbol", "aliases")


class OccurrenceCommodityInline(admin.TabularInline):
    model = OccurrenceCommodity
    extra = 1
    autocomplete_fields = ("commodity",)


@admin.register(MineralOccurrence)
class MineralOccurrenceAdmin(LeafletGeoAdmin):
    list_display = ("name", "member_state", "status", "deposit_type", "dataset")
    list_filter = ("status", "member_state", "dataset")
    search_fields = ("name", "other_names", "deposit_type")
    list_select_related = ("member_state", "dataset")
    inlines = (OccurrenceCommodityInline,)
    show_full_result_count = False
