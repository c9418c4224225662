"""Project-wide pytest configuration.

Stored notebook outputs are compared in strict mode, except stderr (warnings, progress
bars), which differs between machines. nbval has no option for that, so its stream comparison is
wrapped to drop stderr streams on both sides (nbval is pinned in requirements.txt).
"""

import nbval.plugin

_transform_streams = nbval.plugin.transform_streams_for_comparison


def _without_stderr(outputs):
    kept = [o for o in outputs if not (o.get("output_type") == "stream" and o.get("name") == "stderr")]
    return _transform_streams(kept)


nbval.plugin.transform_streams_for_comparison = _without_stderr


# The offline guarantee (tests/offline/sitecustomize.py): every process started from here on, each
# notebook kernel included, refuses network access beyond loopback.
import os  # noqa: E402
from pathlib import Path  # noqa: E402

_GUARD = str(Path(__file__).resolve().parent / "tests" / "offline")
os.environ["MARGIN_LOSSES_OFFLINE"] = "1"
os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (_GUARD, os.environ.get("PYTHONPATH")) if p)
