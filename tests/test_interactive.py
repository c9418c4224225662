"""utils.interactive: sliders redraw the figure; bad slider specs raise clear errors."""

import matplotlib

matplotlib.use("Agg")
import pytest  # noqa: E402

from utils import interactive  # noqa: E402


def test_moving_a_slider_redraws_with_the_new_value():
    seen = []

    def draw(margin, scale):
        import matplotlib.pyplot as plt

        seen.append((margin, scale))
        fig, ax = plt.subplots()
        ax.plot([0, margin * scale])
        return fig

    ex = interactive.explore(draw, margin=(0.0, 3.0, 0.1, 1.0), scale=(1.0, 64.0, 1.0, 16.0))
    assert seen == [(1.0, 16.0)]
    ex.sliders["margin"].value = 2.5
    assert seen[-1] == (2.5, 16.0)
    ex.sliders["scale"].value = 32.0
    assert seen[-1] == (2.5, 32.0) and len(seen) == 3
    data, _ = ex._repr_mimebundle_()
    assert data["text/plain"] == interactive.PLAIN_TEXT
    assert "application/vnd.jupyter.widget-view+json" in data


@pytest.mark.parametrize("spec, error", [((0.0, 1.0), TypeError), ((1.0, 0.0, 0.1), ValueError),
                                         ((0.0, 1.0, 0.0), ValueError), ((0.0, 1.0, 0.1, 2.0), ValueError),
                                         (1.0, TypeError)])
def test_bad_slider_specs_raise(spec, error):
    with pytest.raises(error, match="slider 'margin'"):
        interactive.explore(lambda margin: None, margin=spec)


def test_no_slider_raises():
    with pytest.raises(TypeError, match="at least one slider"):
        interactive.explore(lambda: None)
