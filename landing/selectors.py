"""Reads for the landing page and the member-state profiles.

Live counts go through the one visibility rule (layers.selectors): the public counts published
datasets only, an editor also their own member state's unpublished ones.
"""

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypedDict

from django.db import connection
from django.db.models import Count, Exists, Max, OuterRef, Q, QuerySet

from deposits.models import (
    Commodity,
    MemberState,
    MineralOccurrence,
    OccurrenceCommodity,
    OccurrenceStatus,
    without_boundaries,
)
from deposits.selectors import MEMBER_STATES_STATE_SQL
from landing.models import IndicatorValue
from layers.selectors import cached_per_data_version, dataset_visibility_where, datasets_visible

PRODUCTION = "mine-production"
TRADE_VALUE = ("minerals-exports-value", "minerals-imports-value")
TRADE_SHARE = ("minerals-exports-share", "minerals-imports-share")
WORLD_SHARES = ("world-production-share", "world-reserves-share")
WORLD_RANKS = ("world-production-rank", "world-reserves-rank")
PHASE_ONE = (
    "amcap-phase1-achievement",
    "amcap-phase1-action-lines",
    "amcap-phase1-completed",
    "amcap-phase1-carried-over",
    "asean-plus-three-achievement",
    "capacity-building-activities",
    "minerals-awards-awardees",
    "minerals-awards-companies",
    "mining-fdi-direction",
)
# Facts shown on a profile besides trade and commodities.
PROFILE_FACTS = (
    "gdp-share-minerals",
    "mining-jobs",
    "oil-gas-exports-share",
)
TREND_YEARS = 46  # production trends show the last 46 years of a series (1970-2015 for OWID)


class SiteFigures(TypedDict):
    occurrences: int
    datasets: int
    member_states_with_data: int
    member_states: int
    commodities: int
    last_update: datetime | None


def site_figures(*, user: Any) -> SiteFigures:
    """What AMDIS holds today, as this user may see it."""
    return cached_per_data_version(
        "landing:site-figures", user=user, compute=lambda: _site_figures(user)
    )


def _site_figures(user: Any) -> SiteFigures:
    datasets = datasets_visible(user=user)
    occurrences = MineralOccurrence.objects.filter(dataset__in=datasets)
    # "Is there one?" per member state and per commodity, through their indexes: counting
    # distinct values instead read every occurrence and link (1.4 s over 1M occurrences).
    with_data = MemberState.objects.filter(Exists(occurrences.filter(member_state=OuterRef("pk"))))
    named = Commodity.objects.filter(
        Exists(
            OccurrenceCommodity.objects.filter(
                commodity=OuterRef("pk"), occurrence__dataset__in=datasets
            )
        )
    )
    return {
        "occurrences": occurrences.count(),
        "datasets": datasets.count(),
        "member_states_with_data": with_data.count(),
        "member_states": MemberState.objects.count(),
        "commodities": named.count(),
        "last_update": datasets.aggregate(latest=Max("updated_at"))["latest"],
    }


def member_states() -> QuerySet[MemberState]:
    return MemberState.objects.order_by("name")


def member_state_get(*, code: str) -> MemberState | None:
    return MemberState.objects.filter(code=code.upper()).first()


def _values() -> QuerySet[IndicatorValue]:
    return IndicatorValue.objects.select_related(
        "indicator", "member_state", "commodity", "source"
    ).defer(*without_boundaries("member_state"))


def indicator_values(
    *, codes: tuple[str, ...], member_state: MemberState | None = None
) -> list[IndicatorValue]:
    """The latest value per indicator, member state (or ASEAN) and commodity, for these indicators."""
    values = _values().filter(indicator__code__in=codes)
    if member_state is not None:
        values = values.filter(member_state=member_state)
    latest: dict[tuple[Any, ...], IndicatorValue] = {}
    for value in values.order_by("year"):
        latest[(value.indicator_id, value.member_state_id, value.commodity_id)] = value
    order = {code: index for index, code in enumerate(codes)}
    return sorted(
        latest.values(),
        key=lambda v: (
            v.member_state.name if v.member_state else "",
            order[v.indicator.code],
            v.commodity.name if v.commodity else "",
        ),
    )


def asean_values(*, codes: tuple[str, ...]) -> list[IndicatorValue]:
    values = indicator_values(codes=codes)
    return [v for v in values if v.member_state_id is None]


def production_commodities() -> list[Commodity]:
    """Commodities with some non-zero mine production, by name."""
    ids = (
        IndicatorValue.objects.filter(indicator__code=PRODUCTION)
        .exclude(value=0)
        .values("commodity_id")
    )
    return list(Commodity.objects.filter(pk__in=ids).order_by("name"))


@dataclass(frozen=True)
class Series:
    """Yearly values of one line: a member state (for one commodity) or a commodity (for one state)."""

    member_state: MemberState
    commodity: Commodity
    unit: str
    source_id: int
    points: tuple[tuple[int, Any], ...]  # (year, Decimal value), by year


def production_series(
    *, commodity: Commodity | None = None, member_state: MemberState | None = None
) -> list[Series]:
    """Mine production over the last TREND_YEARS years that have data; all-zero series left out."""
    values = IndicatorValue.objects.filter(indicator__code=PRODUCTION)
    if commodity is not None:
        values = values.filter(commodity=commodity)
    if member_state is not None:
        values = values.filter(member_state=member_state)
    last = values.aggregate(last=Max("year"))["last"]
    if last is None:
        return []
    first = last - TREND_YEARS + 1
    window = values.filter(year__gte=first).select_related("member_state", "commodity")
    grouped: dict[tuple[int, int, int], list[IndicatorValue]] = {}
    for value in window.order_by("year"):
        key = (value.member_state_id or 0, value.commodity_id or 0, value.source_id)
        grouped.setdefault(key, []).append(value)
    series = []
    for rows in grouped.values():
        if all(row.value == 0 for row in rows) or rows[0].member_state is None:
            continue
        commodity_of = rows[0].commodity
        if commodity_of is None:
            continue
        series.append(
            Series(
                member_state=rows[0].member_state,
                commodity=commodity_of,
                unit=rows[0].unit,
                source_id=rows[0].source_id,
                points=tuple((row.year, row.value) for row in rows),
            )
        )
    return sorted(series, key=lambda s: (s.member_state.name, s.commodity.name))


def _visible_occurrences(*, user: Any, member_state: MemberState) -> QuerySet[MineralOccurrence]:
    return MineralOccurrence.objects.filter(
        member_state=member_state, dataset__in=datasets_visible(user=user)
    )


# A member state's profile counts and draws every visible occurrence of the state: cached
# per data version (layers.selectors.cached_per_data_version), 1.8 s a view for a state of
# a million occurrences.


def occurrences_by_commodity(
    *, user: Any, member_state: MemberState, limit: int
) -> list[tuple[Commodity, int]]:
    """How many occurrences name each commodity (main or secondary), the most frequent first."""
    return cached_per_data_version(
        f"landing:by-commodity:{member_state.pk}:{limit}",
        user=user,
        compute=lambda: _occurrences_by_commodity(user, member_state, limit),
    )


def _occurrences_by_commodity(
    user: Any, member_state: MemberState, limit: int
) -> list[tuple[Commodity, int]]:
    occurrences = _visible_occurrences(user=user, member_state=member_state)
    counts = (
        OccurrenceCommodity.objects.filter(occurrence__in=occurrences)
        .values("commodity_id")
        .annotate(n=Count("occurrence_id", distinct=True))
        .order_by("-n", "commodity__name")[:limit]
    )
    by_id = {row["commodity_id"]: row["n"] for row in counts}
    commodities = Commodity.objects.in_bulk(list(by_id))
    return sorted(
        ((commodities[pk], n) for pk, n in by_id.items()), key=lambda item: (-item[1], item[0].name)
    )


def occurrences_by_status(*, user: Any, member_state: MemberState) -> list[tuple[str, str, int]]:
    """(status, label, count) for every status, zeros included, in the vocabulary's order."""
    counts = cached_per_data_version(
        f"landing:by-status:{member_state.pk}",
        user=user,
        compute=lambda: _occurrences_by_status(user, member_state),
    )
    return [
        (status.value, str(status.label), counts.get(status.value, 0))
        for status in OccurrenceStatus
    ]


def _occurrences_by_status(user: Any, member_state: MemberState) -> dict[str, int]:
    return dict(
        _visible_occurrences(user=user, member_state=member_state)
        .values("status")
        .annotate(n=Count("id"))
        .values_list("status", "n")
    )


def occurrences_count(*, user: Any, member_state: MemberState) -> int:
    return cached_per_data_version(
        f"landing:count:{member_state.pk}",
        user=user,
        compute=lambda: _visible_occurrences(user=user, member_state=member_state).count(),
    )


@dataclass(frozen=True)
class StateMap:
    """A small map drawn from PostGIS: SVG path data in Web Mercator metres (y flipped)."""

    view_box: str
    target: str
    neighbours: tuple[str, ...]
    dots: tuple[tuple[int, int, int, int], ...]  # x, y (SVG units), occurrences in the cell, radius
    center_lon: float
    center_lat: float
    zoom: int


MAP_VERTEX_TOLERANCE = 1 / 400  # of the map's width: well under a pixel at 400 px
MAP_GRID = 1 / 60  # occurrences merged per cell of this share of the width


def member_state_map(*, user: Any, member_state: MemberState) -> StateMap | None:
    """The boundary, neighbours clipped to the frame and occurrences merged per grid cell
    (None without a boundary: its envelope is then NULL)."""
    # data_version() follows datasets only: the key also holds the boundaries' state (this
    # state's and its neighbours', as the member-state tiles' version does).
    with connection.cursor() as cursor:
        cursor.execute(MEMBER_STATES_STATE_SQL)
        (boundaries,) = cursor.fetchone() or ("",)
    # A list around the result: the cache cannot tell a cached None from a missing entry.
    (state_map,) = cached_per_data_version(
        f"landing:map:{member_state.pk}:{boundaries}",
        user=user,
        compute=lambda: [_member_state_map(user, member_state)],
    )
    return state_map


def _member_state_map(user: Any, member_state: MemberState) -> StateMap | None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e),"
            " ST_X(ST_Transform(ST_Centroid(e), 4326)), ST_Y(ST_Transform(ST_Centroid(e), 4326))"
            " FROM (SELECT ST_Envelope(boundary_3857) AS e FROM deposits_memberstate"
            " WHERE id = %s) s",
            [member_state.pk],
        )
        row = cursor.fetchone()
    if row is None or row[0] is None:
        return None
    xmin, ymin, xmax, ymax, lon, lat = row
    pad = max(xmax - xmin, ymax - ymin) * 0.06 + 1000
    xmin, ymin, xmax, ymax = xmin - pad, ymin - pad, xmax + pad, ymax + pad
    width = max(xmax - xmin, ymax - ymin)
    box = "ST_MakeEnvelope(%s, %s, %s, %s, 3857)"
    box_params = [xmin, ymin, xmax, ymax]
    tolerance = width * MAP_VERTEX_TOLERANCE
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id, ST_AsSVG(ST_Simplify(ST_ClipByBox2D(boundary_3857, " + box + "), %s), 0, 0)"
            " FROM deposits_memberstate WHERE boundary_3857 && " + box,
            [*box_params, tolerance, *box_params],
        )
        shapes = [(pk, svg) for pk, svg in cursor.fetchall() if svg]
        visibility = dataset_visibility_where(user=user, column="t.dataset_id")
        cell = width * MAP_GRID
        cursor.execute(
            "SELECT ST_X(c), ST_Y(c), n FROM (SELECT ST_SnapToGrid(t.geom_3857, %s) AS c,"
            " count(*) AS n FROM deposits_mineraloccurrence t"
            f" WHERE t.member_state_id = %s AND {visibility.sql} GROUP BY 1) s ORDER BY n",
            [cell, member_state.pk, *visibility.params],
        )
        radius = width / 150
        dots = tuple(
            (round(x), round(-y), n, round(radius * (1 + 0.6 * math.log10(n))))
            for x, y, n in cursor.fetchall()
        )
    # The zoom at which the frame fills about 600 px of the WebGIS.
    zoom = max(2, min(10, math.floor(math.log2(40_075_016 * 600 / 256 / width))))
    return StateMap(
        view_box=f"{round(xmin)} {round(-ymax)} {round(xmax - xmin)} {round(ymax - ymin)}",
        target=next((svg for pk, svg in shapes if pk == member_state.pk), ""),
        neighbours=tuple(svg for pk, svg in shapes if pk != member_state.pk),
        dots=dots,
        center_lon=round(lon, 3),
        center_lat=round(lat, 3),
        zoom=zoom,
    )


def member_states_with_figures() -> set[int]:
    """Ids of member states that have any indicator value."""
    return set(
        IndicatorValue.objects.filter(~Q(member_state=None))
        .values_list("member_state_id", flat=True)
        .distinct()
    )
