from django.db.models import Max
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from deposits.models import Commodity, MemberState, MineralOccurrence
from layers.selectors import datasets_visible


def home(request: HttpRequest) -> HttpResponse:
    """The public front page with live figures from the database."""
    datasets = datasets_visible(user=request.user)
    occurrences = MineralOccurrence.objects.filter(dataset__in=datasets)
    figures = {
        "occurrences": occurrences.count(),
        "datasets": datasets.count(),
        "member_states_with_data": occurrences.values("member_state").distinct().count(),
        "member_states": MemberState.objects.count(),
        "commodities": Commodity.objects.filter(occurrences__in=occurrences).distinct().count(),
        "last_update": datasets.aggregate(latest=Max("updated_at"))["latest"],
    }
    return render(request, "landing/home.html", {"figures": figures})
