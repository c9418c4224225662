"""Chapter 06 (ranking margin): the bound its section 6 states, with ties, and the chapter's structure."""

from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from sklearn.metrics import roc_auc_score

from utils.ranking import all_pairs_ranking_loss, pairwise_auc

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "chapters" / "06_ranking_margin.py"
F64 = torch.float64


@pytest.mark.parametrize("margin", [0.1, 1.0, 3.0])
def test_pairwise_hinge_over_margin_bounds_one_minus_auc_even_with_ties(margin):
    # max(0, m - d) >= m * 1[d <= 0] >= m * (1[d < 0] + 1[d = 0] / 2), summed over all (positive, negative) pairs
    g = torch.Generator().manual_seed(6)
    for _ in range(20):
        pos = torch.randint(-3, 4, (15,), generator=g).to(F64) / 2  # coarse values: many tied pairs
        neg = torch.randint(-4, 3, (11,), generator=g).to(F64) / 2
        auc = roc_auc_score([1] * 15 + [0] * 11, torch.cat([pos, neg]).numpy())
        assert pairwise_auc(pos, neg) == pytest.approx(auc, abs=1e-12)
        bound = all_pairs_ranking_loss(pos, neg, margin=margin).item() / margin
        assert bound >= 1 - auc - 1e-12


def test_zero_margin_pairwise_loss_is_positive_exactly_on_misordered_pairs():
    g = torch.Generator().manual_seed(8)
    pos, neg = torch.randn(30, generator=g, dtype=F64), torch.randn(20, generator=g, dtype=F64)
    per_pair = all_pairs_ranking_loss(pos, neg, margin=0.0, reduction="none")
    misordered = torch.tensor([[p < n for n in neg.tolist()] for p in pos.tolist()])
    assert torch.equal(per_pair > 0, misordered)
    i, k = torch.meshgrid(torch.arange(30), torch.arange(20), indexing="ij")
    oracle = F.margin_ranking_loss(pos[i.flatten()], neg[k.flatten()], torch.ones(600, dtype=F64), margin=0.0,
                                   reduction="none")
    torch.testing.assert_close(per_pair.flatten(), oracle)


def test_structure_margin_constant_links_and_no_internal_citations():
    text = SOURCE.read_text()
    assert "MARGIN = " in text and "margin=MARGIN" in text
    assert "](../REFERENCES.md#oracles)" in text
