"""Mutation testing as a standing measure (issue 13): every automatic mutant of each solution is killed by
the exercise's public or hidden cases, or listed in its check module as equivalent, with a reason.

``python -m utils.book mutants [EXERCISE]`` prints the same numbers. Runs in-process (about 15 s of CPU for
all exercises), so it fits in CI."""

import pytest

from utils import checks
from utils.checks import mutants

EXERCISES = checks.registry()
NAMES = sorted(EXERCISES)


@pytest.mark.parametrize("name", NAMES)
def test_no_unlisted_mutant_survives(name):
    result = mutants.run(EXERCISES[name])
    assert result.total >= 2, f"{name}: the mutator finds only {result.total} mutant(s)"
    assert not result.survived, f"{name}: mutants survive the cases (add a case, or list them as equivalent " \
                                f"in Exercise.equivalent_mutants with a reason): {result.survived}"
    listed = EXERCISES[name].equivalent_mutants
    stale = set(listed) - set(result.equivalent)
    assert not stale, f"{name}: listed as equivalent but killed or not generated any more: {sorted(stale)}"
    assert all(reason.strip() for reason in listed.values())


def test_the_mutator_makes_the_kinds_of_mutants_it_promises():
    kinds = {m.id.split(" ", 1)[1] for name in ("hinge_gradient", "batch_hard_triplets", "arcface_logits",
                                                  "multiclass_hinge_loss", "violation_fraction")
             for m in mutants.mutants(EXERCISES[name])}
    for expected in ("<= -> <", ".argmax -> .argmin", "where branches swapped", "min= -> max=", ".sum -> .mean",
                     "1 -> 0", "- -> +", ".double -> .float", ".item() dropped"):
        assert any(expected in k for k in kinds), (expected, sorted(kinds))


def test_a_wrong_case_set_lets_mutants_survive():
    """The measure can fail: with only the worked example, mutants of hinge_gradient survive."""
    import dataclasses

    exercise = EXERCISES["hinge_gradient"]
    weak = dataclasses.replace(exercise, make_cases=lambda g, hidden: exercise.make_cases(g, hidden)[:1],
                               equivalent_mutants={})
    assert mutants.run(weak).survived
