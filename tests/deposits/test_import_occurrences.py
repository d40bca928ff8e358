"""Import of the real USGS files in ../shared/data through the committed column mappings."""

from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from deposits.mapping import MappingError, OccurrenceMapping
from deposits.models import MemberState, MineralOccurrence, OccurrenceCommodity
from deposits.services import OccurrenceImportError, occurrence_import
from layers.models import Dataset

MAPPINGS = Path(settings.BASE_DIR) / "fixtures" / "mappings"
PORCU = "minerals_usgs_porphyry_copper_2008"
PP1802 = "minerals_usgs_pp1802_critical"

pytestmark = pytest.mark.django_db


def porcu_mapping() -> OccurrenceMapping:
    return OccurrenceMapping.load(MAPPINGS / "usgs_porphyry_copper_2008.json")


def pp1802_mapping() -> OccurrenceMapping:
    return OccurrenceMapping.load(MAPPINGS / "usgs_pp1802_critical.json")


def counts_by_state(slug: str) -> dict[str, int]:
    occurrences = MineralOccurrence.objects.filter(dataset__slug=slug)
    return {
        code: occurrences.filter(member_state__code=code).count()
        for code in MemberState.objects.values_list("code", flat=True)
        if occurrences.filter(member_state__code=code).exists()
    }


def test_it_imports_the_asean_porphyry_copper_subset_with_source_counts(shared_data: Path) -> None:
    report = occurrence_import(
        path=shared_data / PORCU / "porcu_seasia_bbox.csv", mapping=porcu_mapping()
    )

    # SOURCE.md: 79 rows in the box, 67 in ASEAN states (PHL 44, IDN 13, MYS 4, THA 3, MMR 2, LAO 1).
    assert (report.read, report.imported) == (79, 67)
    assert counts_by_state("usgs-porphyry-copper-2008") == {
        "IDN": 13,
        "LAO": 1,
        "MMR": 2,
        "MYS": 4,
        "PHL": 44,
        "THA": 3,
    }
    assert len(report.outside_member_states) == 12
    assert not report.rejected


def test_it_reads_the_original_global_csv_with_multiline_fields(shared_data: Path) -> None:
    report = occurrence_import(
        path=shared_data / PORCU / "PorCuEX2008.csv", mapping=porcu_mapping()
    )

    assert report.read == 690
    assert report.imported == 67
    atlas = MineralOccurrence.objects.get(dataset__slug="usgs-porphyry-copper-2008", name="Atlas")
    assert atlas.member_state.code == "PHL"
    assert "\n" in atlas.references  # a quoted multi-line field survived intact


def test_it_maps_grades_to_secondary_commodities(shared_data: Path) -> None:
    occurrence_import(path=shared_data / PORCU / "porcu_seasia_bbox.csv", mapping=porcu_mapping())

    atlas = MineralOccurrence.objects.get(name="Atlas")
    ranks = {
        link.commodity.code: link.rank for link in atlas.commodity_links.select_related("commodity")
    }
    assert ranks["copper"] == "main"
    assert ranks.get("gold") == "secondary"
    assert atlas.grades["copper"]["unit"] == "%"
    assert atlas.grades["copper"]["value"] > 0


def test_it_imports_critical_minerals_and_maps_every_commodity(shared_data: Path) -> None:
    report = occurrence_import(
        path=shared_data / PP1802 / "pp1802_seasia_bbox.csv", mapping=pp1802_mapping()
    )

    # SOURCE.md: 114 rows in the box, 52 in ASEAN states.
    assert (report.read, report.imported) == (114, 52)
    assert counts_by_state("usgs-pp1802-critical-minerals") == {
        "IDN": 14,
        "MMR": 3,
        "MYS": 7,
        "PHL": 13,
        "THA": 10,
        "VNM": 5,
    }
    assert report.unmapped_terms == {}
    tin = OccurrenceCommodity.objects.filter(
        commodity__code="tin", occurrence__dataset__slug="usgs-pp1802-critical-minerals"
    )
    assert tin.count() >= 10


def test_it_reads_the_global_critical_minerals_file(shared_data: Path) -> None:
    report = occurrence_import(
        path=shared_data / PP1802 / "usgs_pp1802_critical_minerals_world.csv",
        mapping=pp1802_mapping(),
    )

    assert (report.read, report.imported) == (2121, 52)
    assert len(report.outside_member_states) == 2121 - 52


def test_it_imports_geojson_with_its_own_geometry(shared_data: Path, tmp_path: Path) -> None:
    spec = porcu_mapping()
    mapping = OccurrenceMapping.from_dict(
        {
            "dataset": spec.dataset,
            "fields": {
                "name": "NameDeposit",
                "country": "Country",
                "status": {"constant": "deposit"},
            },
            "commodities": {"main": {"constant": ["copper"]}},
        }
    )
    report = occurrence_import(
        path=shared_data / PORCU / "porcu_seasia_bbox.geojson", mapping=mapping
    )

    assert (report.read, report.imported) == (79, 67)


def test_reimport_replaces_the_dataset_and_raises_its_version(shared_data: Path) -> None:
    path = shared_data / PORCU / "porcu_seasia_bbox.csv"
    occurrence_import(path=path, mapping=porcu_mapping())
    occurrence_import(path=path, mapping=porcu_mapping())

    dataset = Dataset.objects.get(slug="usgs-porphyry-copper-2008")
    assert dataset.version == 2
    assert dataset.occurrences.count() == 67


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


SMALL_MAPPING = {
    "dataset": {"slug": "small", "title": "Small", "licence": "CC BY 4.0"},
    "geometry": {"lon": "lon", "lat": "lat"},
    "fields": {
        "name": "name",
        "status": {"column": "status", "values": {"Mine": "operating_mine"}},
    },
    "commodities": {"main": {"column": "commodity", "split": "/"}},
}


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_it_detects_the_delimiter(tmp_path: Path, delimiter: str) -> None:
    rows = [
        ["name", "lon", "lat", "status", "commodity"],
        ["Batu Hijau", "116.87", "-8.96", "Mine", "Cu/Au"],
    ]
    path = write(tmp_path, "x.csv", "\n".join(delimiter.join(r) for r in rows) + "\n")

    report = occurrence_import(path=path, mapping=OccurrenceMapping.from_dict(SMALL_MAPPING))

    assert report.imported == 1
    occurrence = MineralOccurrence.objects.get(name="Batu Hijau")
    assert occurrence.status == "operating_mine"
    assert occurrence.member_state.code == "IDN"
    assert sorted(occurrence.commodities.values_list("code", flat=True)) == ["copper", "gold"]


def test_it_reads_a_bom_and_quoted_multiline_names(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "x.csv",
        '\ufeffname,lon,lat,status,commodity\n"Tampakan\nproject",125.05,6.48,,Cu\n',
    )

    report = occurrence_import(path=path, mapping=OccurrenceMapping.from_dict(SMALL_MAPPING))

    assert report.imported == 1
    assert MineralOccurrence.objects.filter(
        name="Tampakan\nproject", member_state__code="PHL"
    ).exists()


def test_it_reports_unmapped_terms_and_bad_rows_with_row_numbers(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "x.csv",
        "name,lon,lat,status,commodity\n"
        "Good,121.0,15.0,,Cu\n"
        "Bogus commodity,121.1,15.1,,Unobtainium\n"
        "Far north,200,95,,Cu\n"
        "Not a number,abc,15,,Cu\n"
        ",121,15,,Cu\n"
        "In the sea,150.0,-30.0,,Cu\n"
        "Odd status,121.2,15.2,Dormant,Cu\n",
    )

    report = occurrence_import(path=path, mapping=OccurrenceMapping.from_dict(SMALL_MAPPING))

    assert report.read == 7
    assert report.imported == 3  # Good, Bogus commodity (kept, term reported), Odd status
    assert [n for n, _ in report.rejected] == [3, 4, 5]
    assert "out of range" in report.rejected[0][1]
    assert [n for n, _ in report.outside_member_states] == [6]
    assert report.unmapped_terms["commodity"] == {"Unobtainium": 1}
    assert report.unmapped_terms["status"] == {"Dormant": 1}


def test_a_mapping_naming_a_missing_column_writes_nothing(tmp_path: Path) -> None:
    path = write(tmp_path, "x.csv", "title,lon,lat\nA,121,15\n")

    with pytest.raises(MappingError, match="does not have: 'commodity', 'name', 'status'"):
        occurrence_import(path=path, mapping=OccurrenceMapping.from_dict(SMALL_MAPPING))

    assert not Dataset.objects.filter(slug="small").exists()
    assert not MineralOccurrence.objects.exists()


def test_it_refuses_to_import_before_boundaries_exist(tmp_path: Path) -> None:
    MemberState.objects.update(boundary=None)
    path = write(tmp_path, "x.csv", "name,lon,lat,status,commodity\nA,121,15,,Cu\n")

    with pytest.raises(OccurrenceImportError, match="import_boundaries"):
        occurrence_import(path=path, mapping=OccurrenceMapping.from_dict(SMALL_MAPPING))
    assert not Dataset.objects.filter(slug="small").exists()


def test_the_command_prints_the_report(
    shared_data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    call_command(
        "import_occurrences",
        str(shared_data / PP1802 / "pp1802_seasia_bbox.csv"),
        "--mapping",
        str(MAPPINGS / "usgs_pp1802_critical.json"),
    )

    out = capsys.readouterr().out
    assert "read 114 rows, imported 52" in out
    assert "outside the member states: 62 rows" in out
    assert "row 1: Jiangnan" in out


def test_the_command_explains_a_bad_mapping(tmp_path: Path) -> None:
    mapping = write(tmp_path, "m.json", '{"dataset": {"slug": "x"}}')
    with pytest.raises(CommandError, match=r"dataset.title is required\. Nothing was imported"):
        call_command("import_occurrences", str(tmp_path / "x.csv"), "--mapping", str(mapping))
