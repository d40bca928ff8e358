"""Vector tile layers of this app: mineral occurrences and member-state boundaries."""

from typing import Any

from django.http import QueryDict

from deposits.selectors import (
    FILTER_PARAMS,
    MEMBER_STATES_STATE_SQL,
    OCCURRENCE_TABLE,
    occurrence_filters_parse,
)
from layers.selectors import DATA_STATE_SQL, dataset_visibility_where
from webgis.lib.mvt import (
    SqlParams,
    TileLayer,
    Where,
    clustered_point_tile_sql,
    feature_tile_sql,
    register,
)
from webgis.lib.tiles import Tile

_MAIN_COMMODITY = (
    "(SELECT c.code FROM deposits_occurrencecommodity oc"
    " JOIN deposits_commodity c ON c.id = oc.commodity_id"
    " WHERE oc.occurrence_id = t.id ORDER BY oc.rank, c.code LIMIT 1)"
)
_MAIN_GROUP = _MAIN_COMMODITY.replace("SELECT c.code", "SELECT c.group")


class OccurrenceTileLayer(TileLayer):
    def tile_sql(self, tile: Tile, query: QueryDict, user: Any) -> tuple[str, SqlParams]:
        filters = occurrence_filters_parse(query, user=user)
        return clustered_point_tile_sql(
            layer=self.name,
            table=OCCURRENCE_TABLE,
            properties={
                "name": "t.name",
                "status": "t.status",
                "commodity": _MAIN_COMMODITY,
                "group": _MAIN_GROUP,
            },
            where=dataset_visibility_where(user=user) & filters.where(),
            tile=tile,
        )

    def version_sql(self) -> str:
        return DATA_STATE_SQL

    def allowed_params(self) -> set[str]:
        return {"v", *FILTER_PARAMS}


class MemberStateTileLayer(TileLayer):
    def tile_sql(self, tile: Tile, query: QueryDict, user: Any) -> tuple[str, SqlParams]:
        sql, params = feature_tile_sql(
            layer=self.name,
            table="deposits_memberstate",
            properties={"code": "t.code", "name": "t.name"},
            where=Where("t.boundary_3857 IS NOT NULL"),
            geom_column="boundary_3857",
            tile=tile,
            max_features=100,
            geometry_family="polygon",
        )
        return sql, params

    def version_sql(self) -> str:
        return MEMBER_STATES_STATE_SQL


occurrences = register(
    OccurrenceTileLayer(
        name="occurrences",
        title="Mineral occurrences",
        description="Mines, deposits, prospects and occurrences; `count` > 1 marks a cluster.",
        geometry_type="point",
        fields={
            "count": "Number",
            "name": "String",
            "status": "String",
            "commodity": "String",
            "group": "String",
        },
    )
)
member_states = register(
    MemberStateTileLayer(
        name="member-states",
        title="ASEAN member states",
        description="Land boundaries of the member states (Natural Earth).",
        geometry_type="polygon",
        fields={"code": "String", "name": "String"},
        permission_dependent=False,
    )
)
