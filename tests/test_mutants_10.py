"""Hand-written wrong solutions of exercises/ex10_hard_negative_mining, each rejected with its own hint."""

import pytest
import torch

from utils import checks


def _loop_miner(embeddings, labels, *, farthest_positive=True, nearest_negative=True, allow_self=False,
                negatives_any_label=False):
    n = len(labels)
    d = ((embeddings[:, None, :] - embeddings[None, :, :]) ** 2).sum(-1)  # squared: same order
    a_list, p_list, n_list = [], [], []
    for i in range(n):
        positives = [j for j in range(n) if labels[j] == labels[i] and (allow_self or j != i)]
        if negatives_any_label:
            negatives = [j for j in range(n) if j != i]
        else:
            negatives = [j for j in range(n) if labels[j] != labels[i]]
        if not positives or not any(labels[j] != labels[i] for j in range(n)):
            continue
        pick_p = max if farthest_positive else min
        pick_n = min if nearest_negative else max
        a_list.append(i)
        p_list.append(pick_p(positives, key=lambda j: d[i, j].item()))
        n_list.append(pick_n(negatives, key=lambda j: d[i, j].item()))
    return torch.tensor(a_list, dtype=torch.long), torch.tensor(p_list, dtype=torch.long), torch.tensor(n_list, dtype=torch.long)


def mined_nearest_positive(embeddings, labels):
    return _loop_miner(embeddings, labels, farthest_positive=False)


def mined_farthest_negative(embeddings, labels):
    return _loop_miner(embeddings, labels, nearest_negative=False)


def mined_with_self(embeddings, labels):
    d = torch.cdist(embeddings, embeddings)
    same = labels.unsqueeze(0) == labels.unsqueeze(1)
    p = torch.where(same, d, torch.full_like(d, -1.0)).argmax(1)  # the diagonal is in `same`
    n = (d + same * 1e9).argmin(1)
    keep = (~same).any(1)
    return torch.nonzero(keep).flatten(), p[keep], n[keep]


def mined_any_negative(embeddings, labels):
    return _loop_miner(embeddings, labels, negatives_any_label=True)


def semi_hard_no_upper(d_ap, d_an, margin):
    return d_an - d_ap > 0


def semi_hard_hard(d_ap, d_an, margin):
    return torch.lt(d_an, d_ap)


def semi_hard_no_lower(d_ap, d_an, margin):
    return (d_ap - d_an + margin) > 0  # "the triplet loss is positive"


def semi_hard_lower_loose(d_ap, d_an, margin):
    return torch.logical_and(d_an >= d_ap, d_an - d_ap < margin)


def semi_hard_upper_loose(d_ap, d_an, margin):
    return torch.tensor([ap < an <= ap + margin for ap, an in zip(d_ap.tolist(), d_an.tolist())])


def semi_hard_both_loose(d_ap, d_an, margin):
    gap = d_an - d_ap
    return (gap >= 0) & (gap <= margin)


MUTANTS = [
    ("batch_hard_triplets", "nearest positive (easiest, not hardest)", mined_nearest_positive),
    ("batch_hard_triplets", "farthest negative (easiest, not hardest)", mined_farthest_negative),
    ("batch_hard_triplets", "anchor used as its own positive", mined_with_self),
    ("batch_hard_triplets", "negatives not restricted to other classes", mined_any_negative),
    ("semi_hard_mask", "no upper bound", semi_hard_no_upper),
    ("semi_hard_mask", "hard instead of semi-hard", semi_hard_hard),
    ("semi_hard_mask", "no lower bound", semi_hard_no_lower),
    ("semi_hard_mask", "lower bound not strict", semi_hard_lower_loose),
    ("semi_hard_mask", "upper bound not strict", semi_hard_upper_loose),
    ("semi_hard_mask", "both bounds not strict", semi_hard_both_loose),
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


def test_a_correct_loop_miner_passes_including_hidden_cases():
    for hidden in (False, True):
        report = checks.evaluate("batch_hard_triplets", _loop_miner, hidden=hidden, seed=7)
        assert report.status == "pass", report.message


def test_the_library_miner_agrees_with_the_exercise():
    from utils.miners import mine_triplets

    def library(embeddings, labels):
        return mine_triplets(embeddings, labels, strategy="batch_hard")

    report = checks.evaluate("batch_hard_triplets", library)
    assert report.status == "pass", report.message
