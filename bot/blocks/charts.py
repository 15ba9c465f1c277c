"""PNG charts people read faster than numbers, drawn with matplotlib's Agg backend (no display).

Each chart is first described as plain data (`Chart`: title, axis label, series, alt text),
which tests check, then drawn by `render_png`. Colours are the Okabe-Ito palette, which stays
distinguishable with the common colour-vision deficiencies; series also differ by line style
and marker, never by colour alone. 800×450 px with 13 pt text stays legible at Slack's preview
size. Values are Decimals until the moment they are drawn.
"""

from __future__ import annotations

import io
import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import matplotlib

matplotlib.use("Agg")
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator, StrMethodFormatter

from bot.blocks.objectives import number
from bot.costs.service import Ledger
from bot.objectives.service import ObjectiveView

WIDTH_PX, HEIGHT_PX, DPI = 800, 450, 100
FONT_SIZE = 13
# Okabe & Ito (2008): blue, orange, bluish green, vermillion, sky blue, reddish purple, grey.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#56B4E9", "#CC79A7", "#999999")
STYLES = ("-", "--", "-.", ":")
TICKS = 5  # labelled dates on a line chart's x axis
Y_TICKS = 6  # at most, on the value axis: fewer, larger numbers read better small
CORNERS = ("upper right", "upper left", "lower right", "lower left")
SAMPLES = 8  # points per line segment or bar when choosing the legend's corner
MARKERS = ("o", "s", "^", "D")


@dataclass(frozen=True)
class Series:
    label: str
    x: tuple  # dates (lines) or category names (bars)
    y: tuple[Decimal, ...]


@dataclass(frozen=True)
class Chart:
    kind: str  # "line" or "bar"
    title: str
    y_label: str
    series: tuple[Series, ...]
    alt_text: str
    filename: str


def objective_chart(objective: ObjectiveView) -> Chart:
    """The measurements against the straight line from baseline to target."""
    measured = objective.measurements
    line = Series(
        "Baseline to target",
        (objective.baseline_date, objective.target_date),
        (objective.baseline_value, objective.target_value),
    )
    values = Series(
        "Measured",
        (objective.baseline_date, *(m.measured_on for m in measured)),
        (objective.baseline_value, *(m.value for m in measured)),
    )
    latest = f"latest {number(measured[-1].value)}" if measured else "no value yet"
    alt = (
        f"{objective.ref} {objective.title}: {objective.measure} from a baseline of "
        f"{number(objective.baseline_value)} on {objective.baseline_date:%-d %b %Y} towards "
        f"{number(objective.target_value)} by {objective.target_date:%-d %b %Y}; {latest} "
        f"({objective.status.value}), {len(measured)} value{'s' if len(measured) != 1 else ''}."
    )
    return Chart(
        "line",
        f"{objective.ref} {objective.title}"[:80],
        objective.measure[:60],
        (line, values),
        alt[:1000],
        f"objective-{objective.ref.lower()}.png",
    )


def ratio_chart(
    weeks: Sequence[date], ratios: dict[str, Sequence[float | None]], *, target: float
) -> Chart:
    """Each organisation's say/do ratio (%) per week over the quarter, against the target.
    A week with nothing judged is a gap (NaN), not a zero."""

    def percent(ratio: float | None) -> Decimal:
        return Decimal("NaN") if ratio is None else Decimal(str(round(ratio * 100, 1)))

    series = [
        Series(organisation, tuple(weeks), tuple(percent(r) for r in values))
        for organisation, values in sorted(ratios.items())
    ]
    goal = Decimal(str(round(target * 100, 1)))
    series.append(Series("Target", (weeks[0], weeks[-1]), (goal, goal)))
    alt = (
        f"Say/do ratio per organisation per week from {weeks[0]:%-d %b %Y} to "
        f"{weeks[-1]:%-d %b %Y}, against a target of {goal}%: "
        + "; ".join(
            f"{s.label} latest {next((v for v in reversed(s.y) if not v.is_nan()), 'none')}%"
            for s in series[:-1]
        )
    )
    return Chart(
        "line", "Say/do ratio per week", "% kept", tuple(series), alt[:1000], "say-do-ratio.png"
    )


def spend_chart(ledger: Ledger) -> Chart | None:
    """Each project's budget, budget to date, spend and projection, side by side."""
    projects = [p for area in ledger.areas for p in area.projects][:8]
    if not projects:
        return None
    names = tuple(p.ref for p in projects)
    series = tuple(
        Series(label, names, tuple(getattr(p.figures, attr) for p in projects))
        for label, attr in (
            ("Budget", "budget"),
            ("Budget to date", "budget_to_date"),
            ("Spent", "spent"),
            ("Projected", "projected"),
        )
    )
    over = [p.ref for p in projects if p.over_budget]
    alt = (
        f"Spend against budget in {ledger.currency} for {len(projects)} project"
        f"{'s' if len(projects) != 1 else ''} ({', '.join(f'{p.ref} {p.name}' for p in projects)})"
        + (f"; projected over budget: {', '.join(over)}." if over else "; none over budget.")
    )
    return Chart(
        "bar",
        "Spend against budget",
        ledger.currency,
        series,
        alt[:1000],
        "spend-against-budget.png",
    )


def render_png(chart: Chart) -> bytes:
    """The chart as an 800×450 PNG."""
    figure = Figure(figsize=(WIDTH_PX / DPI, HEIGHT_PX / DPI), dpi=DPI)
    axes = figure.add_subplot()
    drawn = _bars(axes, chart.series) if chart.kind == "bar" else _lines(axes, chart.series)
    # A title at a fixed height: placed automatically, it measures the axes on every draw.
    axes.set_title(chart.title, fontsize=FONT_SIZE + 2, y=1.0, pad=6)
    axes.set_ylabel(chart.y_label, fontsize=FONT_SIZE)
    axes.tick_params(labelsize=FONT_SIZE - 2)
    axes.yaxis.set_major_locator(MaxNLocator(nbins=Y_TICKS))
    axes.grid(True, alpha=0.3)
    axes.legend(fontsize=FONT_SIZE - 2, loc=_emptiest_corner(axes, drawn))
    # A fixed layout: tight_layout and date locators cost more than the rest of the chart.
    figure.subplots_adjust(left=0.13, right=0.97, top=0.9, bottom=0.1)
    out = io.BytesIO()
    # Light compression: a few more kilobytes for a fraction of zlib's time.
    figure.savefig(out, format="png", dpi=DPI, pil_kwargs={"compress_level": 1})
    return out.getvalue()


def _emptiest_corner(axes, points: Sequence[tuple[float, float]]) -> str:
    """Where the legend goes: the corner of the plot with the fewest drawn points in its quarter
    (upper right on a tie). A cheap stand-in for `loc="best"`, whose search costs more than
    drawing the rest of a chart."""
    (x0, x1), (y0, y1) = axes.get_xlim(), axes.get_ylim()

    def crowd(corner: str) -> int:
        right, upper = corner.endswith("right"), corner.startswith("upper")
        return sum(
            ((x - x0) / (x1 - x0) >= 0.5) == right and ((y - y0) / (y1 - y0) >= 0.5) == upper
            for x, y in points
        )

    return min(CORNERS, key=crowd)


def _along(start: tuple[float, float], end: tuple[float, float]) -> list[tuple[float, float]]:
    """Points spread along a segment, so a line counts in every quarter it crosses."""
    (xa, ya), (xb, yb) = start, end
    return [
        (xa + (xb - xa) * k / SAMPLES, ya + (yb - ya) * k / SAMPLES) for k in range(SAMPLES + 1)
    ]


def _lines(axes, series: Sequence[Series]) -> list[tuple[float, float]]:
    """Dates as day numbers, with a few ticks labelled by hand (cheaper than date locators).
    Returns points along the lines drawn."""
    drawn = []
    for n, s in enumerate(series):
        xs, ys = [d.toordinal() for d in s.x], [float(v) for v in s.y]
        axes.plot(
            xs,
            ys,
            label=s.label,
            color=PALETTE[n % len(PALETTE)],
            linestyle=STYLES[n % len(STYLES)],
            marker=MARKERS[n % len(MARKERS)],
            linewidth=2.5,
        )
        shown = [(x, y) for x, y in zip(xs, ys, strict=True) if y == y]  # NaN: a gap
        drawn += [p for a, b in itertools.pairwise(shown) for p in _along(a, b)] or shown
    first = min(d.toordinal() for s in series for d in s.x)
    last = max(d.toordinal() for s in series for d in s.x)
    ticks = sorted({first + (last - first) * k // (TICKS - 1) for k in range(TICKS)})
    axes.set_xticks(ticks, [date.fromordinal(t).strftime("%-d %b %y") for t in ticks])
    return drawn


def _bars(axes, series: Sequence[Series]) -> list[tuple[float, float]]:
    """Grouped bars, told apart by hatching as well as colour; returns points up each bar."""
    width = 0.8 / max(1, len(series))
    positions = range(len(series[0].x))
    hatches = ("", "//", "..", "xx")
    drawn = []
    for n, s in enumerate(series):
        xs, heights = [p + n * width for p in positions], [float(v) for v in s.y]
        axes.bar(
            xs,
            heights,
            width,
            label=s.label,
            color=PALETTE[n % len(PALETTE)],
            hatch=hatches[n % len(hatches)],
            edgecolor="black",
        )
        drawn += [p for x, h in zip(xs, heights, strict=True) for p in _along((x, 0.0), (x, h))]
    axes.set_xticks([p + width * (len(series) - 1) / 2 for p in positions], list(series[0].x))
    axes.yaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
    return drawn
