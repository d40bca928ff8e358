"""Per-feature geometry checks while reading (RELIABILITY.md file cases 20-21)."""

import shapely

from layers.ingest.safety import check_geometries


def test_invalid_empty_and_out_of_range_geometries_are_reported_with_rows() -> None:
    bowtie = shapely.from_wkt("POLYGON ((0 0, 1 1, 1 0, 0 1, 0 0))")
    wkb = [
        shapely.to_wkb(shapely.Point(100, 15)),
        shapely.to_wkb(bowtie),
        shapely.to_wkb(shapely.Point(200, 10)),
        shapely.to_wkb(shapely.from_wkt("POLYGON EMPTY")),
        None,
        shapely.to_wkb(shapely.Point(float("nan"), 10)),
    ]

    problems = check_geometries(wkb, first_row=11)

    assert [(p.row, p.code) for p in problems] == [
        (12, "invalid_geometry"),
        (13, "out_of_range"),
        (14, "empty_geometry"),
        (15, "no_geometry"),
        (16, "not_finite"),
    ]
    assert "Self-intersection" in problems[0].message


def test_projected_coordinates_are_not_range_checked() -> None:
    assert (
        check_geometries([shapely.to_wkb(shapely.Point(650_000, 1_500_000))], geographic=False)
        == []
    )
