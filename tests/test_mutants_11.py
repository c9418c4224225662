"""Hand-written wrong solutions of exercises/ex11_margin_size, each rejected with its own hint."""

import pytest
import torch

from utils import checks


def choose_on_train(results):
    ordered = sorted(results, key=lambda r: r["margin"])
    best = ordered[0]
    for run in ordered:
        if run["train"] > best["train"]:
            best = run
    return best["margin"]


def choose_on_test(results):
    ordered = sorted(results, key=lambda r: r["margin"])
    scores = [r["test"] for r in ordered]
    return ordered[scores.index(max(scores))]["margin"]


def choose_largest(results):
    as_dict = {r["margin"]: r["val"] for r in results}
    return max(as_dict)  # the largest KEY, not the best value


def choose_tie_larger(results):
    best = None
    for run in results:
        if best is None or run["val"] >= best["val"] and (run["val"] > best["val"] or run["margin"] > best["margin"]):
            best = run
    return best["margin"]


def choose_first_listed(results):
    scores = [r["val"] for r in results]
    return results[scores.index(max(scores))]["margin"]


def feasible_radius(d_ap, margin, squared=False):
    return (d_ap + margin) <= torch.ones_like(d_ap)


def feasible_strict(d_ap, margin, squared=False):
    limit = 2.0 ** 2 if squared else 2.0
    return limit - d_ap > margin


def feasible_squared_ignored(d_ap, margin, squared=False):
    return torch.tensor([ap + margin <= 2 for ap in d_ap.tolist()])


def feasible_margin_ignored(d_ap, margin, squared=False):
    largest = 4.0 if squared else 2.0
    return d_ap <= largest


MUTANTS = [
    ("choose_margin", "chosen on the training score", choose_on_train),
    ("choose_margin", "chosen on the test score", choose_on_test),
    ("choose_margin", "largest margin", choose_largest),
    ("choose_margin", "tie broken toward the larger margin", choose_tie_larger),
    ("choose_margin", "tie broken by list order", choose_first_listed),
    ("unit_sphere_triplet_feasible", "largest distance 1 (the radius)", feasible_radius),
    ("unit_sphere_triplet_feasible", "boundary excluded", feasible_strict),
    ("unit_sphere_triplet_feasible", "squared distances bounded by 2", feasible_squared_ignored),
    ("unit_sphere_triplet_feasible", "margin ignored", feasible_margin_ignored),
]


@pytest.mark.parametrize("name, mistake, mutant", MUTANTS, ids=[f"{n}-{m}" for n, m, _ in MUTANTS])
def test_mutant_is_rejected_with_its_hint(name, mistake, mutant):
    report = checks.evaluate(name, mutant)
    assert report.status != "pass"
    assert f"Likely mistake — {mistake}:" in report.message, report.message


def test_every_catalogued_mistake_has_a_mutant():
    for name in {n for n, _, _ in MUTANTS}:
        covered = {m for n, m, _ in MUTANTS if n == name}
        assert covered == {m.name for m in checks.get(name).mistakes}, name


def test_sorting_by_margin_then_keeping_the_first_best_passes():
    def sorted_first(results):
        ordered = sorted(results, key=lambda r: r["margin"])
        scores = [r["val"] for r in ordered]
        return ordered[scores.index(max(scores))]["margin"]

    for hidden in (False, True):
        assert checks.evaluate("choose_margin", sorted_first, hidden=hidden).status == "pass"


def test_an_actual_antipode_reaches_the_bound():
    """The fact the exercise rests on: on the unit sphere d(a, -a) = 2 and no pair is farther apart."""
    z = torch.nn.functional.normalize(torch.randn(500, 8, generator=torch.Generator().manual_seed(0)), dim=1)
    assert torch.cdist(z, z).max() <= 2.0 + 1e-6
    assert torch.isclose(torch.linalg.vector_norm(z[0] - (-z[0])), torch.tensor(2.0))
