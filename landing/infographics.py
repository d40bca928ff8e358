"""The charts of the landing page and of the member-state profiles, built from the selectors.

Each builder returns a `Chart` (landing/charts.py) whose data feed the drawing, the table and
the CSV alike. Builders are looked up by slug for the CSV downloads (HOME_CHARTS,
PROFILE_CHARTS).
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext, pgettext

from deposits.models import Commodity, MemberState
from landing import selectors
from landing.charts import Chart, Datum, SeriesInfo, SourceRef, period_of
from landing.indicator_file import OWID_METAL_PRODUCTION
from landing.models import IndicatorValue, Source
from landing.numbers import format_amount, format_number

UNIT_NAMES = {"kt": "thousand tonnes (kt)", "t": "tonnes (t)"}
OCCURRENCE_COMMODITY_LIMIT = 15


@dataclass(frozen=True)
class ChartContext:
    """What a chart may depend on: who looks, at which member state, for which commodity."""

    user: Any
    member_state: MemberState | None = None
    commodity: Commodity | None = None


def _name(obj: MemberState | Commodity | None) -> str:
    return gettext(obj.name) if obj is not None else gettext("ASEAN")


def _source_refs(sources: Iterable[Source]) -> tuple[SourceRef, ...]:
    unique = {s.pk: s for s in sources}
    return tuple(
        SourceRef(name=s.name, url=s.url, licence=s.licence)
        for s in sorted(unique.values(), key=lambda s: s.name)
    )


def _live_source() -> tuple[SourceRef, ...]:
    return (
        SourceRef(
            name=gettext("AMDIS database: published datasets, counted when the page is shown"),
            url=reverse("api-occurrences"),
        ),
    )


def _csv_url(slug: str, context: ChartContext, **query: str) -> str:
    if context.member_state is not None:
        url = reverse("landing-profile-chart-csv", args=[context.member_state.code, slug])
    else:
        url = reverse("landing-chart-csv", args=[slug])
    return f"{url}?{urlencode(query)}" if query else url


def _datum(
    value: IndicatorValue,
    *,
    key: str,
    label: str,
    series: str,
    usual: int | None = None,
    with_unit: bool = True,
) -> Datum:
    """A plan or statistics figure; its year is written beside it when it is not the usual one."""
    text = value.formatted(with_unit=with_unit)
    if usual is not None and value.year != usual:
        text = f"{text} ({value.year})"
    return Datum(
        key=key,
        label=label,
        series=series,
        value=value.value,
        text=text,
        unit=value.unit,
        year=value.year,
        qualifier=value.qualifier,
        source=value.source.name,
        note=gettext(value.note) if value.note else "",
    )


def _key_and_label(value: IndicatorValue, *, with_commodity: bool) -> tuple[str, str]:
    state = value.member_state
    assert state is not None
    if not with_commodity:
        return state.code, _name(state)
    commodity = value.commodity
    assert commodity is not None
    return f"{state.code}/{commodity.code}", f"{_name(state)} · {_name(commodity)}"


def _member_state_data(
    values: list[IndicatorValue], series: dict[str, SeriesInfo], *, with_commodity: bool = False
) -> tuple[tuple[Datum, ...], str]:
    """Values of member states (not ASEAN-wide ones) as data, sorted by name, and the period."""
    kept = [
        v
        for v in values
        if v.member_state is not None and (v.commodity is not None or not with_commodity)
    ]
    labelled = sorted(
        ((v, *_key_and_label(v, with_commodity=with_commodity)) for v in kept),
        key=lambda item: item[2],
    )
    usual, period = period_of((label, v.year) for v, _key, label in labelled)
    data = tuple(
        _datum(v, key=key, label=label, series=series[v.indicator.code].code, usual=usual)
        for v, key, label in labelled
    )
    return data, period


def trade_value_chart(context: ChartContext) -> Chart:
    series = {
        "minerals-exports-value": SeriesInfo("exports", gettext("Exports")),
        "minerals-imports-value": SeriesInfo("imports", gettext("Imports")),
    }
    values = selectors.indicator_values(
        codes=selectors.TRADE_VALUE, member_state=context.member_state
    )
    data, period = _member_state_data(values, series)
    return Chart(
        slug="trade-value",
        title=gettext("Minerals exports and imports by value"),
        unit_label=gettext("US dollars"),
        period=period,
        key_column="member_state",
        kind="bars",
        series=tuple(series.values()),
        data=data,
        sources=_source_refs(v.source for v in values),
        note=gettext(
            "All bars share one scale, so the smallest values are too short to see: "
            "read their figures beside them."
        ),
        csv_url=_csv_url("trade-value", context),
        empty_text=gettext("The plan gives no trade values for this member state."),
    )


def trade_share_chart(context: ChartContext) -> Chart:
    series = {
        "minerals-exports-share": SeriesInfo("exports", gettext("Share of total exports")),
        "minerals-imports-share": SeriesInfo("imports", gettext("Share of total imports")),
    }
    values = selectors.indicator_values(
        codes=selectors.TRADE_SHARE, member_state=context.member_state
    )
    data, period = _member_state_data(values, series)
    return Chart(
        slug="trade-share",
        title=gettext("Minerals and metals as a share of all trade"),
        unit_label=gettext("percent of the member state's total exports or imports"),
        period=period,
        key_column="member_state",
        kind="bars",
        series=tuple(series.values()),
        data=data,
        sources=_source_refs(v.source for v in values),
        scale_max=Decimal(100),
        csv_url=_csv_url("trade-share", context),
        empty_text=gettext("The plan gives no trade shares for this member state."),
    )


def world_share_chart(context: ChartContext) -> Chart:
    series = {
        "world-production-share": SeriesInfo(
            "production", gettext("Share of world mine production")
        ),
        "world-reserves-share": SeriesInfo("reserves", gettext("Share of world reserves")),
    }
    values = selectors.indicator_values(
        codes=selectors.WORLD_SHARES, member_state=context.member_state
    )
    data, period = _member_state_data(values, series, with_commodity=True)
    return Chart(
        slug="world-shares",
        title=gettext("Commodity highlights: shares of the world's mine production and reserves"),
        unit_label=gettext("percent of the world total"),
        period=period,
        key_column="member_state/commodity",
        kind="bars",
        series=tuple(series.values()),
        data=data,
        sources=_source_refs(v.source for v in values),
        scale_max=Decimal(100),
        csv_url=_csv_url("world-shares", context),
        empty_text=gettext("The plan gives no world shares for this member state."),
    )


def world_rank_chart(context: ChartContext) -> Chart:
    series = {
        "world-production-rank": SeriesInfo("production", gettext("Among producers")),
        "world-reserves-rank": SeriesInfo("reserves", gettext("By reserves")),
    }
    values = selectors.indicator_values(
        codes=selectors.WORLD_RANKS, member_state=context.member_state
    )
    data, period = _member_state_data(values, series, with_commodity=True)
    return Chart(
        slug="world-ranks",
        title=gettext("Commodity highlights: places in the world"),
        unit_label=gettext("rank (1st is the largest)"),
        period=period,
        key_column="member_state/commodity",
        kind="table",
        series=tuple(series.values()),
        data=data,
        sources=_source_refs(v.source for v in values),
        csv_url=_csv_url("world-ranks", context),
        empty_text=gettext("The plan gives no world ranks for this member state."),
    )


def _indicator_cards(
    values: list[IndicatorValue], *, slug: str, title: str, context: ChartContext, empty: str
) -> Chart:
    data = tuple(
        _datum(
            v,
            key=v.indicator.code,
            label=gettext(v.indicator.name),
            series=v.indicator.kind,
            with_unit=False,
        )
        for v in values
    )
    years = sorted({v.year for v in values})
    return Chart(
        slug=slug,
        title=title,
        unit_label=gettext("as given with each figure"),
        period=", ".join(str(year) for year in years),
        key_column="indicator",
        kind="cards",
        series=(),
        data=data,
        sources=_source_refs(v.source for v in values),
        scale_max=Decimal(100),
        csv_url=_csv_url(slug, context),
        empty_text=empty,
    )


def asean_overview_chart(context: ChartContext) -> Chart:
    return _indicator_cards(
        selectors.asean_values(codes=selectors.PHASE_ONE),
        slug="asean-overview",
        title=gettext("ASEAN minerals cooperation in figures"),
        context=context,
        empty=gettext("No ASEAN-wide figures have been loaded."),
    )


def facts_chart(context: ChartContext) -> Chart:
    return _indicator_cards(
        selectors.indicator_values(
            codes=selectors.PROFILE_FACTS, member_state=context.member_state
        ),
        slug="facts",
        title=gettext("Key facts"),
        context=context,
        empty=gettext("The plan gives no economic figures for this member state."),
    )


def _units_label(units: Iterable[str]) -> str:
    return "; ".join(gettext(UNIT_NAMES.get(u, u)) for u in sorted(set(units), reverse=True))


def _production_caveats(sources: Iterable[Source]) -> list[str]:
    """What a reader must know about the OWID series (see its SOURCE.md)."""
    if OWID_METAL_PRODUCTION.fixed["source"] not in {s.name for s in sources}:
        return []
    return [
        gettext(
            "The historical series give zero rather than a blank for many years: "
            "a zero may mean that no figure was recorded."
        ),
        gettext(
            "Figures to 2011 come from Clio Infra and from 2012 from the USGS: "
            "a jump in 2012 may come from the change of source."
        ),
    ]


def production_chart(context: ChartContext) -> Chart:
    """Small multiples: a panel per member state for one commodity, or per commodity for a state."""
    per_state = context.member_state is None
    lines = selectors.production_series(
        commodity=context.commodity if per_state else None, member_state=context.member_state
    )
    sources = Source.objects.in_bulk({line.source_id for line in lines})
    data = []
    for line in lines:
        panel = line.member_state if per_state else line.commodity
        other = line.commodity if per_state else line.member_state
        for year, value in line.points:
            data.append(
                Datum(
                    key=panel.code,
                    label=_name(panel),
                    series=other.code,
                    value=value,
                    text=format_amount(value, line.unit),
                    unit=line.unit,
                    year=year,
                    source=sources[line.source_id].name,
                )
            )
    years = [d.year for d in data if d.year is not None]
    if per_state:
        title = gettext("Mine production of %(commodity)s by member state") % {
            "commodity": _name(context.commodity).lower() if context.commodity else ""
        }
        scale = gettext("All panels share one scale.")
    else:
        title = gettext("Mine production in %(member_state)s by commodity") % {
            "member_state": _name(context.member_state)
        }
        scale = gettext("Each panel has its own scale and unit.")
    query = {"commodity": context.commodity.code} if per_state and context.commodity else {}
    return Chart(
        slug="production",
        title=title,
        unit_label=_units_label(d.unit for d in data),
        period=f"{min(years)}–{max(years)}" if years else "",
        key_column="member_state" if per_state else "commodity",
        kind="lines",
        series=(),
        data=tuple(data),
        sources=_source_refs(sources.values()),
        shared_scale=per_state,
        note=" ".join([scale, *_production_caveats(sources.values())]),
        csv_url=_csv_url("production", context, **query),
        empty_text=gettext("No production series has been imported for this choice."),
    )


def _count(key: str, label: str, count: int) -> Datum:
    return Datum(
        key=key,
        label=label,
        series="occurrences",
        value=Decimal(count),
        text=format_number(count),
        unit=pgettext("unit", "occurrences"),
    )


def occurrence_commodity_chart(context: ChartContext) -> Chart:
    state = context.member_state
    assert state is not None
    counts = selectors.occurrences_by_commodity(
        user=context.user, member_state=state, limit=OCCURRENCE_COMMODITY_LIMIT
    )
    return Chart(
        slug="occurrences-by-commodity",
        title=gettext("Mineral occurrences by commodity (the %(limit)s most frequent)")
        % {"limit": OCCURRENCE_COMMODITY_LIMIT},
        unit_label=gettext("occurrences that name the commodity, as main or secondary"),
        period=gettext("today"),
        key_column="commodity",
        kind="bars",
        series=(SeriesInfo("occurrences", gettext("Occurrences")),),
        data=tuple(_count(c.code, _name(c), n) for c, n in counts),
        sources=_live_source(),
        csv_url=_csv_url("occurrences-by-commodity", context),
        empty_text=gettext("No published occurrence in this member state yet."),
    )


def occurrence_status_chart(context: ChartContext) -> Chart:
    state = context.member_state
    assert state is not None
    counts = selectors.occurrences_by_status(user=context.user, member_state=state)
    total = sum(count for *_, count in counts)
    return Chart(
        slug="occurrences-by-status",
        title=gettext("Mineral occurrences by status"),
        unit_label=gettext("occurrences"),
        period=gettext("today"),
        key_column="status",
        kind="bars",
        series=(SeriesInfo("occurrences", gettext("Occurrences")),),
        data=tuple(_count(s, gettext(label), n) for s, label, n in counts) if total else (),
        sources=_live_source(),
        csv_url=_csv_url("occurrences-by-status", context),
        empty_text=gettext("No published occurrence in this member state yet."),
    )


Builder = Callable[[ChartContext], Chart]

HOME_CHARTS: dict[str, Builder] = {
    "asean-overview": asean_overview_chart,
    "trade-value": trade_value_chart,
    "trade-share": trade_share_chart,
    "world-shares": world_share_chart,
    "world-ranks": world_rank_chart,
    "production": production_chart,
}
PROFILE_CHARTS: dict[str, Builder] = {
    "facts": facts_chart,
    "trade-value": trade_value_chart,
    "trade-share": trade_share_chart,
    "world-shares": world_share_chart,
    "world-ranks": world_rank_chart,
    "production": production_chart,
    "occurrences-by-commodity": occurrence_commodity_chart,
    "occurrences-by-status": occurrence_status_chart,
}
# Charts whose figures depend on who looks (the visibility rule): never in a shared cache.
LIVE_CHARTS = frozenset({"occurrences-by-commodity", "occurrences-by-status"})
