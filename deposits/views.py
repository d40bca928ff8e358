from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from deposits.models import MineralOccurrence, without_boundaries
from layers.permissions import access_for
from layers.selectors import datasets_visible


def occurrence_page(request: HttpRequest, pk: int) -> HttpResponse:
    """All attributes of one occurrence, its references and a small map."""
    visible = MineralOccurrence.objects.filter(dataset__in=datasets_visible(user=request.user))
    occurrence = (
        visible.select_related("member_state", "dataset")
        .defer(*without_boundaries("member_state"))
        .prefetch_related("commodity_links__commodity")
        .filter(pk=pk)
        .first()
    )
    if occurrence is None:
        raise Http404("No such occurrence.")
    links = sorted(
        occurrence.commodity_links.all(), key=lambda link: (link.rank, link.commodity.name)
    )
    response = render(
        request,
        "deposits/occurrence.html",
        {
            "occurrence": occurrence,
            "commodity_links": links,
            "point": {"lon": occurrence.geom.x, "lat": occurrence.geom.y},
            # Lists of pairs: a source column named "items" or "keys" must not break the template.
            "grades": sorted(occurrence.grades.items()),
            "source_attributes": sorted(occurrence.attributes.items()),
        },
    )
    restricted = access_for(request.user).is_restricted_viewer
    response["Cache-Control"] = "private, max-age=0" if restricted else "public, max-age=60"
    return response
