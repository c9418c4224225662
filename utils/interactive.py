"""Sliders for workshops: drag the margin (or the scale) and watch a figure redraw.

Introduced for the loss chapters (02 onwards). ``explore(draw, margin=(0.0, 3.0, 0.1, 1.0))`` shows one
slider per keyword of ``draw`` and an output area; ``draw(**values)`` is called once at start and again
whenever a slider is released, and whatever figure it draws replaces the previous one.

Stored notebooks stay reproducible: the widget's view (a random model id) is never compared by nbval and is
not stored by ``python -m utils.book build``; the cell's plain-text output is one fixed sentence.
"""

from __future__ import annotations

from typing import Any, Callable

__all__ = ["explore", "PLAIN_TEXT"]

#: What a notebook viewer without a live kernel shows in place of the sliders.
PLAIN_TEXT = "Interactive figure: run this cell in JupyterLab to get the sliders."


class _Explorer:
    """The widget box, displayed with a fixed plain-text fallback instead of the widget's repr."""

    def __init__(self, box, sliders: dict[str, Any]):
        self.box = box
        self.sliders = sliders

    def _repr_mimebundle_(self, include=None, exclude=None):
        bundle = self.box._repr_mimebundle_(include=include, exclude=exclude)
        if isinstance(bundle, tuple):  # (data, metadata)
            data, metadata = bundle
        else:
            data, metadata = bundle, {}
        data = dict(data or {})
        data["text/plain"] = PLAIN_TEXT
        return data, metadata

    def __repr__(self) -> str:
        return PLAIN_TEXT


def _spec(name: str, spec) -> tuple[float, float, float, float]:
    if not isinstance(spec, (tuple, list)) or len(spec) not in (3, 4):
        raise TypeError(
            f"slider {name!r}: expected (min, max, step) or (min, max, step, initial), got {spec!r}"
        )
    lo, hi, step = (float(v) for v in spec[:3])
    initial = float(spec[3]) if len(spec) == 4 else lo
    if not lo < hi or step <= 0 or not lo <= initial <= hi:
        raise ValueError(
            f"slider {name!r}: need min < max, step > 0 and min <= initial <= max, got {spec!r}"
        )
    return lo, hi, step, initial


def explore(draw: Callable[..., Any], **sliders) -> _Explorer:
    """Show one slider per keyword and redraw ``draw(**values)`` when a slider is released.

    Parameters
    ----------
    draw : callable
        Called with one keyword per slider; draws a matplotlib figure (and may return it).
    **sliders : tuple
        ``name=(min, max, step)`` or ``name=(min, max, step, initial)``; initial defaults to min.

    Returns
    -------
    The displayed explorer; ``.sliders[name]`` is the ``ipywidgets.FloatSlider`` (tests move it).

    Raises
    ------
    TypeError, ValueError
        On a slider spec that is not ``(min, max, step[, initial])`` with min < max, step > 0.

    Example
    -------
    >>> explore(lambda margin: plot_hinge(margin), margin=(0.0, 3.0, 0.1, 1.0))  # doctest: +SKIP
    """
    if not sliders:
        raise TypeError("explore() needs at least one slider, e.g. margin=(0.0, 3.0, 0.1, 1.0)")
    import ipywidgets as widgets
    import matplotlib.pyplot as plt

    controls = {}
    for name, spec in sliders.items():
        lo, hi, step, initial = _spec(name, spec)
        controls[name] = widgets.FloatSlider(
            value=initial, min=lo, max=hi, step=step, description=name,
            continuous_update=False, readout_format=".2f",
            layout=widgets.Layout(width="420px"),
        )
    out = widgets.Output()

    def redraw(_change=None):
        with out:
            out.clear_output(wait=True)
            fig = draw(**{name: c.value for name, c in controls.items()})
            fig = fig if fig is not None else plt.gcf()
            plt.show()
            plt.close(fig)

    for c in controls.values():
        c.observe(redraw, names="value")
    redraw()
    return _Explorer(widgets.VBox([*controls.values(), out]), controls)
