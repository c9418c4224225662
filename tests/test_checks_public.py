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


def test_bundled_speed_case_times_a_loop_and_checks_the_large_case(bundled):
    """The bundle has no reference to run, so it ships the large case and the reference's outcome on it:
    a loop over the batch is told to vectorise, an answer wrong only at that size is caught, and the
    solution and an answer written differently pass, exactly as with the repository's check."""
    from test_grade_notebook import ROW_LOOP, SCATTER

    exercise, shipped = EXERCISES["multiclass_hinge_vectorised"], bundled["multiclass_hinge_vectorised"]
    assert shipped.speed is not None and shipped.reference is None
    assert shipped.speed.max_cpu_seconds == exercise.speed.max_cpu_seconds
    namespace: dict = {}
    exec("import torch\n" + ROW_LOOP, namespace)
    loop = namespace["multiclass_hinge_vectorised"]
    assert "vectorise it" in checks.speed_message(shipped, loop)
    exec(SCATTER, namespace)
    assert checks.speed_message(shipped, namespace["multiclass_hinge_vectorised"]) is None
    solution = load_function(ROOT / "solutions" / f"{exercise.notebook}.py", exercise)
    assert checks.speed_message(shipped, solution) is None

    def right_only_when_small(scores, targets, margin=1.0):
        out = solution(scores, targets, margin)
        return out if len(out) < 1000 else out * 1.01

    assert checks.speed_message(exercise, right_only_when_small).startswith(
        "multiclass_hinge_vectorised: right on the small cases, wrong on a large one")
    assert checks.speed_message(shipped, right_only_when_small) == checks.speed_message(
        exercise, right_only_when_small)
