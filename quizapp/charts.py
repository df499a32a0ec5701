"""Charts drawn on the server as SVG (with pygal), to be put inline in a page.

pygal's SVG carries its own <style>, a configuration <script>, tooltip markup with
`style` attributes and comments. The app's Content-Security-Policy allows no inline
script or style, so all of that is taken out here: what is left is shapes and text
with pygal's class names, which `static/console.css` colours with the app's own
palette. Each chart is an image to assistive technology (role="img" and a <title>);
its numbers are in a table beside it, which the page shows as its text alternative.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from collections.abc import Sequence

import pygal
from pygal.style import Style

WIDTH, HEIGHT = 480, 270
# pygal lays the chart out for these sizes; console.css draws the text at the same.
FONT_SIZE = 14
_SIZES = Style(**{f"{part}_font_size": FONT_SIZE for part in (
    "label", "major_label", "value", "value_label", "title", "legend", "tooltip")})
# Kept: shapes, the axes' text, the values printed on bars. Dropped: what only
# pygal's script (tooltips) or its stylesheet would use.
_DROPPED_TAGS = {"style", "script", "desc", "title"}
_DROPPED_GROUPS = {"tooltip-overlay"}


def _config(**options) -> dict:
    return {"js": [], "css": [], "no_prefix": True, "disable_xml_declaration": True,
            "width": WIDTH, "height": HEIGHT, "show_legend": False, "margin": 12,
            "style": _SIZES, **options}


def bar_chart(key: str, label: str, x_labels: Sequence[str], values: Sequence[float],
              y_title: str | None = None, tone: str = "brand") -> str:
    """A bar chart of counts with their values printed above the bars. `key` makes its ids unique
    in the page; `label` says what it shows, for people who cannot see it; `tone`
    names the app colour it is drawn in (console.css: brand, ok)."""
    top = max((v for v in values if v is not None), default=0)
    step = max(1, math.ceil(top / 5))  # counts: whole-number ticks, about five of them
    chart = pygal.Bar(**_config(print_values=True, print_zeroes=False,
                                print_values_position="top", y_title=y_title,
                                y_labels=list(range(0, int(top) + step, step)),
                                **_x_axis(x_labels)))
    chart.x_labels = list(x_labels)
    chart.add(label, list(values))
    return inline_svg(chart, key, label, tone)


def line_chart(key: str, label: str, x_labels: Sequence[str],
               values: Sequence[float | None], y_title: str | None = None,
               percent: bool = False, tone: str = "brand") -> str:
    """A line chart; None leaves a gap (a period with nothing to show)."""
    options = {"range": (0, 100), "y_labels": list(range(0, 101, 20))} if percent else {}
    chart = pygal.Line(**_config(y_title=y_title, allow_interruptions=True, dots_size=4,
                                 **_x_axis(x_labels), **options))
    chart.x_labels = list(x_labels)
    chart.add(label, list(values))
    return inline_svg(chart, key, label, tone)


def _x_axis(x_labels: Sequence[str]) -> dict:
    """Many or long labels slant rather than overlap; past a dozen, only some are
    written (the table beside the chart names every one)."""
    options = {}
    if len(x_labels) * max((len(x) for x in x_labels), default=0) > 48:
        options["x_label_rotation"] = 30
    if len(x_labels) > 12:
        options.update(x_labels_major_count=8, show_minor_x_labels=False)
    return options


def inline_svg(chart, key: str, label: str, tone: str = "brand") -> str:
    """The chart as an <svg> element for an HTML page: no script, no style, no XML
    declaration, an image with `label` for its name."""
    root = chart.render_tree()
    _strip(root)
    root.attrib.pop("id", None)
    root.attrib.pop("xmlns", None)  # an inline <svg> in HTML is SVG already
    root.set("class", f"chart-svg tone-{tone}")
    root.set("role", "img")
    root.set("aria-labelledby", f"{key}-title")
    title = ET.Element("title", id=f"{key}-title")
    title.text = label
    root.insert(0, title)
    return ET.tostring(root, encoding="unicode")


def _strip(element: ET.Element) -> None:
    for child in list(element):
        classes = set((child.get("class") or "").split()) if isinstance(child.tag, str) else set()
        if (not isinstance(child.tag, str) or child.tag in _DROPPED_TAGS
                or classes & _DROPPED_GROUPS):
            element.remove(child)
            continue
        child.attrib.pop("style", None)
        if child.get("id") == "":
            child.attrib.pop("id")
        _strip(child)
        if child.tag == "defs" and not len(child):
            element.remove(child)
