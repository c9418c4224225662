"""utils.embedding: the network's shapes and normalisation, the PK training loop (learns, records,
reproduces, rejects bad losses), and 1-NN accuracy against a brute-force loop and scikit-learn."""

import pytest
import torch
from sklearn.neighbors import KNeighborsClassifier
from torch.testing import assert_close

from utils.embedding import EmbeddingNet, embed, nearest_neighbour_accuracy, train_embedding
from utils.losses import triplet_margin_loss
from utils.sampling import sample_triplets


def blobs(n_per_class=20, classes=4, dim=64, seed=0):
    g = torch.Generator().manual_seed(seed)
    centres = 3 * torch.randn(classes, dim, generator=g)
    y = torch.arange(classes).repeat_interleave(n_per_class)
    return centres[y] + torch.randn(y.numel(), dim, generator=g), y


def triplet_batch_loss(seed=0):
    g = torch.Generator().manual_seed(seed)

    def loss(z, labels):
        a, p, n = sample_triplets(labels, 64, generator=g)
        per = triplet_margin_loss(z[a], z[p], z[n], margin=1.0, reduction="none")
        return per.mean(), {"active": (per > 0).float().mean().item()}

    return loss


def test_shapes_and_normalisation():
    torch.manual_seed(0)
    x = torch.randn(7, 64)
    assert EmbeddingNet()(x).shape == (7, 2)
    assert EmbeddingNet(64, 32, 5)(x).shape == (7, 5)
    z = EmbeddingNet(out_features=8, normalize=True)(x)
    assert_close(z.norm(dim=1), torch.ones(7))
    with pytest.raises(ValueError, match="out_features"):
        EmbeddingNet(out_features=0)


def test_normalised_zero_output_has_finite_gradient():
    net = EmbeddingNet(in_features=3, hidden=4, out_features=2, normalize=True)
    for param in net.parameters():
        torch.nn.init.zeros_(param)  # every output row is exactly 0
    z = net(torch.randn(5, 3))
    assert torch.all(z == 0)
    z.sum().backward()
    assert all(torch.isfinite(param.grad).all() for param in net.parameters())


def test_training_lowers_the_loss_and_records_stats_and_callback():
    X, y = blobs()
    torch.manual_seed(0)
    model = EmbeddingNet(hidden=32)
    calls = []

    def on_step(step, model):
        calls.append(step)
        if step % 10 == 9:
            return {"nn_accuracy": nearest_neighbour_accuracy(embed(model, X), y, embed(model, X), y)}
        return None

    history = train_embedding(model, X, y, triplet_batch_loss(), steps=60, classes_per_batch=4,
                              samples_per_class=5, lr=1e-2, on_step=on_step)
    assert len(history["loss"]) == len(history["active"]) == 60
    assert len(history["nn_accuracy"]) == 6
    assert calls == list(range(60))
    first, last = sum(history["loss"][:10]) / 10, sum(history["loss"][-10:]) / 10
    assert last < 0.5 * first
    assert model.training  # embed() restored the mode


def test_same_seed_and_initial_weights_reproduce_the_history():
    X, y = blobs(seed=1)
    runs = []
    for _ in range(2):
        torch.manual_seed(3)
        model = EmbeddingNet(hidden=16)
        runs.append(train_embedding(model, X, y, triplet_batch_loss(seed=4), steps=5, classes_per_batch=3,
                                    samples_per_class=4, seed=7)["loss"])
    assert runs[0] == runs[1]


def test_a_bare_tensor_loss_is_accepted():
    X, y = blobs(seed=2)
    history = train_embedding(EmbeddingNet(hidden=8), X, y, lambda z, labels: z.pow(2).mean(), steps=2,
                              classes_per_batch=2, samples_per_class=2)
    assert list(history) == ["loss"] and len(history["loss"]) == 2


@pytest.mark.parametrize(
    "kwargs, loss, match",
    [
        (dict(steps=0), lambda z, labels: z.sum(), "steps"),
        (dict(steps=1), lambda z, labels: (z.sum(dim=1), {}), "scalar"),
        (dict(steps=1), lambda z, labels: (z.sum() * float("nan"), {}), "non-finite"),
        (dict(steps=1, classes_per_batch=9), lambda z, labels: z.sum(), "classes"),
    ],
)
def test_training_errors(kwargs, loss, match):
    X, y = blobs(seed=3)
    options = dict(classes_per_batch=2, samples_per_class=2)
    options.update(kwargs)
    with pytest.raises(ValueError, match=match):
        train_embedding(EmbeddingNet(hidden=8), X, y, loss, **options)
    with pytest.raises(ValueError, match="same number of rows"):
        train_embedding(EmbeddingNet(hidden=8), X, y[:-1], loss, steps=1, classes_per_batch=2, samples_per_class=2)


@pytest.mark.parametrize("seed", range(5))
def test_nearest_neighbour_accuracy_matches_loop_and_sklearn(seed):
    g = torch.Generator().manual_seed(seed)
    tr, te = torch.randn(40, 3, generator=g, dtype=torch.float64), torch.randn(25, 3, generator=g, dtype=torch.float64)
    ytr, yte = torch.randint(0, 3, (40,), generator=g), torch.randint(0, 3, (25,), generator=g)
    correct = 0
    for i in range(25):  # brute force: scan every training point
        best = min(range(40), key=lambda j: float(((te[i] - tr[j]) ** 2).sum()))
        correct += int(ytr[best] == yte[i])
    ours = nearest_neighbour_accuracy(tr, ytr, te, yte)
    assert ours == correct / 25
    knn = KNeighborsClassifier(n_neighbors=1).fit(tr.numpy(), ytr.numpy())
    assert ours == pytest.approx(knn.score(te.numpy(), yte.numpy()))


def test_float64_network_is_drawn_in_float64():
    torch.manual_seed(0)
    net = EmbeddingNet(out_features=3, dtype=torch.float64)
    assert all(p.dtype == torch.float64 for p in net.parameters())
    assert net(torch.randn(4, 64, dtype=torch.float64)).dtype == torch.float64
    # drawn in float64, not float32 values cast up: some weight is not representable in float32
    w = net.net[0].weight.detach()
    assert not torch.equal(w, w.float().double())
    # the same seed gives the same float64 network (reproducible), and the default stays float32
    torch.manual_seed(0)
    assert torch.equal(EmbeddingNet(out_features=3, dtype=torch.float64).net[0].weight, net.net[0].weight)
    assert EmbeddingNet().net[0].weight.dtype == torch.float32


@pytest.mark.parametrize("bad", [torch.int64, "float64", torch.bool])
def test_bad_dtype_rejected(bad):
    with pytest.raises(ValueError, match="dtype"):
        EmbeddingNet(dtype=bad)
