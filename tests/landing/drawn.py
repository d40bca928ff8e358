"""What a page draws, read back from its HTML: the data attributes and geometry of each chart."""

import csv
import io
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

from django.test import Client


@dataclass
class Drawn:
    """One chart as drawn: bars (and rank badges, fact cards) and line panels."""

    slug: str
    csv_url: str = ""
    marks: list[dict[str, str]] = field(default_factory=list)  # data-* of each drawn value
    panels: list[dict[str, str]] = field(default_factory=list)  # data-* and d of each line


class _ChartReader(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.charts: dict[str, Drawn] = {}
        self.current: Drawn | None = None
        self.pending: dict[str, str] | None = None  # a bar or meter waiting for its <rect>

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        classes = a.get("class", "").split()
        if tag == "figure" and "data-chart" in a:
            self.current = self.charts[a["data-chart"]] = Drawn(slug=a["data-chart"])
        if self.current is None:
            return
        if tag == "a" and "chart-csv" in classes:
            self.current.csv_url = a["href"]
        elif tag == "svg" and ("bar" in classes or "meter" in classes):
            self.pending = {**a, "kind": "bar" if "bar" in classes else "meter"}
        elif tag == "rect" and self.pending is not None:
            if self.pending["kind"] == "bar" or "meter-fill" in classes:
                self.current.marks.append({**self.pending, "width": a["width"]})
                self.pending = None
        elif tag == "span" and ("rank-badge" in classes or "fact-value" in classes):
            self.current.marks.append({**a, "kind": "text"})
        elif tag == "svg" and "spark" in classes:
            self.current.panels.append(dict(a))
        elif tag == "path" and "spark-line" in classes:
            self.current.panels[-1]["d"] = a["d"]

    def handle_endtag(self, tag: str) -> None:
        if tag == "figure":
            self.current = None


def charts_on(html: str) -> dict[str, Drawn]:
    reader = _ChartReader()
    reader.feed(html)
    return reader.charts


def csv_of(client: Client, url: str) -> list[dict[str, str]]:
    response = client.get(url, secure=True)
    assert response.status_code == 200, url
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    return list(csv.DictReader(io.StringIO(response.content.decode())))


def path_points(d: str) -> list[tuple[float, float]]:
    return [(float(x), float(y)) for x, y in re.findall(r"(-?[\d.]+),(-?[\d.]+)", d)]
