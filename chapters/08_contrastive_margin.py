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
# # 08 · Contrastive margin loss
#
# *Follows the section "Contrastive Margin Loss" of the chapter "Margin-Based Losses".*
#
# The triplet loss of notebook 07 compares two distances. The contrastive loss works on **pairs**:
# each pair is labelled similar or dissimilar, similar pairs are pulled together, dissimilar pairs are
# pushed apart until they are at least a margin $m$ apart.
#
# **What you will learn**
#
# - the chapter's form $L = y\,d^2 + (1-y)\max(0, m-d)^2$ with $y = 1$ for similar pairs, derived
#   piece by piece, with its gradient;
# - the chapter's snippet as printed, a from-scratch version, and checks against `utils` and PyTorch pieces;
# - the loss and gradient against the distance, for similar and dissimilar pairs;
# - what happens at $d = 0$, where a dissimilar pair sits on a **maximum** of its loss: `sqrt(sum)` gives
#   NaN, an exact norm gives gradient 0 (the collapsed pair never separates), `eps` gives a push;
# - how Hadsell et al. (2006) and pytorch-metric-learning's `ContrastiveLoss` differ from the chapter,
#   each converted and checked;
# - on real digits: an embedding trained on random pairs, compared with the triplet embedding of notebook 07.

# %%
import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F
from pytorch_metric_learning import losses as pml_losses
from pytorch_metric_learning.distances import LpDistance
from pytorch_metric_learning.reducers import AvgNonZeroReducer, DoNothingReducer
from torch.testing import assert_close

import utils
from utils.data import digits
from utils.distances import paired_distances, pairwise_distances
from utils.embedding import EmbeddingNet, embed, nearest_neighbour_accuracy, train_embedding
from utils.plotting import plot_embedding_2d, plot_loss_and_gradient
from utils.reproducibility import seed_everything
from utils.sampling import sample_pairs, sample_triplets

seed_everything(0)  # seeds Python, NumPy and torch; torch runs on one thread (bit-identical sums)
MARGIN = 1.0  # the contrastive margin m of every example, figure and experiment below


# %% [markdown]
# ## 1. Two kinds of pairs, two terms
#
# With $z_1 = f_\theta(x_1)$, $z_2 = f_\theta(x_2)$ and $d = \|z_1 - z_2\|_2$, the chapter asks:
#
# - a **similar** pair should be close: $L_\text{similar} = d^2$, zero only at $d = 0$;
# - a **dissimilar** pair should be at least $m$ apart: $L_\text{dissimilar} = \max(0, m - d)^2$,
#   zero as soon as $d \ge m$.
#
# With $y = 1$ for similar and $y = 0$ for dissimilar, one label switches between the two terms:
#
# $$L = y\, d^2 + (1-y) \max(0, m - d)^2 .$$
#
# Unlike the triplet loss, the constraint is **absolute**: dissimilar pairs must reach distance $m$,
# similar pairs are pulled toward distance 0 with no margin of their own (they always give gradient).

# %% [markdown]
# ## 2. Derivation of the gradient
#
# **Step 1: derivative in $d$.**
#
# $$\frac{\partial L}{\partial d} = \begin{cases} 2d & y = 1 \\ -2\max(0, m - d) & y = 0. \end{cases}$$
#
# The dissimilar term is the squared hinge of notebook 04 on $m - d$: its derivative is continuous and
# reaches 0 at $d = m$ from both sides, so there is no kink and no subgradient choice.
#
# **Step 2: chain rule to the embeddings.** $\nabla_{z_1} d = (z_1 - z_2)/d$ (a unit vector), so
#
# $$\nabla_{z_1} L = \begin{cases} 2(z_1 - z_2) & y = 1 \\ -2\max(0, m-d)\,\dfrac{z_1 - z_2}{d} & y = 0, \end{cases}
# \qquad \nabla_{z_2} L = -\nabla_{z_1} L .$$
#
# The similar case needs no division: write it with $d^2 = \sum_k (z_{1k} - z_{2k})^2$. The
# dissimilar case divides by $d$: at $d = 0$ the direction to push is undefined (section 5).

# %% [markdown]
# ## 3. The chapter's snippet, a from-scratch version, and the checks
#
# The oracle (see the [references](../REFERENCES.md#oracles)): PyTorch has no contrastive loss, so it is
# assembled from `F.pairwise_distance(eps=0)` and `F.hinge_embedding_loss`, which computes $\max(0, m - d)$
# for target $-1$.

# %%
def contrastive_margin_loss(z1, z2, y, margin=1.0):
    d = torch.norm(z1 - z2, dim=1)
    similar = y * d.pow(2)
    dissimilar = (1 - y) * torch.clamp(margin - d, min=0.0).pow(2)
    return (similar + dissimilar).mean()


# %%
def contrastive_from_scratch(z1, z2, y, margin=1.0):
    """Per-pair loss y d^2 + (1 - y) max(0, m - d)^2; z1, z2 (N, D), y (N,) in {0, 1}; output (N,)."""
    diff = z1 - z2
    squared = (diff**2).sum(dim=1)  # d^2 without a square root: smooth at d = 0
    d = torch.linalg.vector_norm(diff, dim=1)  # gradient 0 (not NaN) at d = 0
    return y * squared + (1 - y) * torch.clamp(margin - d, min=0) ** 2


gen = torch.Generator().manual_seed(0)
z1, z2 = (0.6 * torch.randn(200, 4, generator=gen, dtype=torch.float64) for _ in range(2))
y = (torch.rand(200, generator=gen) < 0.5).double()
ours = contrastive_from_scratch(z1, z2, y, margin=MARGIN)

assert_close(ours, utils.contrastive_margin_loss(z1, z2, y, margin=MARGIN, reduction="none"))  # library
assert_close(ours.mean(), contrastive_margin_loss(z1, z2, y, margin=MARGIN))  # the chapter's snippet
# PyTorch has no built-in contrastive loss: the oracle is assembled from PyTorch pieces (see the
# references page), with eps=0 for exact distances
d = F.pairwise_distance(z1, z2, eps=0)
hinge = F.hinge_embedding_loss(d, -torch.ones_like(d), margin=MARGIN, reduction="none")  # max(0, m - d)
assert_close(ours, y * d**2 + (1 - y) * hinge**2)
print(f"mean loss {ours.mean():.4f} on {int(y.sum())} similar and {int((1 - y).sum())} dissimilar pairs; "
      f"dissimilar pairs already beyond the margin: {int(((1 - y) * (d >= MARGIN)).sum())}")


# %% [markdown]
# ## 4. Loss and gradient against the distance
#
# Put $z_1 = 0$ and $z_2 = d$ on a line, compute the loss with `utils.contrastive_margin_loss`, and let
# autograd differentiate with respect to $d$. Analytic derivatives from section 2: $2d$ (similar) and
# $-2\max(0, m-d)$ (dissimilar), with $m$ = `MARGIN`.

# %%
def contrastive_vs_distance(label, margin=MARGIN):
    def loss(dist):
        z_a = torch.zeros(dist.shape[0], 1, dtype=dist.dtype)
        labels = torch.full(dist.shape, float(label), dtype=dist.dtype)
        return utils.contrastive_margin_loss(z_a, dist.unsqueeze(1), labels, margin=margin, reduction="none")
    return loss


dist = torch.linspace(0.0, 2.0, 401, dtype=torch.float64)
plot = plot_loss_and_gradient(
    {"similar (y = 1)": contrastive_vs_distance(1), "dissimilar (y = 0)": contrastive_vs_distance(0)},
    {"similar (y = 1)": lambda d: 2 * d, "dissimilar (y = 0)": lambda d: -2 * torch.clamp(MARGIN - d, min=0)},
    x=dist,
    xlabel="distance d = ‖z₁ − z₂‖ (embedding units)",
    kinks=(0.0,),
    margin=MARGIN,
    title="similar pairs always pulled in; dissimilar pairs pushed out until d = m, then nothing",
)
plt.show()
assert max(plot.max_gradient_gap.values()) < 1e-12
print("max |autograd - analytic| < 1e-12 on both curves (d = 0 excluded)")

# %% [markdown]
# The one point excluded from the comparison is $d = 0$ (dotted line). There the dissimilar loss is
# at its **largest**, $m^2$, and falls with slope $-2m$ in *every* direction $z_1$ can move: in the
# embedding space, $(m - \|z_1 - z_2\|)^2$ is a cone-shaped **maximum** at $z_1 = z_2$. A cone's tip
# has no gradient; the next section shows what each way of computing $d$ returns there, and why it
# matters.

# %% [markdown]
# ## 5. The gradient at $d = 0$
#
# Two identical embeddings (say, two augmentations of one image, or a collapsed network) make
# $d = 0$. Four ways to compute $d$, on one similar and one dissimilar pair with $z_1 = z_2$:

# %%
z = torch.randn(2, 3, generator=gen, dtype=torch.float64)
pair_labels = torch.tensor([1.0, 0.0], dtype=torch.float64)  # similar, dissimilar
distances = {
    "torch.norm (the chapter)": lambda diff: torch.norm(diff, dim=1),
    "sqrt(sum of squares)": lambda diff: (diff**2).sum(dim=1).sqrt(),
    "F.pairwise_distance (eps=1e-6)": lambda diff: F.pairwise_distance(diff, torch.zeros_like(diff)),
}
gradients = {}
for name, distance in distances.items():
    z1_ = z.clone().requires_grad_(True)
    dd = distance(z1_ - z)
    loss = pair_labels * dd**2 + (1 - pair_labels) * torch.clamp(MARGIN - dd, min=0) ** 2
    gradients[name] = torch.autograd.grad(loss.sum(), z1_)[0]
z1_ = z.clone().requires_grad_(True)
gradients["utils.contrastive_margin_loss"] = torch.autograd.grad(
    utils.contrastive_margin_loss(z1_, z, pair_labels, margin=MARGIN, reduction="sum"), z1_)[0]
print(f"{'distance':32s} {'|grad| similar':>15s} {'|grad| dissimilar':>18s}")
for name, g in gradients.items():
    print(f"{name:32s} {g[0].norm().item():15.4f} {g[1].norm().item():18.4f}")
assert torch.isnan(gradients["sqrt(sum of squares)"]).all()
assert abs(gradients["F.pairwise_distance (eps=1e-6)"][1].norm().item() - 2 * MARGIN) < 1e-4
assert torch.equal(gradients["utils.contrastive_margin_loss"], torch.zeros(2, 3, dtype=torch.float64))
assert torch.equal(gradients["torch.norm (the chapter)"].abs(), torch.zeros(2, 3, dtype=torch.float64))


# %% [markdown]
# - `sqrt(sum)` gives **NaN** for both pairs: $\partial\sqrt{s}/\partial s = \infty$ at $s = 0$, and even
#   the similar pair's $d^2$, computed as $(\sqrt{s})^2$, multiplies $0 \cdot \infty$. One NaN poisons every
#   weight at the next step.
# - `torch.norm` (in PyTorch 2.13 it is `torch.linalg.vector_norm`) and `utils` give **no NaN** but
#   gradient **0** for both pairs. For the similar pair that is right: $d^2$ is at its *minimum*, as
#   $d(a,p)$ is for a triplet with $a = p$ (notebook 07). For the dissimilar pair it is wrong in
#   spirit: the pair sits on the *maximum* of its loss, every direction would lower it by $2m$ per unit
#   step, yet the gradient says "stay". A collapsed dissimilar pair is a **stationary point**: gradient
#   descent alone never separates it.
# - `F.pairwise_distance` adds $10^{-6}$ to each coordinate of the difference, so the dissimilar pair
#   gets a push of length $\approx 2m$ in the arbitrary direction $(1, \dots, 1)/\sqrt{D}$. At a cone's
#   tip every direction descends, so here the push is a **valid descent step**, unlike the triplet case
#   $a = p$, where the same `eps` pushes a point away from the minimum it has reached.
#
# Measured: 20 plain gradient steps (step size 0.1) on one dissimilar pair, moving $z_1$ only.

# %%
def separate(z1, z2, distance, steps=20, lr=0.1):
    z1 = z1.clone().requires_grad_(True)
    for _ in range(steps):
        loss = torch.clamp(MARGIN - distance(z1, z2), min=0) ** 2
        (grad,) = torch.autograd.grad(loss.sum(), z1)
        z1 = (z1 - lr * grad).detach().requires_grad_(True)
    return paired_distances(z1.detach(), z2).item()


exact = lambda u, v: torch.linalg.vector_norm(u - v, dim=1)  # noqa: E731  (what utils uses)
partner = z[1:]
nudge = 1e-6 * torch.randn(partner.shape, generator=gen, dtype=torch.float64)
cases = {"exactly collapsed, exact norm": (partner, exact),
         "exactly collapsed, F.pairwise_distance (eps=1e-6)": (partner, F.pairwise_distance),
         "1e-6 apart, exact norm": (partner + nudge, exact)}
final = {name: separate(start, partner, distance) for name, (start, distance) in cases.items()}
for name, d_end in final.items():
    print(f"{name:52s} d after 20 steps: {d_end:.3f}")
assert final["exactly collapsed, exact norm"] == 0.0 and min(final.values()) == 0.0
assert all(d_end > 0.9 * MARGIN for name, d_end in final.items() if name != "exactly collapsed, exact norm")


# %% [markdown]
# Only an **exact** collapse is stuck: $10^{-6}$ apart, the exact gradient has full length $2(m - d)$
# along $z_1 - z_2$ and the pair separates to $m$. In a network the exact case does happen (two
# identical inputs, or dead ReLUs mapping many inputs to the same point); such pairs learn nothing
# from their own term and move only when other pairs move the weights.

# %% [markdown]
# ## 6. Other conventions: Hadsell et al. 2006 and pytorch-metric-learning
#
# The loss appears under the same name with different constants and labels. Converting is easy once
# you know the differences; comparing numbers without converting is a classic mistake.
#
# **Hadsell, Chopra & LeCun (2006)** write $L = (1-Y)\,\tfrac12 D^2 + Y\,\tfrac12 \max(0, m - D)^2$ with
# **$Y = 0$ for similar** pairs: half the chapter's loss, label flipped.

# %%
def hadsell_2006(z1, z2, Y, margin=1.0):
    """Hadsell et al. 2006, eq. 4: Y = 0 similar, Y = 1 dissimilar, factor 1/2."""
    D = torch.linalg.vector_norm(z1 - z2, dim=1)
    return (1 - Y) * 0.5 * D**2 + Y * 0.5 * torch.clamp(margin - D, min=0) ** 2


chapter = utils.contrastive_margin_loss(z1, z2, y, margin=MARGIN, reduction="none")
assert_close(hadsell_2006(z1, z2, 1 - y, MARGIN), 0.5 * chapter)  # flip the label, halve the loss
print(f"Hadsell, labels converted: {hadsell_2006(z1, z2, 1 - y, MARGIN).mean():.4f} = 0.5 × {chapter.mean():.4f}")
print(f"Hadsell, labels NOT converted: {hadsell_2006(z1, z2, y, MARGIN).mean():.4f} (a different loss)")

# %% [markdown]
# **pytorch-metric-learning's `ContrastiveLoss(pos_margin=0, neg_margin=1)`** differs in three ways:
# its per-pair losses are **unsquared** ($d$ for similar pairs, $\max(0, m - d)$ for dissimilar ones);
# given labels it forms **every ordered pair** $(i, j)$, $i \ne j$, of the batch, so each pair is
# counted twice; and its default reducer averages the non-zero losses, separately for similar and
# dissimilar pairs, then adds the two averages. (It also L2-normalises embeddings by default.)

# %%
batch = 0.6 * torch.randn(12, 4, generator=gen, dtype=torch.float64)
labels = torch.tensor([0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 3, 3])
pml_raw = pml_losses.ContrastiveLoss(
    pos_margin=0, neg_margin=MARGIN, distance=LpDistance(normalize_embeddings=False), reducer=DoNothingReducer()
)(batch, labels)
pos_pml, neg_pml = pml_raw["pos_loss"]["losses"], pml_raw["neg_loss"]["losses"]

# The chapter's loss over every unordered pair i < j of the batch, from the library's distances
dist_all = pairwise_distances(batch)
i, j = torch.triu_indices(12, 12, offset=1)
same = (labels[i] == labels[j]).double()
chapter_pairs = utils.contrastive_margin_loss(batch[i], batch[j], same, margin=MARGIN, reduction="none")
n_similar, n_dissimilar = int(same.sum()), int((1 - same).sum())
print(f"unordered pairs: {n_similar} similar, {n_dissimilar} dissimilar;  "
      f"PML's pairs: {pos_pml.numel()} similar, {neg_pml.numel()} dissimilar (each counted twice)")
assert pos_pml.numel() == 2 * n_similar and neg_pml.numel() == 2 * n_dissimilar
# square PML's losses, add them, halve the double count: the chapter's sum over unordered pairs
assert_close((pos_pml**2).sum() / 2, chapter_pairs[same == 1].sum())
assert_close((neg_pml**2).sum() / 2, chapter_pairs[same == 0].sum())
# its default reducer: mean of non-zero similar losses + mean of non-zero dissimilar losses (unsquared)
pml_default_reducer = pml_losses.ContrastiveLoss(
    pos_margin=0, neg_margin=MARGIN, distance=LpDistance(normalize_embeddings=False), reducer=AvgNonZeroReducer()
)(batch, labels)
d_pos, d_neg = dist_all[i, j][same == 1], dist_all[i, j][same == 0]
shortfall = torch.clamp(MARGIN - d_neg, min=0)
assert_close(pml_default_reducer, d_pos[d_pos > 0].mean() + shortfall[shortfall > 0].mean())
print(f"chapter mean over pairs {chapter_pairs.mean():.4f}   "
      f"PML with its default reducer (unsquared, non-zero means) {pml_default_reducer:.4f}")

# %% [markdown]
# ## 7. Experiment: contrastive versus triplet embeddings of the digits
#
# Same network, data, batches, step count and learning rate as notebook 07; each step draws 256
# random pairs (half similar, `utils.sampling.sample_pairs`) in a 10-digit × 8-image batch, margin `MARGIN`.
# For a side-by-side comparison the triplet embedding of notebook 07 is retrained here with the same
# settings. Same quality numbers on the test images: 1-NN accuracy, and the fraction of 2000 random
# test triplets satisfying $d(a,p) + m \le d(a,n)$. We add the contrastive loss's own constraint:
# the fraction of dissimilar test pairs at distance $\ge m$.

# %%
data = digits(dtype=torch.float64)  # float64 data and network: the run is the same on any CPU
test_triplets = sample_triplets(data.y_test, 2000, generator=torch.Generator().manual_seed(123))
test_pairs = sample_pairs(data.y_test, 2000, generator=torch.Generator().manual_seed(321))


def quality(model):
    train_z, test_z = embed(model, data.X_train), embed(model, data.X_test)
    accuracy = nearest_neighbour_accuracy(train_z, data.y_train, test_z, data.y_test)
    a, p, n = test_triplets
    satisfied = paired_distances(test_z[a], test_z[p]) + MARGIN <= paired_distances(test_z[a], test_z[n])
    pi, pj, similar = test_pairs
    d_pairs = paired_distances(test_z[pi], test_z[pj])
    return {"1-NN accuracy": accuracy, "triplets satisfied": satisfied.float().mean().item(),
            "dissimilar pairs ≥ m": (d_pairs[similar == 0] >= MARGIN).float().mean().item(),
            "d similar / d dissimilar": (d_pairs[similar == 1].mean() / d_pairs[similar == 0].mean()).item()}


def random_pair_loss(seed):
    generator = torch.Generator().manual_seed(seed)

    def batch_loss(z, labels):
        i, j, similar = sample_pairs(labels, 256, generator=generator)
        return utils.contrastive_margin_loss(z[i], z[j], similar, margin=MARGIN), {}

    return batch_loss


def random_triplet_loss(seed):  # as in notebook 07
    generator = torch.Generator().manual_seed(seed)

    def batch_loss(z, labels):
        a, p, n = sample_triplets(labels, 256, generator=generator)
        return utils.triplet_margin_loss(z[a], z[p], z[n], margin=MARGIN), {}

    return batch_loss


results, embeddings = {}, {}
for name, batch_loss in [("untrained", None), ("triplet", random_triplet_loss(1)),
                         ("contrastive", random_pair_loss(1))]:
    torch.manual_seed(0)  # the same initial network for every run
    model = EmbeddingNet(in_features=64, hidden=128, out_features=2, dtype=torch.float64)
    if batch_loss is not None:
        train_embedding(model, data.X_train, data.y_train, batch_loss, steps=150,
                        classes_per_batch=10, samples_per_class=8, lr=3e-3, seed=0)
    results[name], embeddings[name] = quality(model), embed(model, data.X_test)

print(f"{'':12s}" + "".join(f"{k:>26s}" for k in results["untrained"]))
for name, row in results.items():
    print(f"{name:12s}" + "".join(f"{v:26.3f}" for v in row.values()))
assert results["contrastive"]["1-NN accuracy"] > results["untrained"]["1-NN accuracy"] + 0.4
assert results["triplet"]["triplets satisfied"] > results["contrastive"]["triplets satisfied"] + 0.2
assert results["contrastive"]["d similar / d dissimilar"] < results["triplet"]["d similar / d dissimilar"]

# %%
fig, axes = plt.subplots(1, 2, figsize=(8.0, 4.0))
for ax, name in zip(axes, ["triplet", "contrastive"]):
    plot_embedding_2d(embeddings[name], data.y_test, ax=ax,
                      title=f"{name}: 1-NN acc {results[name]['1-NN accuracy']:.2f}")
axes[0].get_legend().remove()
fig.suptitle("test digits, same network and budget: similar accuracy, different scale and spread")
plt.show()

# %% [markdown]
# What we measured (one run, one seed, a 2-D embedding):
#
# - Both losses turn the same random network into a useful embedding in 150 steps, with similar 1-NN
#   accuracy (0.91 triplet, 0.93 contrastive). A difference of a few points from one run is not evidence
#   that one loss is better (Musgrave et al. 2020).
# - They shape the space differently. Relative to the typical dissimilar distance, the contrastive
#   clusters are **tighter** (mean similar / mean dissimilar distance 0.19 against 0.24): every similar
#   pair keeps being pulled toward 0, while a triplet stops pulling once $d(a,p) + m \le d(a,n)$.
# - The triplet loss has no absolute scale, so its clusters drift apart and pass both tests that use
#   $m = 1$ (94 % of test triplets, 100 % of dissimilar pairs beyond $m$). The contrastive loss stops
#   pushing a dissimilar pair at $d = m$, and after 150 steps only about 70 % of the dissimilar
#   test pairs are beyond $m$ (ten classes packed in a plane at mutual distance $m$ leave little room;
#   the training pairs, not the test pairs, are what it fits), and about half the test triplets pass the
#   *relative* test it never optimises.
#
# So "the loss directly shapes the geometry" holds, and the shape follows the constraint: an absolute
# distance scale set by $m$ for the contrastive loss (useful for verification with a fixed threshold,
# "same person if $d < \tau$"), only an ordering of distances for the triplet loss.

# %% [markdown]
# ## Takeaways
#
# - $L = y\,d^2 + (1-y)\max(0, m - d)^2$, $y = 1$ similar: similar pairs are always pulled together,
#   dissimilar pairs pushed until $d \ge m$; the gradient is continuous in $d$ (no kink at $d = m$).
# - At $d = 0$ a dissimilar pair sits on a cone-shaped **maximum** of its loss. `sqrt(sum)` gives NaN
#   there; `torch.linalg.vector_norm` (and `utils`) give gradient 0, so an exactly collapsed pair never
#   separates by itself; `F.pairwise_distance`'s `eps` pushes it in an arbitrary, but descending, direction.
#   (For a similar pair, and for a triplet with $a = p$, $d = 0$ is a minimum and 0 is the right gradient.)
# - Hadsell et al. 2006 is half this loss with $Y = 0$ for similar pairs; pytorch-metric-learning's
#   `ContrastiveLoss` is unsquared, counts each pair twice, and by default averages non-zero losses of
#   each kind and normalises embeddings. Convert before comparing.
# - The loss directly shapes the geometry: tight clusters about $m$ apart, an absolute scale that the
#   triplet loss does not impose.
#
# [Exercises for this section](../exercises/ex08_contrastive_margin.ipynb)
