"""Hand-written wrong solutions of exercises/ex12_normalized_embeddings, each rejected with its own hint."""

import math

import pytest
import torch

from utils import checks


def cosface_every_class(cosines, targets, margin=0.35, scale=64.0):
    return (cosines - margin) * scale


def cosface_no_scale(cosines, targets, margin=0.35, scale=64.0):
    out = cosines.clone()
    out[torch.arange(len(targets)), targets] -= margin
    return out


def cosface_plus(cosines, targets, margin=0.35, scale=64.0):
    out = cosines.clone()
    out[torch.arange(len(targets)), targets] += margin
    return scale * out


def cosface_margin_after_scale(cosines, targets, margin=0.35, scale=64.0):
    logits = cosines * scale
    mask = torch.zeros_like(cosines).scatter_(1, targets[:, None], 1.0)
    return logits - mask * margin


EPS = 1e-7


def _arcface(cosines, targets, margin, scale, *, clamp=True, branch=True, every_class=False):
    rows = torch.arange(len(targets))
    c = cosines if every_class else cosines[rows, targets]
    theta = torch.arccos(torch.clamp(c, -1 + EPS, 1 - EPS) if clamp else c)
    target = torch.cos(theta + margin)
    if branch:
        target = torch.where(theta > math.pi - margin, c - margin * math.sin(margin), target)
    if every_class:
        return scale * target
    out = cosines.clone()
    out[rows, targets] = target
    return scale * out


def arcface_every_class(cosines, targets, margin=0.5, scale=64.0):
    return _arcface(cosines, targets, margin, scale, every_class=True)


def arcface_no_scale(cosines, targets, margin=0.5, scale=64.0):
    return _arcface(cosines, targets, margin, 1.0)


def arcface_degrees(cosines, targets, margin=0.5, scale=64.0):
    return _arcface(cosines, targets, margin * math.pi / 180, scale)


def arcface_no_branch(cosines, targets, margin=0.5, scale=64.0):
    return _arcface(cosines, targets, margin, scale, branch=False)


def arcface_no_clamp(cosines, targets, margin=0.5, scale=64.0):
    return _arcface(cosines, targets, margin, scale, clamp=False)


MUTANTS = [
    ("cosface_logits", "margin subtracted from every class", cosface_every_class),
    ("cosface_logits", "scale forgotten", cosface_no_scale),
    ("cosface_logits", "margin added instead of subtracted", cosface_plus),
    ("cosface_logits", "margin not scaled", cosface_margin_after_scale),
    ("arcface_logits", "margin added to every class", arcface_every_class),
    ("arcface_logits", "scale forgotten", arcface_no_scale),
    ("arcface_logits", "margin taken in degrees", arcface_degrees),
    ("arcface_logits", "missing the θ + m > π branch", arcface_no_branch),
    ("arcface_logits", "arccos without clamp", arcface_no_clamp),
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


def test_a_correct_gather_scatter_arcface_passes_including_hidden_cases():
    for hidden in (False, True):
        report = checks.evaluate("arcface_logits", lambda cosines, targets, margin=0.5, scale=64.0:
                                 _arcface(cosines, targets, margin, scale), hidden=hidden, seed=3)
        assert report.status == "pass", report.message


def test_the_logits_agree_with_the_library_losses():
    """cross_entropy of the exercise's logits is utils.angular's CosFace / ArcFace loss (same cosines)."""
    from utils.angular import arcface_loss, cosface_loss, cosine_logits

    g = torch.Generator().manual_seed(0)
    features, weight = torch.randn(16, 5, generator=g, dtype=torch.float64), torch.randn(4, 5, generator=g, dtype=torch.float64)
    targets = torch.randint(0, 4, (16,), generator=g)
    cos = cosine_logits(features, weight)
    ce = torch.nn.functional.cross_entropy
    torch.testing.assert_close(ce(checks.get("cosface_logits").reference(cos, targets), targets),
                               cosface_loss(features, weight, targets))
    torch.testing.assert_close(ce(checks.get("arcface_logits").reference(cos, targets), targets),
                               arcface_loss(features, weight, targets))
