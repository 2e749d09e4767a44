"""Inline SVG charts (no JavaScript, no external files): bars, columns and sparklines.

Presentation attributes only (no ``style=``), so the console's Content-Security-Policy can forbid
inline styles. Every chart has a ``<title>`` per mark (hover tooltip) and an ``aria-label``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from markupsafe import Markup, escape

POS = "#1a7f37"
NEG = "#cf222e"
INK = "#57606a"
LINE = "#0969da"


def _f(v: Decimal | float | int | None) -> float:
    return 0.0 if v is None else float(v)


def _label(v: Decimal | float | int | None) -> str:
    if v is None:
        return "n/a"
    if isinstance(v, Decimal):
        return f"{v:,}"
    return f"{v:,.2f}" if isinstance(v, float) and not v.is_integer() else f"{int(v):,}"


def _svg(parts: Sequence[str]) -> Markup:
    # Every dynamic text in ``parts`` went through ``escape``; numbers are formatted floats.
    return Markup("".join(parts))  # noqa: S704


def bars(items: Sequence[tuple[str, Decimal | float | int | None]], *, title: str, width: int = 560,
         row: int = 24, label_width: int = 170) -> Markup:
    """Horizontal bars around a zero axis (negative values to the left), one row per item."""
    if not items:
        return Markup("")
    values = [_f(v) for _, v in items]
    lo, hi = min(0.0, *values), max(0.0, *values)
    span = (hi - lo) or 1.0
    plot = width - label_width - 90
    zero = label_width + (0 - lo) / span * plot
    height = row * len(items) + 8
    parts = [f'<svg class="chart" role="img" aria-label="{escape(title)}" viewBox="0 0 {width} {height}" '
             f'width="{width}" height="{height}" xmlns="http://www.w3.org/2000/svg">']
    for i, ((name, raw), v) in enumerate(zip(items, values, strict=True)):
        y = 4 + i * row
        x0 = zero + min(0.0, v) / span * plot
        w = max(1.0, abs(v) / span * plot) if v else 0.0
        color = NEG if v < 0 else POS
        parts.append(f'<text x="{label_width - 8}" y="{y + row * 0.65:.1f}" text-anchor="end" font-size="12" '
                     f'fill="{INK}">{escape(name)}</text>')
        if w:
            parts.append(f'<rect x="{x0:.1f}" y="{y + 3}" width="{w:.1f}" height="{row - 8}" fill="{color}">'
                         f'<title>{escape(name)}: {escape(_label(raw))}</title></rect>')
        tx = (x0 + w + 6) if v >= 0 else (x0 - 6)
        anchor = "start" if v >= 0 else "end"
        if v < 0 and tx < label_width + 40:
            tx, anchor = zero + 6, "start"
        parts.append(f'<text x="{tx:.1f}" y="{y + row * 0.65:.1f}" text-anchor="{anchor}" font-size="12" '
                     f'fill="{INK}">{escape(_label(raw))}</text>')
    parts.append(f'<line x1="{zero:.1f}" x2="{zero:.1f}" y1="0" y2="{height}" stroke="{INK}" stroke-width="1"/>')
    parts.append("</svg>")
    return _svg(parts)


def _ticks(lo: float, hi: float, n: int = 4) -> list[float]:
    """About ``n`` round tick values covering [lo, hi] (1, 2 or 5 times a power of ten apart)."""
    import math

    span = (hi - lo) or 1.0
    raw = span / n
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 5, 10) if m * mag >= raw)
    first = math.floor(lo / step) * step
    out = []
    v = first
    while v <= hi + step * 0.001:
        out.append(round(v, 10))
        v += step
    return out


def columns(series: Sequence[tuple[str, Decimal | float | int | None]], *, title: str, width: int = 640,
            height: int = 220, highlight: Sequence[bool] = (), unit: str = "") -> Markup:
    """Vertical columns over time (e.g. one per statement) on a labelled value axis (``unit``, e.g. the
    currency), each column with its value; ``highlight`` marks columns in red."""
    if not series:
        return Markup("")
    values = [_f(v) for _, v in series]
    ticks = _ticks(min(0.0, *values), max(0.0, *values))
    lo, hi = min(ticks[0], 0.0), max(ticks[-1], 0.0)
    span = (hi - lo) or 1.0
    left, top, bottom = 64, 18, 30
    plot_h = height - top - bottom
    plot_w = width - left - 8

    def y_of(v: float) -> float:
        return top + (hi - v) / span * plot_h

    zero = y_of(0.0)
    n = len(series)
    slot = plot_w / n
    bar = max(2.0, min(40.0, slot * 0.7))
    parts = [f'<svg class="chart" role="img" aria-label="{escape(title)}" viewBox="0 0 {width} {height}" '
             f'width="{width}" height="{height}" xmlns="http://www.w3.org/2000/svg">']
    for t in ticks:
        ty = y_of(t)
        parts.append(f'<line x1="{left}" x2="{width - 8}" y1="{ty:.1f}" y2="{ty:.1f}" stroke="#d0d7de" '
                     f'stroke-width="1"/>')
        parts.append(f'<text class="tick" x="{left - 6}" y="{ty + 4:.1f}" text-anchor="end" font-size="11" '
                     f'fill="{INK}">{escape(_label(Decimal(str(t)).normalize() if t % 1 else int(t)))}</text>')
    if unit:
        parts.append(f'<text class="unit" x="4" y="{top - 6}" font-size="11" fill="{INK}">{escape(unit)}</text>')
    step = max(1, n // 8)
    for i, ((name, raw), v) in enumerate(zip(series, values, strict=True)):
        x = left + i * slot + (slot - bar) / 2
        h = abs(v) / span * plot_h
        y = zero - h if v >= 0 else zero
        red = bool(highlight[i]) if i < len(highlight) else v < 0
        parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{max(h, 1.0):.1f}" '
                     f'fill="{NEG if red else LINE}"><title>{escape(name)}: {escape(_label(raw))}</title></rect>')
        if n <= 16:
            vy = (y - 4) if v >= 0 else (y + h + 12)
            parts.append(f'<text class="value" x="{x + bar / 2:.1f}" y="{vy:.1f}" text-anchor="middle" '
                         f'font-size="10" fill="{INK}">{escape(_label(raw))}</text>')
        if i % step == 0:
            parts.append(f'<text class="x" x="{x + bar / 2:.1f}" y="{height - 10}" text-anchor="middle" '
                         f'font-size="11" fill="{INK}">{escape(name[-10:])}</text>')
    parts.append(f'<line x1="{left}" x2="{width - 8}" y1="{zero:.1f}" y2="{zero:.1f}" stroke="{INK}" '
                 f'stroke-width="1"/>')
    parts.append(f'<line x1="{left}" x2="{left}" y1="{top}" y2="{top + plot_h}" stroke="{INK}" stroke-width="1"/>')
    parts.append("</svg>")
    return _svg(parts)


def stacked_hours(hours: Sequence[tuple[datetime, int, int]], *, title: str, width: int = 720,
                  height: int = 200) -> Markup:
    """Runs per hour (green: done, red: failed) on a counted axis, hours (UTC) below."""
    if not hours:
        return Markup("")
    totals = [ok + err for _, ok, err in hours]
    ticks = _ticks(0.0, float(max(1, *totals)))
    hi = max(ticks[-1], 1.0)
    left, top, bottom = 44, 14, 30
    plot_h = height - top - bottom
    plot_w = width - left - 8
    slot = plot_w / len(hours)
    bar = max(2.0, slot * 0.7)
    parts = [f'<svg class="chart" role="img" aria-label="{escape(title)}" viewBox="0 0 {width} {height}" '
             f'width="{width}" height="{height}" xmlns="http://www.w3.org/2000/svg">']
    for t in ticks:
        ty = top + (hi - t) / hi * plot_h
        parts.append(f'<line x1="{left}" x2="{width - 8}" y1="{ty:.1f}" y2="{ty:.1f}" stroke="#d0d7de"/>')
        parts.append(f'<text class="tick" x="{left - 6}" y="{ty + 4:.1f}" text-anchor="end" font-size="11" '
                     f'fill="{INK}">{int(t):,}</text>')
    for i, (hour, ok, err) in enumerate(hours):
        x = left + i * slot + (slot - bar) / 2
        base = float(top + plot_h)
        for n, color, what in ((ok, POS, "done"), (err, NEG, "failed")):
            if not n:
                continue
            h = n / hi * plot_h
            base -= h
            parts.append(f'<rect x="{x:.1f}" y="{base:.1f}" width="{bar:.1f}" height="{h:.1f}" fill="{color}">'
                         f'<title>{hour:%H}:00 UTC: {n:,} {what}</title></rect>')
        if i % 3 == 0:
            parts.append(f'<text class="x" x="{x + bar / 2:.1f}" y="{height - 10}" text-anchor="middle" '
                         f'font-size="11" fill="{INK}">{hour:%H}:00</text>')
    parts.append(f'<line x1="{left}" x2="{width - 8}" y1="{top + plot_h}" y2="{top + plot_h}" stroke="{INK}"/>')
    parts.append(f'<line x1="{left}" x2="{left}" y1="{top}" y2="{top + plot_h}" stroke="{INK}"/>')
    parts.append("</svg>")
    return _svg(parts)


def sparkline(values: Sequence[Decimal | float | int | None], *, title: str, width: int = 160,
              height: int = 36, threshold: Decimal | float | None = None) -> Markup:
    """A small line of a monitor's recent values (gaps where it could not measure)."""
    pts = [(i, _f(v)) for i, v in enumerate(values) if v is not None]
    if not pts:
        return _svg([f'<svg class="spark" role="img" aria-label="{escape(title)}: no data" width="{width}" '
                     f'height="{height}" xmlns="http://www.w3.org/2000/svg"></svg>'])
    ys = [y for _, y in pts] + ([float(threshold)] if threshold is not None else [])
    lo, hi = min(0.0, *ys), max(ys)
    span = (hi - lo) or 1.0
    n = max(1, len(values) - 1)

    def xy(i: int, y: float) -> str:
        return f"{2 + i / n * (width - 4):.1f},{height - 2 - (y - lo) / span * (height - 4):.1f}"

    line = " ".join(xy(i, y) for i, y in pts)
    parts = [f'<svg class="spark" role="img" aria-label="{escape(title)}" viewBox="0 0 {width} {height}" '
             f'width="{width}" height="{height}" xmlns="http://www.w3.org/2000/svg">']
    if threshold is not None:
        ty = height - 2 - (float(threshold) - lo) / span * (height - 4)
        parts.append(f'<line x1="0" x2="{width}" y1="{ty:.1f}" y2="{ty:.1f}" stroke="{NEG}" stroke-width="1" '
                     f'stroke-dasharray="3,3"/>')
    parts.append(f'<polyline points="{line}" fill="none" stroke="{LINE}" stroke-width="1.5"/>')
    last_i, last_y = pts[-1]
    parts.append(f'<circle cx="{xy(last_i, last_y).split(",")[0]}" cy="{xy(last_i, last_y).split(",")[1]}" r="2.5" '
                 f'fill="{LINE}"><title>{escape(title)}: {escape(_label(values[last_i]))}</title></circle>')
    parts.append("</svg>")
    return _svg(parts)


def waterfall(steps: Sequence[tuple[str, Decimal]], *, title: str, totals: frozenset[str] = frozenset(),
              width: int = 620, row: int = 26, label_width: int = 150) -> Markup:
    """Horizontal waterfall: each step moves the running total; ``totals`` rows start at zero."""
    if not steps:
        return Markup("")
    spans: list[tuple[str, Decimal, float, float, bool]] = []
    running = 0.0
    for name, amount in steps:
        v = _f(amount)
        if name in totals:
            spans.append((name, amount, 0.0, v, True))
            running = v
        else:
            spans.append((name, amount, running, running + v, False))
            running += v
    lo = min(0.0, *(min(a, b) for _, _, a, b, _ in spans))
    hi = max(0.0, *(max(a, b) for _, _, a, b, _ in spans))
    span = (hi - lo) or 1.0
    plot = width - label_width - 100

    def x(v: float) -> float:
        return label_width + (v - lo) / span * plot

    height = row * len(spans) + 8
    parts = [f'<svg class="chart" role="img" aria-label="{escape(title)}" viewBox="0 0 {width} {height}" '
             f'width="{width}" height="{height}" xmlns="http://www.w3.org/2000/svg">']
    for i, (name, amount, a, b, total) in enumerate(spans):
        y = 4 + i * row
        x0, x1 = x(min(a, b)), x(max(a, b))
        color = LINE if total else (NEG if b < a else POS)
        parts.append(f'<text x="{label_width - 8}" y="{y + row * 0.65:.1f}" text-anchor="end" font-size="12" '
                     f'fill="{INK}">{escape(name)}</text>')
        parts.append(f'<rect x="{x0:.1f}" y="{y + 3}" width="{max(1.0, x1 - x0):.1f}" height="{row - 8}" '
                     f'fill="{color}"><title>{escape(name)}: {escape(_label(amount))}</title></rect>')
        parts.append(f'<text x="{x1 + 6:.1f}" y="{y + row * 0.65:.1f}" font-size="12" fill="{INK}">'
                     f'{escape(_label(amount))}</text>')
    parts.append(f'<line x1="{x(0):.1f}" x2="{x(0):.1f}" y1="0" y2="{height}" stroke="{INK}" stroke-width="1"/>')
    parts.append("</svg>")
    return _svg(parts)


__all__ = ["bars", "columns", "sparkline", "stacked_hours", "waterfall"]
