"""utils.sampling: every returned index valid on random label sets, uniform draws, reproducible with a
generator, and clear errors when the labels cannot give a positive or a negative."""

import collections

import pytest
import torch

from utils.sampling import class_balanced_batches, sample_pairs, sample_triplets


def gen(seed):
    return torch.Generator().manual_seed(seed)


def random_labels(seed):
    """Labels with arbitrary class ids (negative, non-contiguous), some classes of one example."""
    g = gen(seed)
    n = int(torch.randint(2, 60, (1,), generator=g))
    ids = torch.tensor([-3, 0, 2, 7, 100, 41])[: int(torch.randint(2, 7, (1,), generator=g))]
    labels = ids[torch.randint(0, ids.numel(), (n,), generator=g)]
    labels[0], labels[1] = ids[0], ids[1]  # at least two classes
    labels = torch.cat([labels, labels[:2]])  # classes ids[0] and ids[1] have two examples or more
    return labels[torch.randperm(labels.numel(), generator=g)]


@pytest.mark.parametrize("seed", range(25))
def test_triplets_are_valid_on_random_labels(seed):
    labels = random_labels(seed)
    a, p, n = sample_triplets(labels, 500, generator=gen(seed))
    for t in (a, p, n):
        assert t.dtype == torch.int64 and t.shape == (500,)
        assert t.min() >= 0 and t.max() < labels.numel()
    for ai, pi, ni in zip(a.tolist(), p.tolist(), n.tolist()):  # brute force, one triplet at a time
        assert ai != pi
        assert labels[ai] == labels[pi]
        assert labels[ni] != labels[ai]


@pytest.mark.parametrize("seed", range(25))
def test_pairs_are_valid_on_random_labels(seed):
    labels = random_labels(seed)
    i, j, similar = sample_pairs(labels, 301, positive_fraction=0.3, generator=gen(seed))
    assert i.dtype == j.dtype == torch.int64 and similar.dtype == torch.float32
    assert int(similar.sum()) == round(0.3 * 301)
    for ii, jj, s in zip(i.tolist(), j.tolist(), similar.tolist()):
        assert ii != jj
        assert s == float(labels[ii] == labels[jj])


@pytest.mark.parametrize("seed", range(15))
def test_batches_are_valid_on_random_labels(seed):
    labels = random_labels(seed)
    counts = collections.Counter(labels.tolist())
    k = 2
    p = sum(c >= k for c in counts.values())
    for batch in class_balanced_batches(labels, classes_per_batch=p, samples_per_class=k, num_batches=5,
                                        generator=gen(seed)):
        assert batch.dtype == torch.int64 and batch.shape == (p * k,)
        assert len(set(batch.tolist())) == p * k  # no repeated example
        blocks = labels[batch].reshape(p, k)
        assert torch.all(blocks == blocks[:, :1])  # K consecutive examples of one class
        assert len(set(blocks[:, 0].tolist())) == p  # P distinct classes


def test_positive_and_negative_draws_are_uniform():
    labels = torch.tensor([0, 0, 0, 1, 1, 2, 2, 2, 2, 3])
    a, p, n = sample_triplets(labels, 60000, generator=gen(0))
    # Anchors: uniform over the 9 examples whose class has a positive (not the lone 3).
    anchor_freq = torch.bincount(a, minlength=10).double() / 60000
    assert anchor_freq[9] == 0
    assert torch.allclose(anchor_freq[:9], torch.full((9,), 1 / 9, dtype=torch.float64), atol=0.01)
    # Given anchor 0, positives 1 and 2 each half of the time; negatives uniform over the 7 others.
    from0 = a == 0
    assert torch.allclose(torch.bincount(p[from0], minlength=3)[1:].double() / from0.sum(),
                          torch.tensor([0.5, 0.5], dtype=torch.float64), atol=0.04)
    neg = torch.bincount(n[from0], minlength=10).double() / from0.sum()
    assert torch.all(neg[:3] == 0)
    assert torch.allclose(neg[3:], torch.full((7,), 1 / 7, dtype=torch.float64), atol=0.03)


def test_same_generator_seed_same_samples_and_other_seed_differs():
    labels = random_labels(3)
    first = sample_triplets(labels, 100, generator=gen(5))
    again = sample_triplets(labels, 100, generator=gen(5))
    other = sample_triplets(labels, 100, generator=gen(6))
    assert all(torch.equal(x, y) for x, y in zip(first, again))
    assert not all(torch.equal(x, y) for x, y in zip(first, other))
    assert all(torch.equal(x, y) for x, y in zip(sample_pairs(labels, 50, generator=gen(1)),
                                                 sample_pairs(labels, 50, generator=gen(1))))
    kw = dict(classes_per_batch=2, samples_per_class=2, num_batches=4)
    b1 = list(class_balanced_batches(labels, generator=gen(2), **kw))
    b2 = list(class_balanced_batches(labels, generator=gen(2), **kw))
    assert all(torch.equal(x, y) for x, y in zip(b1, b2))


def test_zero_samples_and_one_sided_pairs():
    labels = torch.tensor([0, 1, 2])  # no positive exists, negatives do
    i, j, s = sample_pairs(labels, 10, positive_fraction=0.0, generator=gen(0))
    assert torch.all(s == 0) and torch.all(labels[i] != labels[j])
    i, j, s = sample_pairs(torch.tensor([4, 4]), 3, positive_fraction=1.0, generator=gen(0))
    assert torch.all(s == 1) and torch.all(i != j)
    a, p, n = sample_triplets(torch.tensor([0, 0, 1]), 0)
    assert a.shape == p.shape == n.shape == (0,)
    assert len(list(class_balanced_batches(torch.tensor([0, 0, 1, 1]), classes_per_batch=2,
                                           samples_per_class=2, num_batches=0))) == 0


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda: sample_triplets(torch.tensor([0, 1, 2]), 5), ValueError, "no class has two examples"),
        (lambda: sample_triplets(torch.tensor([3, 3, 3]), 5), ValueError, "single class"),
        (lambda: sample_pairs(torch.tensor([0, 1, 2]), 4), ValueError, "no class has two examples"),
        (lambda: sample_pairs(torch.tensor([3, 3]), 4), ValueError, "single class"),
        (lambda: sample_pairs(torch.tensor([0, 0, 1]), 4, positive_fraction=1.5), ValueError, "positive_fraction"),
        (lambda: sample_triplets(torch.tensor([0.0, 0.0, 1.0]), 2), TypeError, "integer tensor"),
        (lambda: sample_triplets(torch.tensor([[0, 0, 1]]), 2), ValueError, "1-D"),
        (lambda: sample_triplets(torch.tensor([0, 0, 1]), -1), ValueError, "num_triplets"),
        (lambda: sample_triplets([0, 0, 1], 2), TypeError, "torch.Tensor"),
        (lambda: class_balanced_batches(torch.tensor([0, 0, 1]), classes_per_batch=2, samples_per_class=2,
                                        num_batches=1), ValueError, "only 1 classes have at least 2"),
        (lambda: class_balanced_batches(torch.tensor([0, 0, 1, 1]), classes_per_batch=1, samples_per_class=2,
                                        num_batches=1), ValueError, "classes_per_batch"),
        (lambda: class_balanced_batches(torch.tensor([0, 0, 1, 1]), classes_per_batch=2, samples_per_class=1,
                                        num_batches=1), ValueError, "samples_per_class"),
    ],
)
def test_clear_errors_when_impossible(call, error, match):
    with pytest.raises(error, match=match):
        call()  # class_balanced_batches raises on the call itself, before any next()
