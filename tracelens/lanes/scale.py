"""Lanes stage: the time scale of a chart — equal buckets of a round step, and the ticks of its axis."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, time, timedelta

_MS = 1_000  # microseconds
_S = 1_000_000
#: the distances between two ticks of the axis, in microseconds: round times
_TICKS = (
    1 * _MS, 2 * _MS, 5 * _MS, 10 * _MS, 20 * _MS, 50 * _MS, 100 * _MS, 200 * _MS, 500 * _MS,
    1 * _S, 2 * _S, 5 * _S, 10 * _S, 15 * _S, 30 * _S,
    60 * _S, 120 * _S, 300 * _S, 600 * _S, 900 * _S, 1800 * _S,
    3600 * _S, 7200 * _S, 10800 * _S, 21600 * _S, 43200 * _S, 86400 * _S,
)
#: the steps a cell may stand for: the ticks, and steps between them that divide a tick, so that the
#: chart fills more of the width it is given (82 s in 68 cells: 1.5 s a cell, not 2 s)
_STEPS = tuple(sorted({*_TICKS, 1_500 * _MS, 3 * _S, 4 * _S, 6 * _S, 20 * _S, 40 * _S, 180 * _S, 240 * _S,
                       360 * _S, 1200 * _S, 2400 * _S, 14400 * _S, 28800 * _S}))


def shifted(t: datetime, delta: timedelta | float) -> datetime:
    """``t`` moved by ``delta`` (a timedelta or seconds), held at the calendar's ends instead of overflowing.

    NOTE: the seconds come from the log (``retry in N`` with up to 30 digits) and the times may be in
    year 9999: a plain ``t + timedelta(seconds=N)`` raised OverflowError.
    """
    try:
        return t + (delta if isinstance(delta, timedelta) else timedelta(seconds=delta))
    except OverflowError:
        forward = delta > timedelta(0) if isinstance(delta, timedelta) else delta > 0
        return datetime.max if forward else datetime.min


@dataclass(frozen=True, slots=True)
class Scale:
    """``cells`` buckets of ``step`` from ``t0``: bucket ``i`` is ``[t0 + i*step, t0 + (i+1)*step)``."""

    t0: datetime
    step: timedelta
    cells: int

    def index(self, t: datetime) -> int:
        """The bucket of ``t`` (negative before the chart, ``cells`` or more after it)."""
        return (t - self.t0) // self.step

    def start_of(self, cell: int) -> datetime:
        """When bucket ``cell`` begins."""
        return shifted(self.t0, self.step * cell)

    def cell_range(self, start: datetime, end: datetime, *, inclusive: bool = False) -> range:
        """The buckets ``[start, end)`` touches (``[start, end]`` if inclusive), clipped to the chart."""
        if end < start or (end == start and not inclusive):
            return range(0)
        first = self.index(start)
        last = self.index(end) if inclusive else self.index(shifted(end, -timedelta(microseconds=1)))
        return range(max(first, 0), min(last, self.cells - 1) + 1)


def _steps(steps: tuple[int, ...] = _STEPS) -> Iterator[int]:
    yield from steps
    days = 1
    while True:  # 2, 5, 10, 20, 50 ... days
        for k in (2, 5, 10):
            yield days * k * 86400 * _S
        days *= 10


def _align(t: datetime, step: timedelta) -> datetime:
    midnight = datetime.combine(t.date(), time(), tzinfo=t.tzinfo)
    return midnight + ((t - midnight) // step) * step


def choose_scale(lo: datetime, hi: datetime, cells: int) -> Scale:
    """The smallest nice step that fits ``[lo, hi]`` into ``cells`` buckets (1 s for a single instant).

    The step is the smallest "nice" one (1-2-5 steps, then 15 s, 30 s, minutes, hours, days) that fits,
    and the origin is aligned to a multiple of the step, so that bucket edges fall on round times.
    """
    for step_us in _steps():
        if lo == hi and step_us < _S:
            continue
        step = timedelta(microseconds=step_us)
        t0 = _align(lo, step)
        n = (hi - t0) // step + 1
        if n <= cells:
            return Scale(t0, step, n)
    raise AssertionError("unreachable: the steps grow without bound")


def describe_step(step: timedelta) -> str:
    """What one bucket stands for, as a reader says it: ``2 s``, ``1.5 s``, ``15 min``."""
    us = step // timedelta(microseconds=1)
    for unit, size in (("d", 86400 * _S), ("h", 3600 * _S), ("min", 60 * _S), ("s", _S), ("ms", _MS)):
        if us >= size and us % size == 0:
            return f"{us // size} {unit}"
    if us > _S:
        return f"{us / _S:g} s"  # 1.5 s
    return f"{us} µs"


def ticks(scale: Scale, area: int, multi_day: bool) -> list[tuple[int, str]]:
    """Tick buckets and labels for an axis ``area`` cells wide: labels at round times, far enough apart to
    read (four cells between two labels at least), each label within the area."""
    step_us = scale.step // timedelta(microseconds=1)
    fmt = "%H:%M:%S"
    tick_us = step_us
    for tick_us in _steps(_TICKS):
        if tick_us < step_us or tick_us % step_us:
            continue
        fmt = ("%Y-%m-%d " if multi_day else "") + ("%H:%M:%S.%f" if tick_us < _S else "%H:%M:%S")
        width = len(_label_for(scale.t0, fmt))
        if tick_us // step_us >= width + 4:
            break
    tick = timedelta(microseconds=tick_us)
    first = _align(scale.t0, tick)
    if first < scale.t0:
        first = shifted(first, tick)
    out = []
    t = first
    while (col := scale.index(t)) < scale.cells:
        label = _label_for(t, fmt)
        if col + len(label) <= area:
            out.append((col, label))
        later = shifted(t, tick)
        if later == t:  # the end of the calendar
            break
        t = later
    return out


def _label_for(t: datetime, fmt: str) -> str:
    label = t.strftime(fmt)
    return label[:-3] if fmt.endswith("%f") else label  # milliseconds are enough
