# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
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
# - plain versus squared distances (FaceNet squares them): what changes in the loss and the gradient;
# - the gradient drawn as arrows in 2-D, and the loss against $d(a,p) - d(a,n)$;
# - on real digits: an embedding trained for a few seconds on random triplets, measured before and after.

# %%
import math

import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F
from pytorch_metric_learning import losses as pml_losses
from pytorch_metric_learning.distances import LpDistance
from pytorch_metric_learning.reducers import AvgNonZeroReducer, MeanReducer
from torch import nn
from torch.testing import assert_close

import utils
from utils.data import digits
from utils.distances import paired_distances
from utils.embedding import EmbeddingNet, embed, nearest_neighbour_accuracy, train_embedding
from utils.plotting import PALETTE, plot_curves, plot_embedding_2d, plot_loss_and_gradient
from utils.reproducibility import seed_everything
from utils.sampling import sample_triplets

seed_everything(0)  # seeds Python, NumPy and torch; torch runs on one thread (bit-identical sums)

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
# $$
# \nabla_p L = \frac{p - a}{d(a,p)}, \qquad
# \nabla_n L = -\frac{n - a}{d(a,n)}, \qquad
# \nabla_a L = \frac{a - p}{d(a,p)} - \frac{a - n}{d(a,n)} = -\nabla_p L - \nabla_n L .
# $$
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
# so $\delta \approx 0$ and the loss is close to the margin, 1.

# %% [markdown]
# ## 4. From scratch, and four ways to agree
#
# The implementation is one line once the distance is right. The distance is
# `torch.linalg.vector_norm` of the difference: exact, and with gradient 0 (not NaN) at distance 0.

# %%
def triplet_from_scratch(a, p, n, margin=1.0):
    """Per-triplet loss max(0, ||a - p|| - ||a - n|| + margin); inputs (N, D), output (N,)."""
    d_ap = torch.linalg.vector_norm(a - p, dim=1)
    d_an = torch.linalg.vector_norm(a - n, dim=1)
    return torch.clamp(d_ap - d_an + margin, min=0)


gen = torch.Generator().manual_seed(0)
a64, p64, n64 = (torch.randn(64, 8, generator=gen, dtype=torch.float64) for _ in range(3))
ours = triplet_from_scratch(a64, p64, n64, margin=1.0)

# (1) the book's library
assert_close(ours, utils.triplet_margin_loss(a64, p64, n64, margin=1.0, reduction="none"))
# (2) PyTorch with eps=0: the exact oracle of ORACLES.md
assert_close(ours, F.triplet_margin_loss(a64, p64, n64, margin=1.0, p=2, eps=0, reduction="none"))
# (3) pytorch-metric-learning, configured to compute the same thing (one triplet per index triple)
idx = torch.arange(64)
pml_same = pml_losses.TripletMarginLoss(
    margin=1.0, distance=LpDistance(normalize_embeddings=False), reducer=MeanReducer()
)
pml_value = pml_same(torch.cat([a64, p64, n64]), indices_tuple=(idx, idx + 64, idx + 128))
assert_close(ours.mean(), pml_value)
# (4) the chapter's nn.TripletMarginLoss: its default eps shifts every distance a little
torch_default = nn.TripletMarginLoss(margin=1.0, p=2)(a64, p64, n64)
print(f"mean loss: ours {ours.mean():.6f}   PML (configured) {pml_value:.6f}   "
      f"nn.TripletMarginLoss default {torch_default:.6f}")
print(f"|ours - nn.TripletMarginLoss| = {abs(ours.mean() - torch_default):.1e}  (eps=1e-6 inside the norm)")
assert abs(ours.mean() - torch_default) < 1e-5
print(f"active triplets: {(ours > 0).sum().item()} of 64")

# %% [markdown]
# ### PML's three different defaults
#
# `pytorch_metric_learning.losses.TripletMarginLoss()` out of the box differs from the chapter's
# loss in **three** ways (ORACLES.md): it L2-normalises the embeddings (`LpDistance(normalize_embeddings=True)`),
# it averages only over the triplets with a **non-zero** loss (`AvgNonZeroReducer`), and its margin is
# 0.05, not 1. Undo them one at a time:

# %%
triplets = (idx, idx + 64, idx + 128)
emb = torch.cat([a64, p64, n64])
configs = {
    "PML defaults": pml_losses.TripletMarginLoss(),
    "+ margin=1.0": pml_losses.TripletMarginLoss(margin=1.0),
    "+ unnormalised distance": pml_losses.TripletMarginLoss(
        margin=1.0, distance=LpDistance(normalize_embeddings=False)),
    "+ MeanReducer (= chapter)": pml_losses.TripletMarginLoss(
        margin=1.0, distance=LpDistance(normalize_embeddings=False), reducer=MeanReducer()),
}
for name, fn in configs.items():
    print(f"{name:27s} {fn(emb, indices_tuple=triplets).item():.4f}")
active = ours[ours > 0]
nonzero_mean = pml_losses.TripletMarginLoss(
    margin=1.0, distance=LpDistance(normalize_embeddings=False), reducer=AvgNonZeroReducer()
)(emb, indices_tuple=triplets)
assert_close(nonzero_mean, active.mean())  # AvgNonZeroReducer = mean over active triplets only
print(f"chapter loss (mean over all 64)      {ours.mean():.4f}")
print(f"mean over the {active.numel()} active triplets only  {active.mean():.4f}")

# %% [markdown]
# The non-zero average keeps the loss large as training satisfies more triplets (it divides by fewer
# of them); the plain mean shrinks. Neither is wrong, but they are different losses: say which one
# you use.

# %% [markdown]
# ## 5. The `eps` pitfall: $d(x, x) \ne 0$ in PyTorch
#
# `F.triplet_margin_loss` computes distances with `F.pairwise_distance(x1, x2, eps=1e-6)`, which adds
# `eps` to **every coordinate** of $x_1 - x_2$ (pytorch#61538). So a point's distance to itself is
# $10^{-6}\sqrt{D}$, not 0 — and at $a = p$, where $\|a - p\|$ has no gradient (the norm's kink),
# PyTorch returns a gradient of norm 1, in the arbitrary direction $-(1, \dots, 1)/\sqrt{D}$.
# An anchor that equals its positive is the best possible case, yet it gets pushed.

# %%
D = 128
gen = torch.Generator().manual_seed(1)
a = torch.randn(1, D, generator=gen, dtype=torch.float64)
n = a + 0.01 * torch.randn(1, D, generator=gen, dtype=torch.float64)  # close negative: triplet active
p_torch = a.clone().requires_grad_(True)  # positive equal to the anchor
p_ours = a.clone().requires_grad_(True)

print(f"F.pairwise_distance(a, a) = {F.pairwise_distance(a, a).item():.3e}"
      f"   1e-6·sqrt(D) = {1e-6 * math.sqrt(D):.3e}   exact: {paired_distances(a, a).item():.1f}")
nn.TripletMarginLoss(margin=1.0, p=2)(a, p_torch, n).backward()
utils.triplet_margin_loss(a, p_ours, n, margin=1.0).backward()
g_torch, g_ours = p_torch.grad.norm().item(), p_ours.grad.norm().item()
print(f"gradient norm on p at a = p:  nn.TripletMarginLoss {g_torch:.4f}   utils {g_ours:.4f}")
assert abs(g_torch - 1.0) < 1e-9 and g_ours == 0.0
assert_close(p_torch.grad, torch.full((1, D), -1 / math.sqrt(D), dtype=torch.float64))
# the exact oracle: eps=0 gives the same zero subgradient as utils
p_eps0 = a.clone().requires_grad_(True)
F.triplet_margin_loss(a, p_eps0, n, margin=1.0, eps=0).backward()
assert torch.equal(p_eps0.grad, p_ours.grad)

# %% [markdown]
# PyTorch also refuses `margin <= 0`, which `utils.triplet_margin_loss` accepts (a margin of 0 is the
# plain ranking of distances):

# %%
try:
    F.triplet_margin_loss(a64, p64, n64, margin=0.0)
except ValueError as err:
    print("torch:", err)
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
    utils.triplet_margin_loss(a1, p1, n1, margin=1.0).backward()
    squared_triplet(a1, p2, n1, margin=1.0).sum().backward()
    print(f"{d_ap:6.1f}  {p1.grad.norm():13.3f}  {p2.grad.norm():16.3f}")
    assert abs(p1.grad.norm() - 1) < 1e-12 and abs(p2.grad.norm() - 2 * d_ap) < 1e-12

print("\nrequired gap d(a,n) - d(a,p) under the squared loss, alpha = 0.2:")
for d_ap in [0.1, 0.5, 1.0]:
    d_an = math.sqrt(d_ap**2 + 0.2)  # where the squared loss reaches 0
    print(f"  d(a,p) = {d_ap:.1f}: gap {d_an - d_ap:.3f}")

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
    "plain distance": lambda a, p, n: utils.triplet_margin_loss(a, p, n, margin=1.0),
    "squared distance": lambda a, p, n: squared_triplet(a, p, n, margin=1.0).sum(),
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
    ax.set_xlim(-1.2, 3.0)
    ax.set_ylim(-2.0, 1.6)
    ax.set_aspect("equal")
    ax.set_xlabel("embedding dim 1")
    ax.set_ylabel("embedding dim 2")
    ax.set_title(f"{name}: loss {fn(a2, p2, n2).item():.2f}")
axes[0].legend(loc="lower left")
fig.suptitle("descent directions −∇L: p pulled toward a, n pushed away, a pulled and pushed")
plt.show()

d_ap, d_an = paired_distances(a2, p2).item(), paired_distances(a2, n2).item()
grad_p = torch.autograd.grad(utils.triplet_margin_loss(a2, p2, n2, margin=1.0), p2)[0]
assert_close(grad_p, (p2 - a2).detach() / d_ap)  # analytic gradient of section 2
print(f"d(a,p) = {d_ap:.3f}, d(a,n) = {d_an:.3f}, violation v = {d_ap - d_an + 1:.3f} > 0: active")


# %% [markdown]
# ## 8. Loss and gradient against $d(a,p) - d(a,n)$
#
# To plot against the margin variable $\delta = d(a,p) - d(a,n)$, fix a negative at distance 2 from
# the anchor and slide the positive along a line, $d(a,p) = \delta + 2$. The loss is computed by
# `utils.triplet_margin_loss` on these 1-D embeddings and differentiated by autograd with respect to
# $\delta$; the analytic derivative is $\mathbb{1}[\delta \ge -m]$, with a kink at $\delta = -m$.

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
plot = plot_loss_and_gradient(
    {"m = 1": triplet_vs_delta(1.0), "m = 0.5": triplet_vs_delta(0.5)},
    {"m = 1": lambda d: (d >= -1.0).double(), "m = 0.5": lambda d: (d >= -0.5).double()},
    x=delta,
    xlabel="d(a,p) − d(a,n)  (distance units)",
    kinks=(-1.0, -0.5),
    title="triplet loss: zero once the negative is m farther than the positive, slope 1 before",
)
plt.show()
print({k: f"{v:.1e}" for k, v in plot.max_gradient_gap.items()})
assert max(plot.max_gradient_gap.values()) < 1e-12

# %% [markdown]
# ## 9. Experiment: an embedding of handwritten digits from random triplets
#
# The claim of the section is that the loss shapes an embedding space where similar items are close.
# Measure it: `utils.embedding.EmbeddingNet` (64 → 128 → 128 → **2**, so we can look at it) on the
# digits (1257 training, 540 test images). Each step draws a class-balanced batch (10 digits × 8
# images) and 256 **random** valid triplets in it (`utils.sampling.sample_triplets`), margin 1.
#
# Two quality numbers on the **test** images, before and after training:
# - **1-NN accuracy**: the label of the nearest training image in the embedding;
# - **margin satisfaction**: the fraction of 2000 random test triplets with $d(a,p) + 1 \le d(a,n)$.

# %%
data = digits()
MARGIN = 1.0


def quality(model):
    train_z, test_z = embed(model, data.X_train), embed(model, data.X_test)
    accuracy = nearest_neighbour_accuracy(train_z, data.y_train, test_z, data.y_test)
    a, p, n = sample_triplets(data.y_test, 2000, generator=torch.Generator().manual_seed(123))
    satisfied = paired_distances(test_z[a], test_z[p]) + MARGIN <= paired_distances(test_z[a], test_z[n])
    return accuracy, satisfied.float().mean().item()


def random_triplet_loss(seed):
    generator = torch.Generator().manual_seed(seed)

    def batch_loss(z, labels):
        a, p, n = sample_triplets(labels, 256, generator=generator)
        per_triplet = utils.triplet_margin_loss(z[a], z[p], z[n], margin=MARGIN, reduction="none")
        return per_triplet.mean(), {"active fraction": (per_triplet > 0).float().mean().item()}

    return batch_loss


torch.manual_seed(0)
model = EmbeddingNet(in_features=64, hidden=128, out_features=2)
before_z = embed(model, data.X_test)
acc_before, sat_before = quality(model)
history = train_embedding(model, data.X_train, data.y_train, random_triplet_loss(1), steps=150,
                          classes_per_batch=10, samples_per_class=8, lr=3e-3, seed=0)
acc_after, sat_after = quality(model)
print(f"test 1-NN accuracy:      before {acc_before:.3f}   after {acc_after:.3f}")
print(f"test margin satisfied:   before {sat_before:.3f}   after {sat_after:.3f}")
assert acc_after > acc_before + 0.4 and acc_after > 0.8
assert sat_after > sat_before + 0.5

# %%
fig, axes = plt.subplots(1, 2, figsize=(8.0, 4.0))
plot_embedding_2d(before_z, data.y_test, ax=axes[0], title=f"untrained: 1-NN acc {acc_before:.2f}")
plot_embedding_2d(embed(model, data.X_test), data.y_test, ax=axes[1],
                  title=f"after 150 triplet steps: 1-NN acc {acc_after:.2f}")
axes[0].get_legend().remove()
fig.suptitle("test digits in the 2-D embedding: classes pulled into clusters")
plt.show()

# %%
plot_curves({"batch loss": history["loss"], "active fraction": history["active fraction"]},
            ylabel="value per step", title="random triplets: the loss and the share of active triplets fall")
plt.show()
print(f"active fraction: first 10 steps {sum(history['active fraction'][:10]) / 10:.2f}, "
      f"last 10 steps {sum(history['active fraction'][-10:]) / 10:.2f}")

# %% [markdown]
# What we measured: 150 steps (a few seconds) turn a random 2-D projection, in which the nearest
# neighbour has the right digit about a quarter of the time, into clusters where it is right about
# nine times in ten, and most random test triplets now satisfy the margin. The training curve also
# foreshadows notebook 09: as the embedding improves, most **random** triplets are already satisfied,
# give zero loss and zero gradient, and the batch teaches less and less.

# %% [markdown]
# ## Takeaways
#
# - The triplet loss $\max(0, d(a,p) - d(a,n) + m)$ is a hinge on the violation of
#   $d(a,p) + m \le d(a,n)$; satisfied triplets give exactly zero gradient.
# - With Euclidean distance the gradient on $p$ and $n$ is a unit vector along the anchor direction;
#   with squared distance (FaceNet) it scales with the distance, and the margin becomes a gap that
#   depends on where the points are.
# - `nn.TripletMarginLoss` adds `eps=1e-6` inside the norm: $d(x,x) = 10^{-6}\sqrt{D}$ and a unit
#   gradient at $a = p$. `F.triplet_margin_loss(..., eps=0)` and `utils.triplet_margin_loss` are exact.
# - pytorch-metric-learning's `TripletMarginLoss` normalises embeddings, averages over non-zero losses
#   and uses margin 0.05 by default: configure it before comparing numbers.
# - A few seconds of random triplets already organise a 2-D embedding of digits by class
#   (1-NN accuracy and margin satisfaction both rise sharply).
#
# Exercises: `exercises/07_triplet_margin.ipynb`.
