# ---
# jupyter:
#   jupytext:
#     cell_metadata_filter: tags,-all
#     formats: ipynb,py:percent
#     notebook_metadata_filter: kernelspec,jupytext,-all
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 07 · Triplet margin loss
#
# *Follows the section "Triplet Margin Loss" of the chapter "Margin-Based Losses".*
#
# So far a margin separated **scores**. In metric learning the margin separates **distances**: a
# network maps inputs to embedding vectors, and the loss asks related items to be closer than
# unrelated ones, by at least a margin.
#
# **What you will learn**
#
# - the anchor / positive / negative triplet, the constraint $d(a,p) + m \le d(a,n)$ and the loss
#   $\max(0, d(a,p) - d(a,n) + m)$, with its gradient on each of the three embeddings;
# - the chapter's `nn.TripletMarginLoss` snippet, run as printed, and its `eps` pitfall
#   ($d(x,x) = 10^{-6}\sqrt{D} \ne 0$ and a spurious gradient when $a = p$, pytorch#61538);
# - a from-scratch implementation checked against `utils.triplet_margin_loss`,
#   `F.triplet_margin_loss(eps=0)` and pytorch-metric-learning (whose defaults differ three ways);
# - plain versus squared distances (FaceNet squares them); the gradient as arrows in 2-D and against
#   $d(a,p) - d(a,n)$;
# - on real digits: an embedding trained in seconds on random triplets, and a margin slider over it.

# %%
import math
import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F
from pytorch_metric_learning import losses as pml_losses
from pytorch_metric_learning.distances import LpDistance
from pytorch_metric_learning.reducers import MeanReducer
from torch import nn
from torch.testing import assert_close
import utils
from utils.data import digits
from utils.distances import paired_distances
from utils.embedding import EmbeddingNet, embed, nearest_neighbour_accuracy, train_embedding
from utils.interactive import explore
from utils.plotting import PALETTE, plot_embedding_2d, plot_loss_and_gradient
from utils.reproducibility import seed_everything
from utils.sampling import sample_triplets

seed_everything(0)  # seeds Python, NumPy and torch; torch runs on one thread (bit-identical sums)
MARGIN = 1.0  # the triplet margin m of every example, figure and experiment below

# %% [markdown]
# ## 1. Three items, one inequality
#
# Each training example is a triplet (the chapter's table):
#
# | Item | Meaning |
# |---|---|
# | Anchor | Reference example |
# | Positive | Similar to the anchor |
# | Negative | Dissimilar to the anchor |
#
# One network $f_\theta$ maps all three to embeddings,
# $a = f_\theta(x_a)$, $p = f_\theta(x_p)$, $n = f_\theta(x_n)$, and the goal is that the anchor be
# closer to the positive than to the negative **by at least a margin** $m$:
#
# $$d(a,p) + m \le d(a,n).$$
#
# The margin matters: with $m = 0$ a triplet where $d(a,p) = d(a,n)$ would already be "satisfied",
# and the positive could sit as far away as the negative.

# %% [markdown]
# ## 2. Derivation
#
# **Step 1: the violation.** Move everything to one side. The constraint holds exactly when
#
# $$v = d(a,p) - d(a,n) + m \le 0 .$$
#
# $v$ is how far the triplet falls short of the constraint, in distance units.
#
# **Step 2: the loss.** Penalise only a positive shortfall, linearly — the hinge of notebook 02
# applied to $v$:
#
# $$L = \max\bigl(0,\ d(a,p) - d(a,n) + m\bigr).$$
#
# With $\delta = d(a,p) - d(a,n)$ this is $\max(0, \delta + m)$: zero for $\delta \le -m$ (the
# negative is at least $m$ farther than the positive), then slope 1.
#
# **Step 3: the gradient.** With $d$ the Euclidean distance, $\nabla_a \|a - p\| = (a-p)/\|a-p\|$,
# a unit vector. When the triplet is active ($v > 0$):
#
# $$\nabla_p L = \frac{p - a}{d(a,p)}, \qquad \nabla_n L = -\frac{n - a}{d(a,n)}, \qquad
# \nabla_a L = \frac{a - p}{d(a,p)} - \frac{a - n}{d(a,n)} = -\nabla_p L - \nabla_n L .$$
#
# Gradient **descent** moves against these: the positive moves toward the anchor, the negative
# away from it, each by a unit step whatever the distances; the anchor moves toward $p$ and away
# from $n$. The three gradients sum to zero (translating all three points changes no distance).
# When $v < 0$ all three gradients are 0: a satisfied triplet teaches nothing. (At the kink $v = 0$,
# `utils` counts the triplet as active, like every hinge in this book.)

# %% [markdown]
# ## 3. The chapter's snippet, as printed

# %%
import torch
import torch.nn as nn

loss_fn = nn.TripletMarginLoss(margin=1.0, p=2)

anchor = torch.randn(32, 128)
positive = torch.randn(32, 128)
negative = torch.randn(32, 128)

loss = loss_fn(anchor, positive, negative)
print(loss)

# %% [markdown]
# With random 128-dimensional points, $d(a,p)$ and $d(a,n)$ are both about $\sqrt{2 \cdot 128} \approx 16$,
# so $\delta = d(a,p) - d(a,n)$ is 0 **on average**, yet the loss is above the margin. $\delta$ has a
# spread, and the hinge keeps only its upper side: $\mathbb{E}[\max(0, \delta + 1)] > \max(0, \mathbb{E}[\delta] + 1) = 1$.
# Measured on 20 000 random triplets:

# %%
gen = torch.Generator().manual_seed(0)
a_r, p_r, n_r = (torch.randn(20_000, 128, generator=gen, dtype=torch.float64) for _ in range(3))
delta_r = torch.linalg.vector_norm(a_r - p_r, dim=1) - torch.linalg.vector_norm(a_r - n_r, dim=1)
print(f"delta: mean {delta_r.mean():.2f}, standard deviation {delta_r.std():.2f};  "
      f"mean loss max(0, delta + 1) = {torch.clamp(delta_r + 1, min=0).mean():.2f}")


# %% [markdown]
# ## 4. From scratch, checked against the library and the oracle
#
# The implementation is one line once the distance is right. The distance is
# `torch.linalg.vector_norm` of the difference: exact, and with gradient 0 (not NaN) at distance 0.
# The oracle is `F.triplet_margin_loss` with `eps=0` (see the [references](../REFERENCES.md#oracles));
# the chapter's `nn.TripletMarginLoss`, with its default `eps`, differs a little (section 5).

# %%
def triplet_from_scratch(a, p, n, margin=1.0):
    """Per-triplet loss max(0, ||a - p|| - ||a - n|| + margin); inputs (N, D), output (N,)."""
    d_ap = torch.linalg.vector_norm(a - p, dim=1)
    d_an = torch.linalg.vector_norm(a - n, dim=1)
    return torch.clamp(d_ap - d_an + margin, min=0)


gen = torch.Generator().manual_seed(0)
a64, p64, n64 = (torch.randn(64, 8, generator=gen, dtype=torch.float64) for _ in range(3))
ours = triplet_from_scratch(a64, p64, n64, margin=MARGIN)

assert_close(ours, utils.triplet_margin_loss(a64, p64, n64, margin=MARGIN, reduction="none"))  # library
assert_close(ours, F.triplet_margin_loss(a64, p64, n64, margin=MARGIN, p=2, eps=0, reduction="none"))  # oracle
torch_default = nn.TripletMarginLoss(margin=MARGIN, p=2)(a64, p64, n64)  # the chapter's, eps=1e-6
assert abs(ours.mean() - torch_default) < 1e-5
print(f"mean loss {ours.mean():.8f} (= utils = F.triplet_margin_loss with eps=0);  "
      f"nn.TripletMarginLoss default {torch_default:.8f};  active triplets: {(ours > 0).sum().item()} of 64")

# %% [markdown]
# ### PML's three different defaults
#
# `pytorch_metric_learning.losses.TripletMarginLoss()` out of the box differs from the chapter's
# loss in **three** ways (see the [references](../REFERENCES.md#oracles)): it L2-normalises the embeddings (`LpDistance(normalize_embeddings=True)`),
# it averages only over the triplets with a **non-zero** loss (`AvgNonZeroReducer`), and its margin is
# 0.05, not our $m = 1$. The non-zero average keeps the loss large as training satisfies more
# triplets (it divides by fewer of them); the plain mean shrinks. Neither is wrong, but they are
# different losses: say which one you use. Undo the defaults one at a time (one triplet per index
# triple $(i, 64 + i, 128 + i)$):

# %%
idx = torch.arange(64)
triplets = (idx, idx + 64, idx + 128)
emb = torch.cat([a64, p64, n64])
configs = {
    "PML defaults": pml_losses.TripletMarginLoss(),
    "+ margin=MARGIN": pml_losses.TripletMarginLoss(margin=MARGIN),
    "+ unnormalised distance": pml_losses.TripletMarginLoss(
        margin=MARGIN, distance=LpDistance(normalize_embeddings=False)),
    "+ MeanReducer (= chapter)": pml_losses.TripletMarginLoss(
        margin=MARGIN, distance=LpDistance(normalize_embeddings=False), reducer=MeanReducer()),
}
for name, fn in configs.items():
    print(f"{name:27s} {fn(emb, indices_tuple=triplets).item():.4f}")
assert_close(fn(emb, indices_tuple=triplets), ours.mean())  # configured, PML computes the chapter's loss
active = ours[ours > 0]  # PML's default reducer (AvgNonZeroReducer) = mean over active triplets only
assert_close(configs["+ unnormalised distance"](emb, indices_tuple=triplets), active.mean())
print(f"chapter loss: mean over all 64 {ours.mean():.4f};  mean over the {active.numel()} active only "
      f"{active.mean():.4f}")

# %% [markdown]
# ## 5. The `eps` pitfall: $d(x, x) \ne 0$ in PyTorch
#
# `F.triplet_margin_loss` computes distances with `F.pairwise_distance(x1, x2, eps=1e-6)`, which adds
# `eps` to **every coordinate** of $x_1 - x_2$ (pytorch#61538). So $d(x, x) = 10^{-6}\sqrt{D}$, not 0,
# and at $a = p$ (the norm's kink, a **minimum** of $d(a,p)$: the best case for the triplet) PyTorch
# returns a gradient of norm 1 in the arbitrary direction $-(1, \dots, 1)/\sqrt{D}$: it gets pushed.

# %%
D = 128
gen = torch.Generator().manual_seed(1)
a = torch.randn(1, D, generator=gen, dtype=torch.float64)
n = a + 0.01 * torch.randn(1, D, generator=gen, dtype=torch.float64)  # close negative: triplet active
p_torch = a.clone().requires_grad_(True)  # positive equal to the anchor
p_ours = a.clone().requires_grad_(True)

print(f"F.pairwise_distance(a, a) = {F.pairwise_distance(a, a).item():.3e}"
      f"   1e-6·sqrt(D) = {1e-6 * math.sqrt(D):.3e}   exact: {paired_distances(a, a).item():.1f}")
nn.TripletMarginLoss(margin=MARGIN, p=2)(a, p_torch, n).backward()
utils.triplet_margin_loss(a, p_ours, n, margin=MARGIN).backward()
g_torch, g_ours = p_torch.grad.norm().item(), p_ours.grad.norm().item()
print(f"gradient norm on p at a = p:  nn.TripletMarginLoss {g_torch:.4f}   utils {g_ours:.4f}")
assert abs(g_torch - 1.0) < 1e-9 and g_ours == 0.0
# PyTorch also refuses margin <= 0, which utils accepts (margin 0 is the plain ranking of distances)
try:
    F.triplet_margin_loss(a64, p64, n64, margin=0.0)
except ValueError as err:
    print("torch, margin=0:", err)
print(f"utils, margin=0: {utils.triplet_margin_loss(a64, p64, n64, margin=0.0):.4f}")


# %% [markdown]
# ## 6. Plain or squared distance?
#
# FaceNet (Schroff et al. 2015) writes the triplet loss with **squared** distances on L2-normalised
# embeddings, $\max(0, \|a-p\|^2 - \|a-n\|^2 + \alpha)$ with $\alpha = 0.2$. Two things change.
#
# **The gradient scales with the distance.** $\nabla_p \|a-p\|^2 = 2(p - a)$, of length $2\,d(a,p)$,
# instead of the unit vector $(p-a)/d(a,p)$: a positive already close to the anchor gets a tiny pull,
# a far one a large pull. (And the squared distance has no kink at $d = 0$ at all.)
#
# **The margin is no longer a fixed gap.** Since $d_{ap}^2 - d_{an}^2 = (d_{ap} - d_{an})(d_{ap} + d_{an})$,
# the squared constraint $d_{ap}^2 + \alpha \le d_{an}^2$ asks for a gap
# $d_{an} - d_{ap} \ge \alpha / (d_{ap} + d_{an})$: the required gap shrinks as the points spread out
# and grows near the anchor. The margin is in squared units, so it must be re-chosen when switching.

# %%
def squared_triplet(a, p, n, margin):
    d_ap = paired_distances(a, p, metric="squared_euclidean")
    d_an = paired_distances(a, n, metric="squared_euclidean")
    return torch.clamp(d_ap - d_an + margin, min=0)


print(" d(a,p)  |grad_p| plain  |grad_p| squared")
for d_ap in [0.1, 0.5, 1.0, 2.0, 4.0]:
    a1 = torch.zeros(1, 2, dtype=torch.float64)
    p1 = torch.tensor([[d_ap, 0.0]], dtype=torch.float64, requires_grad=True)
    p2 = p1.detach().clone().requires_grad_(True)
    n1 = torch.tensor([[0.0, d_ap]], dtype=torch.float64)  # d(a,n) = d(a,p): active for any margin > 0
    utils.triplet_margin_loss(a1, p1, n1, margin=MARGIN).backward()
    squared_triplet(a1, p2, n1, margin=MARGIN).sum().backward()
    print(f"{d_ap:6.1f}  {p1.grad.norm():13.3f}  {p2.grad.norm():16.3f}")
    assert abs(p1.grad.norm() - 1) < 1e-12 and abs(p2.grad.norm() - 2 * d_ap) < 1e-12

gaps = "   ".join(f"d(a,p) = {d:.1f}: {math.sqrt(d**2 + 0.2) - d:.3f}" for d in (0.1, 0.5, 1.0))
print(f"\nrequired gap d(a,n) - d(a,p) under the squared loss, alpha = 0.2:   {gaps}")

# %% [markdown]
# ## 7. The gradient in the plane
#
# An active triplet in 2-D: the arrows are the **descent directions** $-\nabla L$ on each point
# (scaled for visibility, the same scale in both panels). With plain distances every arrow on $p$ and
# $n$ has unit length; with squared distances they are proportional to the distances.

# %%
a2 = torch.tensor([[0.0, 0.0]], dtype=torch.float64, requires_grad=True)
p2 = torch.tensor([[1.6, 0.6]], dtype=torch.float64, requires_grad=True)
n2 = torch.tensor([[0.9, -1.0]], dtype=torch.float64, requires_grad=True)
losses_2d = {
    "plain distance": lambda a, p, n: utils.triplet_margin_loss(a, p, n, margin=MARGIN),
    "squared distance": lambda a, p, n: squared_triplet(a, p, n, margin=MARGIN).sum(),
}
fig, axes = plt.subplots(1, 2, figsize=(8.0, 3.6))
for ax, (name, fn) in zip(axes, losses_2d.items()):
    grads = torch.autograd.grad(fn(a2, p2, n2), (a2, p2, n2))
    assert_close(sum(grads), torch.zeros(1, 2, dtype=torch.float64))  # gradients sum to zero
    for point, grad, label, colour in zip((a2, p2, n2), grads, ("anchor", "positive", "negative"), PALETTE):
        x, y = point.detach()[0].tolist()
        u, v = (-grad[0]).tolist()
        ax.scatter([x], [y], s=60, color=colour, label=label, zorder=3)
        ax.quiver(x, y, u, v, color=colour, angles="xy", scale_units="xy", scale=2.0, width=0.012)
    ax.set(xlim=(-1.2, 3.0), ylim=(-2.0, 1.6), aspect="equal", xlabel="embedding dim 1",
           ylabel="embedding dim 2", title=f"{name}: loss {fn(a2, p2, n2).item():.2f}")
axes[0].legend(loc="lower left")
fig.suptitle("descent directions −∇L: p pulled toward a, n pushed away, a pulled and pushed")
plt.show()


# %% [markdown]
# ## 8. Loss and gradient against $d(a,p) - d(a,n)$
#
# To plot against the margin variable $\delta = d(a,p) - d(a,n)$, fix a negative at distance 2 from
# the anchor and slide the positive along a line, $d(a,p) = \delta + 2$. The loss is computed by
# `utils.triplet_margin_loss` on these 1-D embeddings and differentiated by autograd with respect to
# $\delta$; the analytic derivative is $\mathbb{1}[\delta \ge -m]$, with a kink at $\delta = -m$
# (drawn for $m$ = `MARGIN` and $m$ = `MARGIN / 2`).

# %%
def triplet_vs_delta(margin):
    def loss(delta):
        M = delta.shape[0]
        anchor = torch.zeros(M, 1, dtype=delta.dtype)
        positive = (delta + 2.0).unsqueeze(1)  # d(a,p) = delta + 2 >= 0 on the grid
        negative = torch.full((M, 1), 2.0, dtype=delta.dtype)
        return utils.triplet_margin_loss(anchor, positive, negative, margin=margin, reduction="none")
    return loss


delta = torch.linspace(-1.9, 1.5, 341, dtype=torch.float64)
margins = {f"m = {m:g}": m for m in (MARGIN, MARGIN / 2)}
plot = plot_loss_and_gradient(
    {name: triplet_vs_delta(m) for name, m in margins.items()},
    {name: (lambda d, m=m: (d >= -m).double()) for name, m in margins.items()},
    x=delta,
    xlabel="d(a,p) − d(a,n)  (distance units)",
    kinks=tuple(-m for m in margins.values()),
    title="triplet loss: zero once the negative is m farther than the positive, slope 1 before",
)
plt.show()
assert max(plot.max_gradient_gap.values()) < 1e-12
print("max |autograd - analytic| < 1e-12 on both curves (kinks excluded)")

# %% [markdown]
# ## 9. Experiment: an embedding of handwritten digits from random triplets
#
# The claim of the section is that the loss shapes an embedding space where similar items are close.
# Measure it: `utils.embedding.EmbeddingNet` (64 → 128 → 128 → **2**, so we can look at it) on the
# digits (1257 training, 540 test images). Each step draws a class-balanced batch (10 digits × 8
# images) and 256 **random** valid triplets in it (`utils.sampling.sample_triplets`), margin `MARGIN`.
# The network and the data are in float64, so the run is the same on any CPU to many more digits
# than we print.
#
# Two quality numbers on the **test** images, before and after training:
# - **1-NN accuracy**: the label of the nearest training image in the embedding;
# - **margin satisfaction**: the fraction of 2000 random test triplets with $d(a,p) + m \le d(a,n)$.

# %%
data = digits(dtype=torch.float64)
test_triplets = sample_triplets(data.y_test, 2000, generator=torch.Generator().manual_seed(123))


def test_deltas(model):  # delta = d(a,p) - d(a,n) of the 2000 test triplets, shape (2000,)
    z = embed(model, data.X_test)
    a, p, n = test_triplets
    return paired_distances(z[a], z[p]) - paired_distances(z[a], z[n])


def quality(model):
    train_z, test_z = embed(model, data.X_train), embed(model, data.X_test)
    accuracy = nearest_neighbour_accuracy(train_z, data.y_train, test_z, data.y_test)
    return accuracy, (test_deltas(model) + MARGIN <= 0).double().mean().item()


def random_triplet_loss(seed):
    generator = torch.Generator().manual_seed(seed)

    def batch_loss(z, labels):
        a, p, n = sample_triplets(labels, 256, generator=generator)
        per_triplet = utils.triplet_margin_loss(z[a], z[p], z[n], margin=MARGIN, reduction="none")
        return per_triplet.mean(), {"active fraction": (per_triplet > 0).double().mean().item()}

    return batch_loss


torch.manual_seed(0)
model = EmbeddingNet(in_features=64, hidden=128, out_features=2, dtype=torch.float64)
before_z = embed(model, data.X_test)
acc_before, sat_before = quality(model)
history = train_embedding(model, data.X_train, data.y_train, random_triplet_loss(1), steps=150,
                          classes_per_batch=10, samples_per_class=8, lr=3e-3, seed=0)
acc_after, sat_after = quality(model)
print(f"test 1-NN accuracy:      before {acc_before:.2f}   after {acc_after:.2f}")
print(f"test margin satisfied:   before {sat_before:.2f}   after {sat_after:.2f}")
assert acc_after > acc_before + 0.4 and acc_after > 0.8
assert sat_after > sat_before + 0.5

# %%
fig, axes = plt.subplots(1, 3, figsize=(12.0, 3.8))
plot_embedding_2d(before_z, data.y_test, ax=axes[0], title=f"untrained: 1-NN acc {acc_before:.2f}")
plot_embedding_2d(embed(model, data.X_test), data.y_test, ax=axes[1],
                  title=f"after 150 triplet steps: 1-NN acc {acc_after:.2f}")
axes[0].get_legend().remove()
steps = range(1, len(history["loss"]) + 1)
axes[2].plot(steps, history["loss"], color=PALETTE[0], label="batch loss")
axes[2].plot(steps, history["active fraction"], color=PALETTE[1], label="active fraction")
axes[2].set(xlabel="training step", ylabel="value per step", title="loss and share of active triplets fall")
axes[2].legend(loc="upper right")
fig.suptitle("random triplets on the digits: test images pulled into clusters (left, middle)")
plt.show()
print(f"active fraction: first 10 steps {sum(history['active fraction'][:10]) / 10:.2f}, "
      f"last 10 steps {sum(history['active fraction'][-10:]) / 10:.2f}")

# %% [markdown]
# What we measured: 150 steps (a few seconds) turn a random 2-D projection, in which the nearest
# neighbour has the right digit less than one time in five, into clusters where it is right about
# nine times in ten, and most random test triplets now satisfy the margin. The training curve also
# foreshadows notebook 10 (hard negative mining): as the embedding improves, most **random** triplets
# are already satisfied, give zero loss and zero gradient, and the batch teaches less and less.
#
# **Move the margin yourself.** The slider redraws the loss and its derivative for margin $m$, and the
# $\delta = d(a,p) - d(a,n)$ of the 2000 test triplets in the trained embedding: the ones with
# $\delta > -m$ are active and would still receive gradient (the network was trained with `MARGIN`;
# a larger $m$ makes more of its triplets active again).

# %% tags=["nbval-ignore-output"]
delta_trained = test_deltas(model)


def draw(margin):
    fig, (ax_loss, ax_hist) = plt.subplots(1, 2, figsize=(9.0, 3.6))
    lo, hi = float(delta_trained.min()), float(delta_trained.max())
    grid = torch.linspace(lo, hi, 400, dtype=torch.float64)
    ax_loss.plot(grid, torch.clamp(grid + margin, min=0), color=PALETTE[0], label="loss max(0, δ + m)")
    ax_loss.plot(grid, (grid > -margin).double(), color=PALETTE[1], ls="--", label="derivative in δ")
    active = delta_trained >= -margin  # the kink counts as active, as in utils
    bins = torch.linspace(lo, hi, 50).tolist()
    ax_hist.hist(delta_trained[active].tolist(), bins=bins, color=PALETTE[1], label="active: gradient")
    ax_hist.hist(delta_trained[~active].tolist(), bins=bins, color="grey", label="satisfied: none")
    for ax, ylabel in ((ax_loss, "loss, derivative"), (ax_hist, "test triplets")):
        ax.axvline(-margin, color="black", ls=":", lw=1)
        ax.set(xlabel="δ = d(a,p) − d(a,n)  (embedding units)", ylabel=ylabel)
        ax.legend(loc="upper left" if ax is ax_loss else "upper right", fontsize=7)
    ax_hist.set_title(f"m = {margin:.1f}: {int(active.sum())} of {len(active)} test triplets active")
    return fig


explore(draw, margin=(0.0, 4.0, 0.1, MARGIN))

# %% [markdown]
# ## Takeaways
#
# - The triplet loss $\max(0, d(a,p) - d(a,n) + m)$ is a hinge on the violation of
#   $d(a,p) + m \le d(a,n)$; satisfied triplets give exactly zero gradient.
# - With Euclidean distance the gradient on $p$ and $n$ is a unit vector along the anchor direction;
#   with squared distance (FaceNet) it scales with the distance, and the margin becomes a gap that
#   depends on where the points are.
# - `nn.TripletMarginLoss` adds `eps=1e-6` inside the norm ($d(x,x) = 10^{-6}\sqrt{D}$, a unit gradient at
#   $a = p$); `eps=0` and `utils` are exact. pytorch-metric-learning normalises, averages over non-zero
#   losses and uses margin 0.05 by default: configure it before comparing numbers.
# - A few seconds of random triplets already organise a 2-D embedding of digits by class
#   (1-NN accuracy and margin satisfaction both rise sharply).
#
# [Exercises for this section](../exercises/ex07_triplet_margin.ipynb)
