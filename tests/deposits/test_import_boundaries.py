"""Admin-0 boundaries from the real Natural Earth files, in every format they come in."""

from pathlib import Path

import pytest
from django.core.management import call_command

from deposits.models import MemberState
from deposits.services import boundaries_import

pytestmark = pytest.mark.django_db
ALL = ["BRN", "IDN", "KHM", "LAO", "MMR", "MYS", "PHL", "SGP", "THA", "TLS", "VNM"]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("ne_50m_admin_0_countries.zip", ALL),  # zipped shapefile, matched on ISO_A3 / ADM0_A3
        ("asean_admin0_ne50m.gpkg", [c for c in ALL if c != "TLS"]),  # the ten-country subset
        ("asean_admin0_ne10m.geojson", [c for c in ALL if c != "TLS"]),
        (
            "world-atlas-2.0.2_countries-10m.topojson.json",
            ALL,
        ),  # TopoJSON, matched on ISO numeric id
    ],
)
def test_it_loads_member_state_boundaries(
    shared_data: Path, name: str, expected: list[str]
) -> None:
    MemberState.objects.update(boundary=None)

    report = boundaries_import(path=shared_data / "ne_admin0" / name)

    assert report.loaded == expected
    loaded = MemberState.objects.filter(boundary__isnull=False)
    assert sorted(loaded.values_list("code", flat=True)) == expected
    jakarta = "POINT(106.85 -6.2)"
    assert MemberState.objects.get(boundary__covers=jakarta).code == "IDN"


def test_a_boundary_gets_its_web_mercator_copy(shared_data: Path) -> None:
    boundaries_import(path=shared_data / "ne_admin0" / "ne_50m_admin_0_countries.zip")

    singapore = MemberState.objects.get(code="SGP")
    assert singapore.boundary_3857 is not None
    assert singapore.boundary_3857.srid == 3857
    assert singapore.boundary_source == "ne_50m_admin_0_countries.zip"


def test_all_eleven_members_are_data_timor_leste_included() -> None:
    timor = MemberState.objects.get(code="TLS")
    assert (timor.name, timor.accession_year) == ("Timor-Leste", 2025)
    assert MemberState.objects.count() == 11


def test_the_command_reports_what_it_could_not_find(
    shared_data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    call_command("import_boundaries", str(shared_data / "ne_admin0" / "asean_admin0_ne50m.gpkg"))

    out = capsys.readouterr().out
    assert "Loaded boundaries for 10 member states" in out
    assert "Not found in the file: TLS" in out
