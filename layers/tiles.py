"""Vector tile layers of this app: geological units and structures."""

from typing import Any

from django.http import QueryDict

from layers.selectors import data_version, dataset_visibility_where
from webgis.lib.mvt import SqlParams, TileLayer, feature_tile_sql, register
from webgis.lib.tiles import Tile


class GeologicalUnitTileLayer(TileLayer):
    def tile_sql(self, tile: Tile, query: QueryDict, user: Any) -> tuple[str, SqlParams]:
        return feature_tile_sql(
            layer=self.name,
            table="layers_geologicalunit",
            properties={"name": "t.name", "lithology": "t.lithology", "age": "t.age"},
            where=dataset_visibility_where(user=user),
            tile=tile,
            max_features=20000,
            # Below about a pixel across, a polygon is invisible: leave it out of the tile.
            min_feature_px=1.0,
        )

    def version(self, user: Any) -> str:
        return data_version()


class StructureTileLayer(TileLayer):
    def tile_sql(self, tile: Tile, query: QueryDict, user: Any) -> tuple[str, SqlParams]:
        return feature_tile_sql(
            layer=self.name,
            table="layers_structure",
            properties={"name": "t.name", "structure_type": "t.structure_type"},
            where=dataset_visibility_where(user=user),
            tile=tile,
            max_features=20000,
            min_feature_px=1.0,
        )

    def version(self, user: Any) -> str:
        return data_version()


geological_units = register(
    GeologicalUnitTileLayer(
        name="geological-units",
        title="Geological units",
        description="Mapped geological units (polygons) with lithology and age.",
        geometry_type="polygon",
        fields={"name": "String", "lithology": "String", "age": "String"},
    )
)
structures = register(
    StructureTileLayer(
        name="structures",
        title="Structures",
        description="Faults and other mapped structures (lines).",
        geometry_type="line",
        fields={"name": "String", "structure_type": "String"},
    )
)
