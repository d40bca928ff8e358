"""Dashboard charts as inline SVG, drawn on the server: no JavaScript, nothing from outside.

Every text that reaches the SVG goes through format_html, so it is escaped. Colours come from
collab.css classes. Each chart has a <title> and the pages show the same figures as tables.
"""

from collections.abc import Sequence

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from collab.models import ImplementationStatus, Milestone
from collab.selectors import Progress, TimelinePoint

_ROW = 28
_LABEL_W = 280
_BAR_W = 330
_WIDTH = _LABEL_W + _BAR_W + 70


def _join(parts: Sequence[SafeString]) -> SafeString:
    return mark_safe("".join(parts))  # noqa: S308 - every part is built by format_html


def bar_chart(items: Sequence[Progress], *, title: str) -> SafeString:
    """Horizontal bars of percent complete, one per item."""
    height = _ROW * len(items) + 8
    rows = []
    for index, item in enumerate(items):
        y = 4 + index * _ROW
        width = _BAR_W * max(0.0, min(item.percent, 100.0)) / 100
        rows.append(
            format_html(
                '<g class="bar-row"><title>{}: {}% ({} of {} reported)</title>'
                '<text x="{}" y="{}" class="bar-label" text-anchor="end">{}</text>'
                '<rect x="{}" y="{}" width="{}" height="{}" class="bar-track" rx="3"/>'
                '<rect x="{}" y="{}" width="{}" height="{}" class="bar-fill" rx="3"/>'
                '<text x="{}" y="{}" class="bar-value">{}%</text></g>',
                item.label,
                f"{item.percent:.0f}",
                item.reported,
                item.total,
                _LABEL_W - 8,
                y + 17,
                item.label if len(item.label) <= 42 else item.label[:41] + "…",
                _LABEL_W,
                y + 4,
                _BAR_W,
                _ROW - 10,
                _LABEL_W,
                y + 4,
                f"{width:.1f}",
                _ROW - 10,
                _LABEL_W + _BAR_W + 8,
                y + 17,
                f"{item.percent:.0f}",
            )
        )
    return format_html(
        '<svg class="chart bar-chart" viewBox="0 0 {} {}" role="img" '
        'preserveAspectRatio="xMinYMin meet"><title>{}</title>{}</svg>',
        _WIDTH,
        height,
        title,
        _join(rows),
    )


def status_chart(counts: dict[str, int], *, title: str) -> SafeString:
    """One bar split by implementation status, with a legend."""
    total = sum(counts.values()) or 1
    x = 0.0
    segments = []
    legend = []
    for index, status in enumerate(ImplementationStatus):
        count = counts.get(status.value, 0)
        width = 600 * count / total
        if count:
            segments.append(
                format_html(
                    '<rect x="{}" y="0" width="{}" height="26" class="status-{}">'
                    "<title>{}: {}</title></rect>",
                    f"{x:.1f}",
                    f"{width:.1f}",
                    status.value,
                    status.label,
                    count,
                )
            )
        x += width
        legend.append(
            format_html(
                '<rect x="{}" y="40" width="12" height="12" class="status-{}"/>'
                '<text x="{}" y="51" class="legend">{} ({})</text>',
                index * 122,
                status.value,
                index * 122 + 16,
                status.label,
                count,
            )
        )
    return format_html(
        '<svg class="chart status-chart" viewBox="0 0 610 60" role="img"><title>{}</title>{}{}</svg>',
        title,
        _join(segments),
        _join(legend),
    )


def timeline_chart(
    points: Sequence[TimelinePoint], milestones: Sequence[Milestone], *, title: str
) -> SafeString:
    """Completion quarter by quarter (line), planned targets (dashed), numbered plan milestones."""
    left, top, width, height = 40, 14, 560, 180
    step = width / max(len(points) - 1, 1)
    index_of = {point.period: i for i, point in enumerate(points)}

    def xy(i: int, value: float) -> str:
        return f"{left + i * step:.1f},{top + height - height * value / 100:.1f}"

    grid = format_html_join(
        "",
        '<line x1="{}" y1="{}" x2="{}" y2="{}" class="grid"/>'
        '<text x="{}" y="{}" class="axis" text-anchor="end">{}%</text>',
        (
            (
                left,
                top + height - height * v / 100,
                left + width,
                top + height - height * v / 100,
                left - 4,
                top + height - height * v / 100 + 4,
                v,
            )
            for v in (0, 25, 50, 75, 100)
        ),
    )
    years = format_html_join(
        "",
        '<text x="{}" y="{}" class="axis" text-anchor="start">{}</text>',
        (
            (f"{left + i * step:.1f}", top + height + 16, point.period[0])
            for i, point in enumerate(points)
            if point.period[1] == 1
        ),
    )
    actual = [xy(i, p.actual) for i, p in enumerate(points) if p.actual is not None]
    planned = [xy(i, p.planned) for i, p in enumerate(points) if p.planned is not None]
    lines = []
    if planned:
        lines.append(
            format_html(
                '<polyline points="{}" class="line-planned"><title>Planned (milestone targets)</title></polyline>',
                " ".join(planned),
            )
        )
    if actual:
        lines.append(
            format_html(
                '<polyline points="{}" class="line-actual"><title>Completion</title></polyline>',
                " ".join(actual),
            )
        )
        last = next(p for p in reversed(points) if p.actual is not None)
        lines.append(
            format_html(
                '<circle cx="{}" cy="{}" r="4" class="dot-actual"><title>{}: {}%</title></circle>',
                *xy(index_of[last.period], last.actual or 0).split(","),
                last.label,
                f"{last.actual:.0f}",
            )
        )
    markers = []
    for number, milestone in enumerate(milestones, start=1):
        i = index_of.get(milestone.due_quarter)
        if i is None:
            continue
        x = f"{left + i * step:.1f}"
        markers.append(
            format_html(
                '<g class="milestone"><title>{}. {}: {}</title>'
                '<line x1="{}" y1="{}" x2="{}" y2="{}"/>'
                '<text x="{}" y="{}" text-anchor="middle">{}</text></g>',
                number,
                milestone.due_label,
                milestone.title,
                x,
                top,
                x,
                top + height,
                x,
                top + 10 + 11 * (number % 3),
                number,
            )
        )
    return format_html(
        '<svg class="chart timeline-chart" viewBox="0 0 {} {}" role="img"><title>{}</title>'
        "{}{}{}{}</svg>",
        left + width + 20,
        top + height + 26,
        title,
        grid,
        years,
        _join(markers),
        _join(lines),
    )
