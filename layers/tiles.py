"""Vector tile layers of this app: geological units and structures."""

from typing import Any

from django.http import QueryDict

from layers.models import Dataset, DatasetKind
from layers.selectors import DATA_STATE_SQL, dataset_visibility_where, datasets_visible
from webgis.lib.mvt import SqlParams, TileLayer, Where, feature_tile_sql, register, register_source
from webgis.lib.params import parse_choices
from webgis.lib.tiles import Tile


def _dataset_where(query: QueryDict, user: Any) -> Where:
    """`?dataset=<slug>,...`: one dataset's features (slugs the user may see; others are a 400)."""
    if not query.get("dataset"):
        return Where()  # most tile requests: no queryset to build for them
    slugs = parse_choices(
        query,
        "dataset",
        datasets_visible(user=user).values_list("slug", flat=True),
        normalise=False,
    )
    if not slugs:
        return Where()
    return Where("t.dataset_id IN (SELECT id FROM layers_dataset WHERE slug = ANY(%s))", [slugs])


class GeologicalUnitTileLayer(TileLayer):
    def tile_sql(self, tile: Tile, query: QueryDict, user: Any) -> tuple[str, SqlParams]:
        return feature_tile_sql(
            layer=self.name,
            table="layers_geologicalunit",
            properties={"name": "t.name", "lithology": "t.lithology", "age": "t.age"},
            where=dataset_visibility_where(user=user) & _dataset_where(query, user),
            tile=tile,
            max_features=20000,
            # Below about a pixel across, a polygon is invisible: leave it out of the tile.
            min_feature_px=1.0,
            geometry_family="polygon",
        )

    def version_sql(self) -> str:
        return DATA_STATE_SQL

    def allowed_params(self) -> set[str]:
        return {"v", "dataset"}


class StructureTileLayer(TileLayer):
    def tile_sql(self, tile: Tile, query: QueryDict, user: Any) -> tuple[str, SqlParams]:
        return feature_tile_sql(
            layer=self.name,
            table="layers_structure",
            properties={"name": "t.name", "structure_type": "t.structure_type"},
            where=dataset_visibility_where(user=user) & _dataset_where(query, user),
            tile=tile,
            max_features=20000,
            min_feature_px=1.0,
            geometry_family="line",
        )

    def version_sql(self) -> str:
        return DATA_STATE_SQL

    def allowed_params(self) -> set[str]:
        return {"v", "dataset"}


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


class VectorDatasetTileLayer(TileLayer):
    """A published generic vector dataset, served with its own attributes."""

    dataset_id: int = 0

    def tile_sql(self, tile: Tile, query: QueryDict, user: Any) -> tuple[str, SqlParams]:
        return feature_tile_sql(
            layer=self.name,
            table="layers_vectorfeature",
            # jsonb becomes one MVT property per key (PostGIS >= 3).
            properties={"attributes": "t.attributes"},
            where=dataset_visibility_where(user=user)
            & Where("t.dataset_id = %s", [self.dataset_id]),
            tile=tile,
            max_features=20000,
            # A point has no size: the size filter would drop every one.
            min_feature_px=0.0 if self.geometry_type == "point" else 1.0,
            # No fast geometry path: a generic dataset may mix kinds (its type is a first-row guess).
        )

    def version_sql(self) -> str:
        return DATA_STATE_SQL


VECTOR_PREFIX = "dataset-"
GEOMETRY_FAMILY = {
    "POINT": "point",
    "MULTIPOINT": "point",
    "LINESTRING": "line",
    "MULTILINESTRING": "line",
}


class VectorDatasets:
    """Makes a tile layer of each vector dataset a user may see."""

    def _layer(self, dataset: Dataset) -> VectorDatasetTileLayer:
        sample = dataset.vector_features.order_by("id").values_list("attributes", flat=True)[:50]
        fields = sorted({key for attributes in sample for key in attributes})
        first = dataset.vector_features.order_by("id").first()
        family = (
            GEOMETRY_FAMILY.get(first.geom.geom_type.upper(), "polygon") if first else "polygon"
        )
        layer = VectorDatasetTileLayer(
            name=f"{VECTOR_PREFIX}{dataset.slug}",
            title=dataset.title,
            description=dataset.abstract or dataset.title,
            geometry_type=family,
            fields=dict.fromkeys(fields, "String"),
        )
        layer.dataset_id = dataset.pk
        return layer

    def resolve(self, name: str, user: Any) -> TileLayer | None:
        if not name.startswith(VECTOR_PREFIX):
            return None
        dataset = (
            datasets_visible(user=user)
            .filter(kind=DatasetKind.VECTOR, slug=name[len(VECTOR_PREFIX) :])
            .first()
        )
        return self._layer(dataset) if dataset else None

    def visible(self, user: Any) -> list[TileLayer]:
        datasets = (
            datasets_visible(user=user)
            .filter(kind=DatasetKind.VECTOR, vector_features__isnull=False)
            .distinct()
        )
        return [self._layer(d) for d in datasets.order_by("title")[:50]]


register_source(VectorDatasets())
