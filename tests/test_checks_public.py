"""The student bundle's checks (utils/checks/public.py): precomputed public outcomes instead of the
reference and mistake code, with exactly the repository's verdicts and hints on the public cases."""

from pathlib import Path

import pytest
from test_exercises import load_function

from utils import checks
from utils.checks import public

ROOT = Path(__file__).resolve().parent.parent
EXERCISES = checks.registry()


@pytest.fixture(scope="module")
def bundled(tmp_path_factory):
    path = tmp_path_factory.mktemp("public") / "public.pt"
    public.save(EXERCISES, path)  # through torch.save / torch.load(weights_only=True), as shipped
    return public.load(path)


def _judge(exercise, fn):
    cases = checks.cases_for(exercise)
    return checks.judge(exercise, cases, checks.run_cases(exercise, fn, cases))


@pytest.mark.parametrize("name", sorted(EXERCISES))
def test_bundled_check_agrees_with_the_repository(bundled, name):
    exercise, shipped = EXERCISES[name], bundled[name]
    assert shipped.reference is None and all(m.mimic is None for m in shipped.mistakes)
    solution = load_function(ROOT / "solutions" / f"{exercise.notebook}.py", exercise)
    assert _judge(shipped, solution).status == "pass"
    stub = load_function(ROOT / "exercises" / f"{exercise.notebook}.py", exercise)
    assert _judge(shipped, stub).status == "not implemented"
    for mistake in exercise.mistakes:
        if mistake.mimic is None:
            continue
        repo, bundle = _judge(exercise, mistake.mimic), _judge(shipped, mistake.mimic)
        assert (bundle.status, bundle.message) == (repo.status, repo.message)
        assert f"Likely mistake — {mistake.name}:" in bundle.message
