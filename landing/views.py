"""The public landing page, the member-state profiles and the CSV behind every chart."""

import csv

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext
from django.views.decorators.http import require_GET

from deposits.models import Commodity, MemberState
from landing import selectors
from landing.charts import Chart
from landing.infographics import (
    HOME_CHARTS,
    LIVE_CHARTS,
    PROFILE_CHARTS,
    Builder,
    ChartContext,
)
from layers.permissions import access_for

DEFAULT_COMMODITY = "tin"
# The data catalogue and OGC API (catalogue app); the page falls back to #api without them.
CATALOGUE_URL_NAMES = ("catalogue",)
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class ChoiceError(ValueError):
    pass


def _optional_url(*names: str) -> str | None:
    for name in names:
        try:
            return reverse(name)
        except NoReverseMatch:
            continue
    return None


def _default_commodity(choices: list[Commodity]) -> Commodity | None:
    return next(
        (c for c in choices if c.code == DEFAULT_COMMODITY), choices[0] if choices else None
    )


def _commodity(request: HttpRequest, choices: list[Commodity]) -> Commodity | None:
    """The commodity of the production chart: ?commodity= (code), else tin, else the first."""
    wanted = request.GET.get("commodity")
    by_code = {c.code: c for c in choices}
    if wanted is None:
        return _default_commodity(choices)
    if wanted not in by_code:
        raise ChoiceError(
            gettext("There is no production series for “%(value)s”. Choose one of: %(choices)s.")
            % {
                "value": wanted[:40],
                "choices": ", ".join(gettext(c.name) for c in choices) or gettext("none yet"),
            }
        )
    return by_code[wanted]


def _charts(registry: dict[str, Builder], context: ChartContext) -> dict[str, Chart]:
    """Every chart of a page, by slug with underscores (for templates)."""
    return {slug.replace("-", "_"): build(context) for slug, build in registry.items()}


def _private(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    """Pages with live counts may hold unpublished data for editors: never in a shared cache."""
    if access_for(request.user).is_restricted_viewer:
        response["Cache-Control"] = "private, no-cache"
    return response


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """What AMDIS is, live figures, the plan's programme areas and the infographics."""
    choices = selectors.production_commodities()
    status = 200
    error = ""
    try:
        commodity = _commodity(request, choices)
    except ChoiceError as exc:
        commodity, error, status = _default_commodity(choices), str(exc), 400
    context = ChartContext(user=request.user, commodity=commodity)
    charts = _charts(HOME_CHARTS, context)
    response = render(
        request,
        "landing/home.html",
        {
            "figures": selectors.site_figures(user=request.user),
            "charts": charts,
            "member_states": selectors.member_states(),
            "commodities": choices,
            "commodity": commodity,
            "commodity_error": error,
            "catalogue_url": _optional_url(*CATALOGUE_URL_NAMES),
            "ogc_url": _optional_url("ogc-landing"),
        },
        status=status,
    )
    return _private(request, response)


def _states_with_figures() -> list[tuple[MemberState, bool]]:
    with_figures = selectors.member_states_with_figures()
    return [(state, state.pk in with_figures) for state in selectors.member_states()]


@require_GET
def country_list(request: HttpRequest) -> HttpResponse:
    return render(request, "landing/countries.html", {"states": _states_with_figures()})


def _unknown_state_message(code: str) -> str:
    return gettext("No member state has the code “%(code)s”.") % {"code": code[:10]}


@require_GET
def country_profile(request: HttpRequest, code: str) -> HttpResponse:
    """One member state: key facts, trade, commodities, live occurrence counts and a small map."""
    if code != code.upper():
        return redirect("country", code=code.upper(), permanent=True)
    state = selectors.member_state_get(code=code)
    if state is None:
        return render(
            request,
            "landing/countries.html",
            {"states": _states_with_figures(), "error": _unknown_state_message(code)},
            status=404,
        )
    context = ChartContext(user=request.user, member_state=state)
    charts = _charts(PROFILE_CHARTS, context)
    state_map = selectors.member_state_map(user=request.user, member_state=state)
    hash_parts = ["layers=member-states,occurrences", f"member_state={state.code}"]
    if state_map is not None:
        view = f"map={state_map.zoom}/{state_map.center_lat}/{state_map.center_lon}"
        hash_parts.insert(0, view)
    response = render(
        request,
        "landing/country.html",
        {
            "state": state,
            "charts": charts,
            "map": state_map,
            "webgis_url": reverse("map") + "#" + "&".join(hash_parts),
            "occurrence_count": selectors.occurrences_count(user=request.user, member_state=state),
            "member_states": selectors.member_states(),
        },
    )
    return _private(request, response)


def _safe_cell(text: str) -> str:
    """Text that a spreadsheet would read as a formula is written as text."""
    return "'" + text if text.startswith(FORMULA_START) else text


def _csv_response(chart: Chart, filename: str) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    writer = csv.writer(response, lineterminator="\n")
    writer.writerow(chart.csv_header)
    for row in chart.csv_rows():
        # The value column (index 4) is a number and stays as written, a minus sign included.
        writer.writerow([cell if i == 4 else _safe_cell(cell) for i, cell in enumerate(row)])
    return response


def _plain_error(message: str, status: int) -> HttpResponse:
    return HttpResponse(message + "\n", status=status, content_type="text/plain; charset=utf-8")


@require_GET
def chart_csv(request: HttpRequest, slug: str, code: str | None = None) -> HttpResponse:
    """The data of one chart, exactly as drawn."""
    registry = HOME_CHARTS if code is None else PROFILE_CHARTS
    build = registry.get(slug)
    if build is None:
        return _plain_error(
            gettext("No chart %(slug)s. Charts: %(slugs)s.")
            % {"slug": slug[:60], "slugs": ", ".join(sorted(registry))},
            404,
        )
    state = None
    if code is not None:
        state = selectors.member_state_get(code=code)
        if state is None:
            return _plain_error(_unknown_state_message(code), 404)
    commodity = None
    if state is None and slug == "production":
        try:
            commodity = _commodity(request, selectors.production_commodities())
        except ChoiceError as exc:
            return _plain_error(str(exc), 400)
    chart = build(ChartContext(user=request.user, member_state=state, commodity=commodity))
    parts = ["amdis", state.code if state else "asean", slug]
    if commodity is not None:
        parts.append(commodity.code)
    response = _csv_response(chart, "-".join(parts) + ".csv")
    if slug in LIVE_CHARTS and access_for(request.user).is_restricted_viewer:
        response["Cache-Control"] = "private, no-cache"
    else:
        response["Cache-Control"] = "public, max-age=300"
    return response
