"""Hand-written wrong solutions of exercises/ex06_ranking_margin, each rejected with its own hint."""

import pytest
import torch
import torch.nn as nn

from utils import checks


def rank_wrong_sign(pos_scores, neg_scores, margin=1.0):
    return torch.relu(margin + pos_scores - neg_scores).mean()


def rank_no_clamp(pos_scores, neg_scores, margin=1.0):
    return margin - (pos_scores - neg_scores).mean()


def rank_summed(pos_scores, neg_scores, margin=1.0):
    return nn.MarginRankingLoss(margin=margin, reduction="sum")(pos_scores, neg_scores, torch.ones_like(pos_scores))


def rank_fixed_margin(pos_scores, neg_scores, margin=1.0):
    return nn.MarginRankingLoss(margin=1.0)(pos_scores, neg_scores, torch.ones_like(pos_scores))


def fixed_unchanged(pos_scores, neg_scores):
    x1, x2 = torch.cat([pos_scores, neg_scores]), torch.cat([neg_scores, pos_scores])
    y = torch.cat([torch.ones_like(pos_scores), torch.zeros_like(pos_scores)])
    return nn.MarginRankingLoss()(x1, x2, y)


def fixed_margin_zero(pos_scores, neg_scores):
    x1, x2 = torch.cat([pos_scores, neg_scores]), torch.cat([neg_scores, pos_scores])
    y = torch.cat([torch.ones_like(pos_scores), -torch.ones_like(pos_scores)])
    return nn.MarginRankingLoss()(x1, x2, y)


def fixed_target_01(pos_scores, neg_scores):
    x1, x2 = torch.cat([pos_scores, neg_scores]), torch.cat([neg_scores, pos_scores])
    y = torch.cat([torch.ones_like(pos_scores), torch.zeros_like(pos_scores)])
    return nn.MarginRankingLoss(margin=1.0)(x1, x2, y)


def fixed_target_flipped(pos_scores, neg_scores):
    return nn.MarginRankingLoss(margin=1.0)(pos_scores, neg_scores, -torch.ones_like(pos_scores))


def pairs_zip(pos_scores, neg_scores, margin=1.0):
    terms = [torch.clamp(margin - p + n, min=0) for p, n in zip(pos_scores, neg_scores)]
    return torch.stack(terms).mean()


def pairs_diagonal(pos_scores, neg_scores, margin=1.0):
    return torch.clamp(margin - pos_scores + neg_scores, min=0).mean()


def pairs_summed(pos_scores, neg_scores, margin=1.0):
    return torch.relu(margin - pos_scores.unsqueeze(1) + neg_scores.unsqueeze(0)).sum()


def pairs_transposed(pos_scores, neg_scores, margin=1.0):
    diff = pos_scores.unsqueeze(1) - neg_scores.unsqueeze(0)  # (P, Q)
    return torch.relu(margin + diff).mean()


def pairs_row_mean(pos_scores, neg_scores, margin=1.0):
    return torch.relu(margin - pos_scores.unsqueeze(1) + neg_scores.unsqueeze(0)).mean(1)


MUTANTS = [
    ("ranking_loss", "wrong sign", rank_wrong_sign),
    ("ranking_loss", "missing clamp", rank_no_clamp),
    ("ranking_loss", "sum instead of mean", rank_summed),
    ("ranking_loss", "margin ignored", rank_fixed_margin),
    ("fixed_ranking_loss", "buggy code unchanged", fixed_unchanged),
    ("fixed_ranking_loss", "margin left at 0", fixed_margin_zero),
    ("fixed_ranking_loss", "{0,1} target kept", fixed_target_01),
    ("fixed_ranking_loss", "target sign flipped", fixed_target_flipped),
    ("all_pairs_ranking_loss", "only matching pairs", pairs_zip),
    ("all_pairs_ranking_loss", "must match the size", pairs_diagonal),
    ("all_pairs_ranking_loss", "sum instead of mean", pairs_summed),
    ("all_pairs_ranking_loss", "wrong sign", pairs_transposed),
    ("all_pairs_ranking_loss", "not reduced to a scalar", pairs_row_mean),
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


def test_a_transposed_matrix_is_fine():
    """(Q, P) instead of (P, Q) has the same mean: it must pass."""
    def transposed(pos_scores, neg_scores, margin=1.0):
        return torch.clamp(margin + neg_scores[:, None] - pos_scores[None, :], min=0).mean()

    assert checks.evaluate("all_pairs_ranking_loss", transposed).status == "pass"


def test_the_fix_without_duplicated_pairs_passes():
    def fixed(pos_scores, neg_scores):
        return nn.MarginRankingLoss(margin=1.0)(pos_scores, neg_scores, torch.ones_like(pos_scores))

    for hidden in (False, True):
        assert checks.evaluate("fixed_ranking_loss", fixed, hidden=hidden).status == "pass"
