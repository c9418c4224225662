"""utils.mining_experiments against brute-force loops, utils.retrieval, utils.embedding.train_embedding
and pytorch-metric-learning (its miners and reducers)."""

import itertools

import pytest
import torch
from pytorch_metric_learning.distances import LpDistance
from pytorch_metric_learning.losses import TripletMarginLoss
from pytorch_metric_learning.miners import BatchHardMiner
from pytorch_metric_learning.reducers import MeanReducer
from torch.testing import assert_close

from utils.embedding import EmbeddingNet, train_embedding
from utils.miners import mine_triplets
from utils.mining_experiments import (
    flip_labels,
    mean_pairwise_distance,
    mean_sd,
    mined_triplet_loss,
    plot_seed_means,
    print_seed_table,
    recall_at_1,
    seed_mean,
    train_with_miner,
)
from utils.retrieval import recall_at_k
from utils.sampling import class_balanced_batches

F64 = torch.float64


def gen(seed):
    return torch.Generator().manual_seed(seed)


def batch(n=24, d=5, classes=4, seed=0, dtype=F64):
    x = torch.randn(n, d, generator=gen(seed), dtype=dtype)
    return x, torch.arange(n) % classes


# ------------------------------------------------------------------------------ flip_labels


def test_flip_labels_changes_exactly_the_requested_share_to_other_classes():
    y = torch.tensor([3, 3, 7, 7, 9, 9, 9, 3, 7, 9] * 5)
    noisy, flipped = flip_labels(y, 0.3, generator=gen(0))
    assert int(flipped.sum()) == 15
    assert torch.equal(noisy != y, flipped)  # every chosen label really changed, nothing else did
    assert set(noisy.tolist()) <= {3, 7, 9}
    assert noisy.dtype == torch.int64 and flipped.dtype == torch.bool


def test_flip_labels_is_uniform_over_the_other_classes():
    y = torch.zeros(30000, dtype=torch.int64)
    y[:10] = torch.arange(10)  # classes 0..9 exist
    noisy, flipped = flip_labels(y, 1.0, generator=gen(1))
    counts = torch.bincount(noisy[10:], minlength=10)
    assert counts[0] == 0  # never the original class
    assert (counts[1:] - 29990 / 9).abs().max() < 250  # ~ 5 standard deviations


def test_flip_labels_is_reproducible_and_handles_the_extremes():
    y = torch.arange(40) % 4
    a, fa = flip_labels(y, 0.25, generator=gen(5))
    b, fb = flip_labels(y, 0.25, generator=gen(5))
    assert torch.equal(a, b) and torch.equal(fa, fb)
    same, none = flip_labels(y, 0.0, generator=gen(5))
    assert torch.equal(same, y) and not none.any()
    _, every = flip_labels(y, 1.0, generator=gen(5))
    assert every.all()


@pytest.mark.parametrize(
    "labels, fraction, error",
    [
        (torch.tensor([0.0, 1.0]), 0.5, TypeError),
        (torch.tensor([[0, 1]]), 0.5, ValueError),
        (torch.tensor([2, 2, 2]), 0.5, ValueError),
        (torch.tensor([0, 1]), 1.5, ValueError),
        (torch.tensor([0, 1]), -0.1, ValueError),
        ([0, 1], 0.5, TypeError),
    ],
)
def test_flip_labels_rejects_bad_input(labels, fraction, error):
    with pytest.raises(error):
        flip_labels(labels, fraction)


# ------------------------------------------------------------------------------ mined_triplet_loss


@pytest.mark.parametrize("strategy", ["random", "batch_hard", "semi_hard", "all"])
@pytest.mark.parametrize("metric", ["euclidean", "squared_euclidean"])
def test_mined_loss_is_the_mean_brute_force_loss_of_the_mined_triplets(strategy, metric):
    x, y = batch()
    loss, (a, p, n), per = mined_triplet_loss(x, y, strategy=strategy, margin=1.0, metric=metric,
                                              generator=gen(2))
    a2, p2, n2 = mine_triplets(x, y, strategy=strategy, margin=1.0, metric=metric, generator=gen(2))
    assert torch.equal(a, a2) and torch.equal(p, p2) and torch.equal(n, n2)
    power = 2 if metric == "squared_euclidean" else 1
    expected = [
        max(0.0, float(((x[i] - x[j]) ** 2).sum().sqrt() ** power - ((x[i] - x[k]) ** 2).sum().sqrt() ** power) + 1.0)
        for i, j, k in zip(a.tolist(), p.tolist(), n.tolist())
    ]
    assert_close(per, torch.tensor(expected, dtype=F64))
    assert_close(loss, torch.tensor(expected, dtype=F64).mean())


def test_batch_hard_loss_matches_hermans_formula_and_pml():
    x, y = batch(n=30, d=6, classes=5, seed=3)
    loss, _, _ = mined_triplet_loss(x, y, strategy="batch_hard", margin=0.7)
    d = torch.cdist(x, x, compute_mode="donot_use_mm_for_euclid_dist")
    same = y.unsqueeze(0) == y.unsqueeze(1)
    hermans = torch.clamp(
        d.masked_fill(~same, -torch.inf).max(1).values - d.masked_fill(same, torch.inf).min(1).values + 0.7, min=0
    ).mean()
    assert_close(loss, hermans)
    dist = LpDistance(normalize_embeddings=False)
    pml = TripletMarginLoss(margin=0.7, distance=dist, reducer=MeanReducer())(
        x, y, indices_tuple=BatchHardMiner(distance=dist)(x, y)
    )
    assert_close(loss, pml)


def test_mined_loss_without_triplets_is_zero_with_zero_gradient():
    # Two far-apart classes: no negative lies in the semi-hard band, so nothing is mined.
    x = torch.tensor([[0.0], [0.1], [10.0], [10.1]], dtype=F64, requires_grad=True)
    loss, (a, _, _), per = mined_triplet_loss(x, torch.tensor([0, 0, 1, 1]), strategy="semi_hard", margin=0.5)
    assert a.numel() == 0 and per.numel() == 0 and loss.item() == 0.0
    loss.backward()
    assert torch.equal(x.grad, torch.zeros_like(x))


def test_mined_loss_rejects_a_negative_margin():
    x, y = batch()
    with pytest.raises(ValueError):
        mined_triplet_loss(x, y, strategy="all", margin=-1.0)


# ------------------------------------------------------------------------------ metrics


@pytest.mark.parametrize("grid", [False, True])
def test_recall_at_1_equals_utils_retrieval(grid):
    g = gen(4)
    if grid:  # many exact ties: the tie rule (lowest index) must match
        x = torch.randint(0, 3, (60, 2), generator=g).double()
    else:
        x = torch.randn(60, 3, generator=g, dtype=F64)
    y = torch.randint(0, 6, (60,), generator=g)
    y[0] = 99  # a lone query, left out by both
    assert recall_at_1(x, y) == recall_at_k(x, y, k=1)


def test_recall_at_1_brute_force_and_errors():
    x = torch.tensor([[0.0], [0.1], [1.0], [1.2], [5.0]])
    y = torch.tensor([0, 1, 0, 1, 2])  # nearest neighbours: 1, 0, 3, 2 -> all wrong; 4 is lone
    assert recall_at_1(x, y) == 0.0
    assert recall_at_1(x, torch.tensor([0, 0, 1, 1, 2])) == 1.0
    with pytest.raises(ValueError):
        recall_at_1(x, torch.arange(5))


def test_mean_pairwise_distance_brute_force():
    x, _ = batch(n=7, d=3)
    pairs = [float((x[i] - x[j]).norm()) for i, j in itertools.permutations(range(7), 2)]
    assert mean_pairwise_distance(x) == pytest.approx(sum(pairs) / len(pairs), rel=1e-12)
    assert mean_pairwise_distance(torch.ones(5, 3)) == 0.0
    with pytest.raises(ValueError):
        mean_pairwise_distance(torch.ones(1, 3))


# ------------------------------------------------------------------------------ train_with_miner


def toy_data(n=80, seed=0):
    g = gen(seed)
    y = torch.arange(n) % 4
    X = torch.randn(n, 6, generator=g) + 2.0 * torch.nn.functional.one_hot(y, 6).float()
    return X, y


@pytest.mark.parametrize("strategy", ["random", "batch_hard", "semi_hard", "all"])
def test_train_with_miner_reproduces_train_embedding(strategy):
    X, y = toy_data()
    run = train_with_miner(X, y, strategy=strategy, margin=0.3, steps=6, classes_per_batch=3,
                           samples_per_class=4, lr=1e-2, out_features=3, normalize=True, seed=7)
    torch.manual_seed(7)
    model = EmbeddingNet(in_features=6, out_features=3, normalize=True)
    miner_gen = gen(8)

    def batch_loss(z, labels):
        return mined_triplet_loss(z, labels, strategy=strategy, margin=0.3, generator=miner_gen)[0]

    reference = train_embedding(model, X, y, batch_loss, steps=6, classes_per_batch=3, samples_per_class=4,
                                lr=1e-2, seed=7)
    assert run.history["loss"] == reference["loss"]
    for p, q in zip(run.model.parameters(), model.parameters()):
        assert torch.equal(p, q)


def test_train_with_miner_noise_statistics_and_evaluation():
    X, y = toy_data()
    flipped = torch.zeros(80, dtype=torch.bool)
    flipped[::5] = True  # 16 of 80
    run = train_with_miner(X, y, strategy="all", margin=0.3, steps=6, classes_per_batch=3, samples_per_class=4,
                           seed=1, flipped=flipped, eval_X=X[:40], eval_y=y[:40], eval_every=2)
    h = run.history
    batches = list(class_balanced_batches(y, classes_per_batch=3, samples_per_class=4, num_batches=6,
                                          generator=gen(1)))
    assert h["noisy_in_batch"] == [float(flipped[b].double().mean()) for b in batches]
    # in-batch = all triplets of the batch: recompute the shares by brute force
    for step, b in enumerate(batches):
        fb, yb = flipped[b], y[b]
        triplets = [(i, j, k) for i in range(12) for j in range(12) for k in range(12)
                    if i != j and yb[i] == yb[j] and yb[k] != yb[i]]
        assert h["noisy_share"][step] == pytest.approx(sum(bool(fb[i] | fb[j] | fb[k]) for i, j, k in triplets) / len(triplets))
        assert h["noisy_positive_share"][step] == pytest.approx(sum(bool(fb[j]) for _, j, _ in triplets) / len(triplets))
        assert h["noisy_negative_share"][step] == pytest.approx(sum(bool(fb[k]) for _, _, k in triplets) / len(triplets))
    assert h["eval_step"] == [0, 2, 4, 6]
    assert len(h["recall_at_1"]) == len(h["mean_distance"]) == 4
    assert all(len(h[k]) == 6 for k in ("loss", "active_fraction", "num_triplets", "grad_norm", "noisy_loss_share"))
    assert all(0.0 <= v <= 1.0 for v in h["noisy_loss_share"])


def test_train_with_miner_leaves_the_global_random_state_alone():
    X, y = toy_data()
    state = torch.random.get_rng_state()
    train_with_miner(X, y, strategy="random", margin=0.3, steps=2, classes_per_batch=2, samples_per_class=2)
    assert torch.equal(state, torch.random.get_rng_state())


@pytest.mark.parametrize(
    "kwargs",
    [dict(steps=0), dict(flipped=torch.zeros(80)), dict(flipped=torch.zeros(79, dtype=torch.bool)), dict(y=torch.arange(3))],
)
def test_train_with_miner_rejects_bad_input(kwargs):
    X, y = toy_data()
    args = dict(strategy="all", margin=0.3, steps=2, classes_per_batch=2, samples_per_class=2)
    args.update(kwargs)
    y = args.pop("y", y)
    with pytest.raises(ValueError):
        train_with_miner(X, y, **args)


# ------------------------------------------------------------------------------ batch all, dtype, seeds


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_mean_nonzero_is_batch_all_and_equals_pml_avg_non_zero(seed):
    x, y = batch(n=20, d=4, classes=4, seed=seed)
    loss, (a, p, n), per = mined_triplet_loss(x, y, strategy="all", margin=1.0, reduction="mean_nonzero")
    brute = [
        max(0.0, float((x[i] - x[j]).norm() - (x[i] - x[k]).norm()) + 1.0)
        for i, j, k in itertools.permutations(range(20), 3) if y[i] == y[j] and y[k] != y[i]
    ]
    active = [v for v in brute if v > 0]
    assert 0 < len(active) < len(brute)  # the two reductions really differ here
    assert float(loss) == pytest.approx(sum(active) / len(active), rel=1e-12)
    mean_loss, _, _ = mined_triplet_loss(x, y, strategy="all", margin=1.0)
    assert float(mean_loss) == pytest.approx(sum(brute) / len(brute), rel=1e-12)
    pml = TripletMarginLoss(margin=1.0, distance=LpDistance(normalize_embeddings=False))  # AvgNonZeroReducer
    assert_close(loss, pml(x, y, indices_tuple=(a, p, n)))


def test_mean_nonzero_with_nothing_active_is_zero_with_zero_gradient():
    x = torch.tensor([[0.0], [0.1], [10.0], [10.1]], dtype=F64, requires_grad=True)
    loss, _, per = mined_triplet_loss(x, torch.tensor([0, 0, 1, 1]), strategy="all", margin=0.5,
                                      reduction="mean_nonzero")
    assert per.numel() == 8 and not (per > 0).any() and loss.item() == 0.0
    loss.backward()
    assert torch.equal(x.grad, torch.zeros_like(x))


def test_mined_loss_rejects_an_unknown_reduction():
    x, y = batch()
    with pytest.raises(ValueError, match="reduction"):
        mined_triplet_loss(x, y, strategy="all", margin=1.0, reduction="sum")


def test_train_with_miner_records_hard_fraction_and_runs_in_the_dtype_of_x():
    X, y = toy_data()
    run32 = train_with_miner(X, y, strategy="batch_hard", margin=0.3, steps=3, classes_per_batch=3,
                             samples_per_class=4, seed=2, eval_X=X[:40], eval_y=y[:40], eval_every=2)
    run64 = train_with_miner(X.double(), y, strategy="batch_hard", margin=0.3, steps=3, classes_per_batch=3,
                             samples_per_class=4, seed=2)
    assert all(q.dtype == torch.float32 for q in run32.model.parameters())
    assert all(q.dtype == torch.float64 for q in run64.model.parameters())
    # same initial weights: the first losses agree to float32 precision
    assert run64.history["loss"][0] == pytest.approx(run32.history["loss"][0], rel=1e-5)
    # hard_fraction by brute force on the first batch, with the initial network
    torch.manual_seed(2)
    model = EmbeddingNet(in_features=6, out_features=16, normalize=True)
    idx = next(iter(class_balanced_batches(y, classes_per_batch=3, samples_per_class=4, num_batches=3,
                                           generator=gen(2))))
    z, yb = model(X[idx]).detach(), y[idx]
    a, p, n = mine_triplets(z, yb, strategy="batch_hard")
    hard = [float((z[i] - z[k]).norm()) < float((z[i] - z[j]).norm()) for i, j, k in zip(a, p, n)]
    assert run32.history["hard_fraction"][0] == pytest.approx(sum(hard) / len(hard))
    # evaluations at 0, every 2 steps and at the end; MAP@R once, at the end
    assert run32.history["eval_step"] == [0, 2, 3]
    assert len(run32.history["map_at_r"]) == 1 and 0.0 <= run32.history["map_at_r"][0] <= 1.0


def test_mean_sd_seed_mean_and_the_seed_table(capsys):
    assert mean_sd([0.5, 0.7]) == "0.600 ± 0.141"
    assert mean_sd([1.0, 2.0, 3.0], digits=1) == "2.0 ± 1.0"
    with pytest.raises(ValueError):
        mean_sd([1.0])
    runs = {"a": [{"x": [1.0, 3.0]}, {"x": [3.0, 5.0]}]}
    assert seed_mean(runs["a"], "x") == [2.0, 4.0]
    with pytest.raises(ValueError):
        seed_mean([{"x": [1.0]}, {"x": [1.0, 2.0]}], "x")
    print_seed_table(runs, {"first\nvalue": lambda h: h["x"][0], "last": lambda h: h["x"][-1]},
                     names={"a": "strategy A"}, title="T")
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "T"
    assert lines[1].split() == ["first", "last"] and lines[2].split() == ["value"]
    assert lines[3].split() == ["strategy", "A", "2.00", "±", "1.41", "4.00", "±", "1.41"]
    print_seed_table(runs, {"x": lambda h: h["x"][0]}, names={"a": "A"}, digits=3)
    assert capsys.readouterr().out.splitlines()[1].split() == ["A", "2.000", "±", "1.414"]


def test_plot_seed_means_draws_one_line_per_strategy_and_panel():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    runs = {"a": [{"loss": [1, 2, 3], "r": [0.0, 1.0], "eval_step": [0, 3]}] * 2,
            "b": [{"loss": [2, 2, 2], "r": [1.0, 1.0], "eval_step": [0, 3]}] * 2}
    fig = plot_seed_means(runs, ("loss", "r"), names={"a": "A", "b": "B"}, colours={"a": "red", "b": "blue"},
                          ylabels=("loss", "recall"), title="t")
    ax_loss, ax_r = fig.axes
    assert [list(line.get_xdata()) for line in ax_loss.lines] == [[1, 2, 3]] * 2  # per-step: 1-based steps
    assert [list(line.get_xdata()) for line in ax_r.lines] == [[0, 3]] * 2  # evaluations: eval_step
    plt.close(fig)
