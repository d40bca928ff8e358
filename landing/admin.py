from django.contrib import admin

from landing.models import Indicator, IndicatorValue, Source


@admin.register(Indicator)
class IndicatorAdmin(admin.ModelAdmin[Indicator]):
    list_display = ("code", "name", "category", "kind", "unit", "by_commodity")
    list_filter = ("category", "kind", "by_commodity")
    search_fields = ("code", "name", "description")


@admin.register(Source)
class SourceAdmin(admin.ModelAdmin[Source]):
    list_display = ("name", "licence", "url")
    search_fields = ("name", "citation")


@admin.register(IndicatorValue)
class IndicatorValueAdmin(admin.ModelAdmin[IndicatorValue]):
    list_display = (
        "indicator",
        "member_state",
        "commodity",
        "year",
        "value",
        "unit",
        "qualifier",
        "source",
    )
    list_filter = ("indicator__category", "indicator", "member_state", "source")
    list_select_related = ("indicator", "member_state", "commodity", "source")
    search_fields = ("indicator__code", "indicator__name", "member_state__code", "note")
    autocomplete_fields = ("indicator", "source")
    list_per_page = 100
    ordering = ("indicator__code", "member_state__code", "commodity__code", "-year")
