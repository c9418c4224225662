"""Exercises of 11 Margin size: pick a margin on validation results; which margins the unit sphere allows."""

from __future__ import annotations

import torch

from utils.checks import Exercise, Mistake, register

NOTEBOOK = "ex11_margin_size"

MARGINS = (0.05, 0.1, 0.2, 0.4, 0.8, 1.2, 1.6)


# --------------------------------------------------------------------------- choose_margin
def _row(margin, train, val, test):
    return {"margin": margin, "train": train, "val": val, "test": test}


def _sweep_cases(generator: torch.Generator, hidden: bool) -> list[dict]:
    """Sweeps as lists of dicts in shuffled order; scores on a grid of 1/100, so ties are exact."""
    cases = [
        # the notebook's example: training recall keeps rising, validation peaks at 0.2, test prefers 0.4
        dict(results=[_row(0.1, 0.90, 0.71, 0.70), _row(0.2, 0.93, 0.78, 0.74), _row(0.4, 0.96, 0.76, 0.77),
                      _row(0.8, 0.98, 0.60, 0.58)]),
        # a tie on validation between 0.4 and 0.2, listed larger first: the smaller margin wins
        dict(results=[_row(0.8, 0.99, 0.52, 0.50), _row(0.4, 0.95, 0.81, 0.79), _row(0.1, 0.90, 0.66, 0.69),
                      _row(0.2, 0.93, 0.81, 0.80)]),
        # a three-way tie listed middle, largest, smallest: only the smallest margin is right
        dict(results=[_row(0.4, 0.97, 0.74, 0.72), _row(0.8, 0.99, 0.74, 0.75), _row(0.05, 0.80, 0.60, 0.61),
                      _row(0.1, 0.88, 0.74, 0.70)]),
    ]
    count = 4
    ### BEGIN HIDDEN
    if hidden:  # the grader's cases: more random sweeps
        count = 6
    ### END HIDDEN
    for index in range(count):
        k = int(torch.randint(3, len(MARGINS) + 1, (1,), generator=generator))
        order = torch.randperm(len(MARGINS), generator=generator)[:k].tolist()
        scores = torch.randint(40, 100, (3, k), generator=generator) / 100
        if index % 2 == 0:  # plant a tie at the top of the validation scores
            i, j = torch.randperm(k, generator=generator)[:2].tolist()
            scores[1, j] = scores[1, i] = scores[1].max()
        cases.append(dict(results=[_row(MARGINS[o], *(round(float(s), 2) for s in scores[:, c]))
                                   for c, o in enumerate(order)]))
    ### BEGIN HIDDEN
    if hidden:
        cases.append(dict(results=[_row(0.5, 0.9, 0.8, 0.7)]))  # a single run
        cases.append(dict(results=[_row(m, 0.5, 0.5, 0.5) for m in (1.0, 0.3, 0.6)]))  # all tied
    ### END HIDDEN
    return cases


def _reference_choose(results):
    best_margin, best_score = None, None
    for row in results:
        margin, score = row["margin"], row["val"]
        if best_score is None or score > best_score or (score == best_score and margin < best_margin):
            best_margin, best_score = margin, score
    return float(best_margin)


def _by(key, *, prefer_large=False):
    def choose(results):
        sign = 1 if prefer_large else -1
        best = max(results, key=lambda r: (r[key], sign * r["margin"]))
        return best["margin"]
    return choose


def _first_listed(results):
    best = results[0]
    for row in results[1:]:
        if row["val"] > best["val"]:
            best = row
    return best["margin"]


CHOOSE_MARGIN = register(Exercise(
    name="choose_margin",
    notebook=NOTEBOOK,
    function="choose_margin",
    points=2,
    reference=_reference_choose,
    make_cases=_sweep_cases,
    mistakes=(
        Mistake("chosen on the training score",
                "you pick the margin with the best TRAINING recall; training scores reward fitting, not "
                "generalising. Choose on the validation score, key 'val'.", _by("train")),
        Mistake("chosen on the test score",
                "you pick the margin with the best TEST recall: that leaks the test set into model "
                "selection, and the test score is then optimistic. Choose on 'val'; report 'test' once, after.",
                _by("test")),
        Mistake("largest margin",
                "you return the largest margin tried, whatever its score: compare the validation scores, "
                "not the margins.", lambda results: max(r["margin"] for r in results)),
        Mistake("tie broken toward the larger margin",
                "on a tie of validation scores, the smaller margin wins (the weaker constraint that does "
                "as well); you return the larger one.", _by("val", prefer_large=True)),
        Mistake("tie broken by list order",
                "on a tie you keep the run listed first; the rows are not sorted by margin. Break ties "
                "explicitly toward the smaller margin.", _first_listed),
    ),
    description="Choose the margin with the best validation Recall@1; ties go to the smaller margin.",
))


# --------------------------------------------------------------------------- unit_sphere_triplet_feasible
def _feasibility_cases(generator: torch.Generator, hidden: bool) -> list[dict]:
    """Distances and margins on a grid of 1/8 (exact), including d_ap + margin == the largest distance."""
    cases = [
        dict(d_ap=torch.tensor([0.0, 0.5, 1.0, 1.5, 1.75, 2.0], dtype=torch.float64), margin=0.5, squared=False),
        dict(d_ap=torch.tensor([0.0, 1.0, 2.0, 3.5, 3.75, 4.0], dtype=torch.float64), margin=0.5, squared=True),
    ]
    sizes = ((20, 0.25), (20, 1.0))
    ### BEGIN HIDDEN
    if hidden:  # the grader's cases: other sizes (one distance, odd, large) and margins
        sizes = ((1, 0.25), (16, 1.0), (100, 0.125), (33, 2.0))
    ### END HIDDEN
    for n, margin in sizes:
        for squared in (False, True):
            top = 4.0 if squared else 2.0
            d_ap = torch.randint(0, int(8 * top) + 1, (n,), generator=generator).to(torch.float64) / 8
            d_ap[0] = top - margin  # the boundary: feasible, just
            cases.append(dict(d_ap=d_ap, margin=margin, squared=squared))
    return cases


def _reference_feasible(d_ap, margin, squared=False):
    largest = 4.0 if squared else 2.0  # antipodal points: |a - (-a)| = 2, squared 4
    return torch.tensor([ap + margin <= largest for ap in d_ap.tolist()], dtype=torch.bool)


UNIT_SPHERE_TRIPLET_FEASIBLE = register(Exercise(
    name="unit_sphere_triplet_feasible",
    notebook=NOTEBOOK,
    function="unit_sphere_triplet_feasible",
    points=2,
    reference=_reference_feasible,
    make_cases=_feasibility_cases,
    mistakes=(
        Mistake("largest distance 1 (the radius)",
                "two unit vectors can be up to 2 apart (antipodal points: |a - (-a)| = 2), not 1: the radius "
                "is 1, the diameter 2 (and the largest squared distance is 4).",
                lambda d_ap, margin, squared=False: d_ap + margin <= 1.0),
        Mistake("boundary excluded",
                "d(a,n) = 2 is reachable (the antipode), so d(a,p) + margin = 2 is still feasible: use <=.",
                lambda d_ap, margin, squared=False: d_ap + margin < (4.0 if squared else 2.0)),
        Mistake("squared distances bounded by 2",
                "with squared=True the distances are squared Euclidean, which reach 2² = 4 on the unit sphere.",
                lambda d_ap, margin, squared=False: d_ap + margin <= 2.0),
        Mistake("margin ignored",
                "you only check that d(a,p) is in range; the negative must reach d(a,p) + margin, so the test "
                "is d(a,p) + margin <= the largest distance.",
                lambda d_ap, margin, squared=False: d_ap <= (4.0 if squared else 2.0)),
    ),
    description="Whether a triplet with this d(a,p) can satisfy the margin on the unit sphere.",
))
