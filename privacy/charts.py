"""The dashboard's chart as plain geometry for a server-rendered SVG (no script, no CDN)."""

from dataclasses import dataclass

from django.utils.formats import number_format

from privacy.selectors import ActivityChart

WIDTH = 720
PANEL_HEIGHT = 110
LEFT = 64  # room for the axis figures
TOP = 24
GAP = 46  # between the two panels (the second one's title)
BOTTOM = 22  # the week labels


@dataclass
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str  # the figure, as people read it
    week: str


@dataclass
class Point:
    x: float
    y: float
    label: str
    week: str
    live: bool


@dataclass
class ChartGeometry:
    width: int
    height: int
    bars: list[Bar]
    bars_max: str
    points: list[Point]
    line: str  # the polyline's points, through recorded weeks only
    backlog_max: str
    backlog_top: int
    weeks: list[tuple[float, str]]  # (x, "Mar 4")
    left: int
    panel_height: int
    top: int
    second_top: int
    axis_y: int
    right: int


def _round_top(maximum: int) -> int:
    """A round top for an axis: 1, 2 or 5 times a power of ten, at least the maximum."""
    if maximum <= 0:
        return 1
    magnitude = 10 ** (len(str(maximum)) - 1)
    for step in (1, 2, 5, 10):
        if step * magnitude >= maximum:
            return step * magnitude
    return 10 * magnitude


def chart_geometry(chart: ActivityChart) -> ChartGeometry:
    count = len(chart.weeks)
    slot = (WIDTH - LEFT - 10) / max(count, 1)
    bars_top = _round_top(max((week.anonymized for week in chart.weeks), default=0))
    recorded = [week.backlog for week in chart.weeks if week.backlog is not None]
    backlog_top = _round_top(max(recorded, default=0))
    second_top = TOP + PANEL_HEIGHT + GAP
    bars, points, weeks = [], [], []
    for n, week in enumerate(chart.weeks):
        x = LEFT + n * slot
        label = week.start.strftime("%b %-d")
        weeks.append((x + slot / 2, label))
        height = PANEL_HEIGHT * week.anonymized / bars_top
        bars.append(
            Bar(
                x=round(x + slot * 0.15, 1),
                y=round(TOP + PANEL_HEIGHT - height, 1),
                width=round(slot * 0.7, 1),
                height=round(height, 1),
                label=number_format(week.anonymized, force_grouping=True),
                week=label,
            )
        )
        if week.backlog is not None:
            points.append(
                Point(
                    x=round(x + slot / 2, 1),
                    y=round(second_top + PANEL_HEIGHT - PANEL_HEIGHT * week.backlog / backlog_top, 1),
                    label=number_format(week.backlog, force_grouping=True),
                    week=label,
                    live=week.live,
                )
            )
    return ChartGeometry(
        width=WIDTH,
        height=second_top + PANEL_HEIGHT + BOTTOM,
        bars=bars,
        bars_max=number_format(bars_top, force_grouping=True),
        points=points,
        line=" ".join(f"{point.x},{point.y}" for point in points),
        backlog_max=number_format(backlog_top, force_grouping=True),
        backlog_top=backlog_top,
        weeks=weeks,
        left=LEFT,
        panel_height=PANEL_HEIGHT,
        top=TOP,
        second_top=second_top,
        axis_y=second_top + PANEL_HEIGHT,
        right=WIDTH - 10,
    )
