import pytest
from django.contrib.gis.geos import Point
from django.db import IntegrityError

from deposits.models import Commodity, CommodityGroup, MineralOccurrence, OccurrenceCommodity

pytestmark = pytest.mark.django_db


def test_an_occurrence_is_stored_in_web_mercator_too(make_occurrence) -> None:
    occurrence = make_occurrence(lon=120.0, lat=0.0)
    occurrence.refresh_from_db()

    assert occurrence.geom_3857.srid == 3857
    assert occurrence.geom_3857.x == pytest.approx(13358338.9, rel=1e-6)


def test_a_commodity_is_ranked_once_per_occurrence(make_occurrence) -> None:
    occurrence = make_occurrence(main=("copper",))
    with pytest.raises(IntegrityError):
        OccurrenceCommodity.objects.create(
            occurrence=occurrence, commodity=Commodity.objects.get(code="copper"), rank="secondary"
        )


def test_the_vocabulary_follows_cgi_terms_and_covers_every_group() -> None:
    copper = Commodity.objects.get(code="copper")
    assert copper.uri == "http://resource.geosciml.org/classifier/cgi/commodity-code/copper"
    assert copper.symbol == "Cu"
    groups = set(Commodity.objects.values_list("group", flat=True))
    assert groups == set(CommodityGroup.values)


def test_spatial_lookups_run_in_postgis(make_occurrence) -> None:
    make_occurrence("Inside", lon=121.0, lat=15.0)
    make_occurrence("Outside", lon=101.0, lat=15.0, state="THA")

    inside = MineralOccurrence.objects.filter(
        geom__within=Point(121, 15, srid=4326).buffer(0.5)
    ).values_list("name", flat=True)
    assert list(inside) == ["Inside"]
