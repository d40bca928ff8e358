from typing import Any

from django import template

from collab.permissions import Actor, actor_for, is_verified
from collab.selectors import notifications_unread_count

register = template.Library()


@register.simple_tag(takes_context=True)
def collab_actor(context: dict[str, Any]) -> Actor | None:
    """The signed-in, verified member on this request, or None."""
    request = context.get("request")
    if request is None or not is_verified(request.user):
        return None
    return actor_for(request.user)


@register.simple_tag(takes_context=True)
def collab_unread(context: dict[str, Any]) -> int:
    request = context.get("request")
    if request is None or not is_verified(request.user):
        return 0
    return notifications_unread_count(user=request.user)


@register.filter
def percent(value: float | int | None) -> str:
    return "–" if value is None else f"{value:.0f}%"
