"""The dashboard's charts, drawn on the server by pygal as standalone SVG documents.

Served as images (image/svg+xml), they need no JavaScript and nothing from a CDN, and the page
itself keeps a strict CSP: the `<style>` pygal writes lives inside the SVG document, not the page.
pygal still writes its tooltip configuration as a `<script>` even with `js=[]`, so an XML filter
(pygal's add_xml_filter) drops every script element before the SVG is serialised.
"""

from collections.abc import Callable
from datetime import datetime

import pygal
from pygal.graph.graph import Graph
from pygal.style import Style

from app.services import stats

STYLE = Style(
    background="#ffffff",
    plot_background="#ffffff",
    foreground="#212529",
    foreground_strong="#212529",
    foreground_subtle="#6c757d",
    colors=("#0d6efd", "#dc3545", "#198754", "#6f42c1"),
    font_family="system-ui, -apple-system, 'Segoe UI', Roboto, Arial, sans-serif",
    title_font_size=20,
    label_font_size=13,
    major_label_font_size=13,
    value_font_size=13,
)


def _drop_scripts(root):
    for parent in list(root.iter()):
        for child in list(parent):
            if isinstance(child.tag, str) and child.tag.rsplit("}", 1)[-1] == "script":
                parent.remove(child)
    return root


def _chart(kind: type[Graph], **options) -> Graph:
    defaults = {
        "js": [],
        "style": STYLE,
        "width": 800,
        "height": 400,
        "show_legend": False,
        "no_data_text": "No data yet",
    }
    chart = kind(pygal.Config(**(defaults | options)))
    chart.add_xml_filter(_drop_scripts)
    return chart


def _percent(value: float | None) -> str:
    return "" if value is None else f"{value:g}%"


def _count_ticks(largest: int, most: int = 10) -> list[int]:
    """Whole-number ticks from 0 up to `largest` or just past it, at most `most` steps of 1, 2
    or 5 times a power of ten: bookings come in whole numbers, and pygal's own scale for a
    largest value of 2 ran 0, 0.2, 0.4 …"""
    step = next(
        size
        for power in range(16)
        for size in (10**power, 2 * 10**power, 5 * 10**power)
        if largest <= size * most
    )
    top = max(1, -(-largest // step)) * step
    return list(range(0, top + 1, step))


def bookings(now: datetime | None = None) -> Graph:
    days = stats.daily_bookings(now)
    chart = _chart(
        pygal.Bar,
        title=f"Bookings per day, last {len(days)} days",
        x_label_rotation=-45,
        show_minor_x_labels=False,
        x_labels_major_every=7,
        y_labels=_count_ticks(max((d.booked for d in days), default=0)),
    )
    chart.x_labels = [d.day.strftime("%d %b") for d in days]
    chart.add("Bookings", [d.booked for d in days])
    return chart


def cancellations(now: datetime | None = None) -> Graph:
    days = stats.daily_bookings(now)
    chart = _chart(
        pygal.Line,
        title="Share of each day's bookings since cancelled (%)",
        x_label_rotation=-45,
        show_minor_x_labels=False,
        x_labels_major_every=7,
        range=(0, 100),
        value_formatter=_percent,
        allow_interruptions=True,
    )
    chart.x_labels = [d.day.strftime("%d %b") for d in days]
    chart.add("Cancelled", [d.cancellation_rate for d in days])
    return chart


def utilisation(now: datetime | None = None) -> Graph:
    rows = stats.slot_utilisation(now)[::-1]  # pygal draws the first bar at the bottom
    chart = _chart(
        pygal.HorizontalBar,
        title=f"Slots booked, next {stats.UTILISATION_DAYS} days (%)",
        range=(0, 100),
        value_formatter=_percent,
        print_values=True,
    )
    chart.x_labels = [row.full_name for row in rows]
    chart.add("Booked", [row.rate for row in rows])
    return chart


def specializations(now: datetime | None = None) -> Graph:
    rows = stats.busiest_specializations(now)[::-1]  # busiest on top
    chart = _chart(
        pygal.HorizontalBar,
        title=f"Bookings by specialization, last {stats.BOOKING_DAYS} days",
        print_values=True,
        y_labels=_count_ticks(max((count for _, count in rows), default=0)),
    )
    chart.x_labels = [name for name, _ in rows]
    chart.add("Bookings", [count for _, count in rows])
    return chart


CHARTS: dict[str, Callable[..., Graph]] = {
    "bookings": bookings,
    "cancellations": cancellations,
    "utilisation": utilisation,
    "specializations": specializations,
}


def render(name: str, now: datetime | None = None) -> str:
    return CHARTS[name](now).render(is_unicode=True)
