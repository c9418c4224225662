"""Hand-written wrong solutions of exercises/ex08_contrastive_margin, each rejected with its own hint."""

import pytest
import torch
import torch.nn.functional as F

from utils import checks


def _d(z1, z2):
    return (z1 - z2).norm(dim=1)


def contrastive_hadsell(z1, z2, similar, margin=1.0):
    d = _d(z1, z2)
    loss = torch.where(similar == 0, d**2, F.relu(margin - d) ** 2)  # Y = 0 means similar in Hadsell et al.
    return loss.mean()


def contrastive_unsquared_push(z1, z2, similar, margin=1.0):
    d = _d(z1, z2)
    return torch.mean(similar * d * d + (1 - similar) * F.relu(margin - d))


def contrastive_d_not_d2(z1, z2, similar, margin=1.0):
    d = F.pairwise_distance(z1, z2, eps=0.0)
    return torch.mean(similar * d + (1 - similar) * (margin - d).clamp(min=0) ** 2)


def contrastive_sum(z1, z2, similar, margin=1.0):
    total = 0
    for i in range(len(similar)):
        d = torch.linalg.norm(z1[i] - z2[i])
        total = total + (d**2 if similar[i] == 1 else torch.clamp(margin - d, min=0) ** 2)
    return total


def contrastive_margin_one(z1, z2, similar, margin=1.0):
    d = _d(z1, z2)
    return (similar * d.pow(2) + (1 - similar) * F.relu(1 - d).pow(2)).mean()


def contrastive_half(z1, z2, similar, margin=1.0):
    d = _d(z1, z2)
    return (0.5 * similar * d.pow(2) + 0.5 * (1 - similar) * F.relu(margin - d).pow(2)).mean()


def distance_sqrt(x, y):
    return torch.sqrt(torch.sum((x - y) * (x - y), dim=-1))


def distance_torch_default(x, y):
    return torch.nn.PairwiseDistance()(x, y)


def distance_squared(x, y):
    return ((x - y) * (x - y)).sum(1)


def distance_wrong_dim(x, y):
    return torch.norm(x - y, dim=0)


MUTANTS = [
    ("contrastive_loss", "label convention flipped", contrastive_hadsell),
    ("contrastive_loss", "dissimilar term not squared", contrastive_unsquared_push),
    ("contrastive_loss", "similar term not squared", contrastive_d_not_d2),
    ("contrastive_loss", "sum instead of mean", contrastive_sum),
    ("contrastive_loss", "margin ignored", contrastive_margin_one),
    ("contrastive_loss", "Hadsell's factor 1/2", contrastive_half),
    ("safe_distance", "square root of the sum (NaN gradient at d = 0)", distance_sqrt),
    ("safe_distance", "F.pairwise_distance's default eps", distance_torch_default),
    ("safe_distance", "squared distance", distance_squared),
    ("safe_distance", "norm over the wrong dimension", distance_wrong_dim),
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


def test_other_correct_distances_pass():
    """Correct alternatives: the norm (gradient 0 at 0), pairwise_distance with eps=0, and a clamped sqrt."""
    for fn in (lambda x, y: torch.linalg.vector_norm(x - y, dim=1),
               lambda x, y: F.pairwise_distance(x, y, eps=0.0),
               lambda x, y: torch.sqrt(((x - y) ** 2).sum(1).clamp(min=1e-300)) * (((x - y) ** 2).sum(1) > 0)):
        report = checks.evaluate("safe_distance", fn)
        assert report.status == "pass", report.message


def test_a_loop_contrastive_loss_passes():
    def loop(z1, z2, similar, margin=1.0):
        terms = []
        for a, b, y in zip(z1, z2, similar):
            d = torch.linalg.vector_norm(a - b)
            terms.append(d**2 if y == 1 else torch.clamp(margin - d, min=0.0) ** 2)
        return torch.stack(terms).mean()

    assert checks.evaluate("contrastive_loss", loop).status == "pass"
