"""The baseline: the same occurrence GeoJSON written the usual way with djangorestframework-gis.

A `ListAPIView` over `MineralOccurrence` with `GeoFeatureModelSerializer`, the same properties as
`/api/occurrences/`, and the ORM used as a careful developer would: `select_related` for the
member state and dataset, one prefetch for the commodities, unused heavy columns (the member
states' boundaries above all) deferred.
"""

from typing import Any

from django.db.models import Prefetch, QuerySet
from rest_framework import serializers
from rest_framework.generics import ListAPIView
from rest_framework.permissions import AllowAny
from rest_framework_gis.pagination import GeoJsonPagination
from rest_framework_gis.serializers import GeoFeatureModelSerializer

from deposits.models import MineralOccurrence, OccurrenceCommodity


class CommodityLinkSerializer(serializers.ModelSerializer[OccurrenceCommodity]):
    code = serializers.CharField(source="commodity.code")
    name = serializers.CharField(source="commodity.name")
    symbol = serializers.CharField(source="commodity.symbol")
    group = serializers.CharField(source="commodity.group")

    class Meta:
        model = OccurrenceCommodity
        fields = ["code", "name", "symbol", "group", "rank"]


class OccurrenceSerializer(GeoFeatureModelSerializer):
    member_state = serializers.CharField(source="member_state.code")
    member_state_name = serializers.CharField(source="member_state.name")
    commodities = CommodityLinkSerializer(source="commodity_links", many=True)
    dataset = serializers.CharField(source="dataset.slug")
    dataset_title = serializers.CharField(source="dataset.title")
    url = serializers.SerializerMethodField()

    class Meta:
        model = MineralOccurrence
        geo_field = "geom"
        fields = [
            "id",
            "name",
            "other_names",
            "member_state",
            "member_state_name",
            "province",
            "commodities",
            "deposit_type",
            "status",
            "resource_mt",
            "grades",
            "reporting_code",
            "resource_date",
            "location_accuracy",
            "dataset",
            "dataset_title",
            "url",
        ]

    def get_url(self, obj: MineralOccurrence) -> str:
        return f"/occurrences/{obj.pk}/"


class Pagination(GeoJsonPagination):
    page_size = 1000
    max_page_size = 100_000


class OccurrenceListView(ListAPIView[MineralOccurrence]):
    """`GET /bench/drf/occurrences/?dataset=<slug>&page_size=N`: published occurrences by id."""

    serializer_class = OccurrenceSerializer
    pagination_class = Pagination
    permission_classes = [AllowAny]

    def get_queryset(self) -> QuerySet[MineralOccurrence]:
        queryset = (
            MineralOccurrence.objects.filter(dataset__is_published=True)
            .select_related("member_state", "dataset")
            .prefetch_related(
                Prefetch(
                    "commodity_links",
                    queryset=OccurrenceCommodity.objects.select_related("commodity").order_by(
                        "rank", "commodity__name"
                    ),
                )
            )
            # Columns no property needs, above all the member states' boundaries.
            .defer(
                "geom_3857",
                "attributes",
                "references",
                "source_id",
                "member_state__boundary",
                "member_state__boundary_3857",
                "dataset__abstract",
                "dataset__citation",
            )
            .order_by("id")
        )
        slug: Any = self.request.query_params.get("dataset")
        if slug:
            queryset = queryset.filter(dataset__slug=slug)
        return queryset
