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
# # 10 · Hard negative mining
#
# *Follows the section "Hard Negative Mining" of the chapter "Margin-Based Losses".*
#
# A triplet loss is only as useful as the triplets it sees. The section says it plainly: "Margin
# losses often depend heavily on the choice of negative examples. If negatives are too easy, the loss
# becomes zero and the model receives little training signal. If negatives are too hard, especially
# early in training, optimization can become unstable." And it ends with a warning: "aggressive
# mining can amplify label noise."
#
# **What you will learn**
#
# - easy, semi-hard and hard negatives, defined by where $d(a,n)$ falls relative to $d(a,p)$ and
#   $d(a,p) + m$; the section's four strategies (random, hard = batch-hard, semi-hard, in-batch);
# - why an easy negative gives exactly zero gradient, and why the *hardest* negatives can pull the
#   whole embedding towards a single point (a short derivation) while semi-hard ones cannot;
# - each miner written from scratch as a Python loop, drawn on a tiny 2-D batch, and checked against
#   `utils.miners` and pytorch-metric-learning (PML), then timed against both;
# - the mined loss plotted against $d(a,p) - d(a,n)$: which negative receives the gradient;
# - three experiments on handwritten digits measuring the section's claims: the fraction of active
#   triplets per strategy, instability or collapse with the hardest negatives, and label noise.

# %%
import random
import statistics
import time

import matplotlib.pyplot as plt
import torch
from matplotlib.patches import Circle
from pytorch_metric_learning.distances import LpDistance
from pytorch_metric_learning.losses import TripletMarginLoss
from pytorch_metric_learning.miners import BatchHardMiner, TripletMarginMiner
from pytorch_metric_learning.reducers import MeanReducer
from pytorch_metric_learning.utils import loss_and_miner_utils as lmu
from torch.testing import assert_close

import utils
from utils.bench import pk_batch
from utils.data import digits
from utils.miners import active_fraction, mine_triplets
from utils.mining_experiments import flip_labels, mined_triplet_loss, train_with_miner
from utils.plotting import PALETTE, plot_loss_and_gradient
from utils.reproducibility import seed_everything

seed_everything(0)  # seeds Python, NumPy and torch; torch runs on one thread (bit-identical sums)


# %% [markdown]
# ## 1. Easy, semi-hard and hard negatives
#
# Fix an anchor $a$ and a positive $p$ (same class), and look at the triplet loss of notebook 07,
# $\max(0, d(a,p) - d(a,n) + m)$, as a function of where a negative $n$ lies. Three zones:
#
# | zone | condition | loss | what the model does with it |
# |---|---|---|---|
# | **easy** | $d(a,n) \ge d(a,p) + m$ | $0$ | nothing: zero gradient |
# | **semi-hard** | $d(a,p) < d(a,n) < d(a,p) + m$ | in $(0, m)$ | ranked right, but inside the margin |
# | **hard** | $d(a,n) \le d(a,p)$ | $\ge m$ | ranked wrong: the negative is closer than the positive |
#
# "A hard negative is a negative example that the model currently scores too highly or places too
# close to the anchor" — with distances the score is $-d$, so "highest incorrect score" means
# "closest negative". The section's table of strategies, and what each one is in this notebook:
#
# | Strategy (section) | Description (section) | here |
# |---|---|---|
# | Random negatives | Sample negatives uniformly | `"random"`: every (anchor, positive) pair, one negative drawn uniformly |
# | Hard negatives | Use negatives with highest incorrect score | `"batch_hard"`: per anchor, its farthest positive and closest negative (Hermans et al. 2017) |
# | Semi-hard negatives | Use negatives that violate the margin but remain farther than positives | `"semi_hard"`: per pair, the closest $n$ with $d(a,p) < d(a,n) < d(a,p) + m$ (FaceNet, Schroff et al. 2015) |
# | In-batch negatives | Treat other examples in the batch as negatives | `"all"`: every valid triplet of the batch |
#
# Mining happens **inside a batch**: the batches are "PK" batches of $P$ classes × $K$ examples
# (`utils.sampling.class_balanced_batches`), so each example has $K-1$ positives and $(P-1)K$ negatives.

# %% [markdown]
# ## 2. Derivation
#
# **Step 1: an easy negative teaches nothing.** With $v = d(a,p) - d(a,n) + m$, the loss is
# $\max(0, v)$ and, for Euclidean $d$ (notebook 07),
#
# $$\nabla_n L = -\mathbb{1}[v > 0]\,\frac{n - a}{d(a,n)}, \qquad
#   \nabla_p L = \mathbb{1}[v > 0]\,\frac{p - a}{d(a,p)} .$$
#
# An easy negative has $v \le 0$: every gradient is exactly $0$.
#
# **Step 2: averaging over easy triplets dilutes the signal.** A batch loss averages $T$ triplets,
# $L_B = \frac1T \sum_t \max(0, v_t)$, so its gradient is $\frac1T\sum_{t\,:\,v_t > 0} \nabla L_t$.
# Each active term has unit-size pieces; with a fraction $f$ of active triplets the gradient is at
# most of order $f$. Random negatives are mostly easy once classes start to separate, so $f \to 0$:
# the "little training signal" of the section. (PML's default `AvgNonZeroReducer` divides by the
# number of *active* triplets instead, which hides the dilution; here we keep the plain mean.)
#
# **Step 3: the miners as formulas.** With $D_{ij}$ the batch's distance matrix:
#
# - batch-hard: $\;L_{BH} = \frac1B \sum_a \max\bigl(0,\ \max_{p:\,y_p = y_a} D_{ap} - \min_{n:\,y_n \ne y_a} D_{an} + m\bigr)$;
# - semi-hard: for each pair $(a,p)$, $\;n^\star = \arg\min\{D_{an} : D_{ap} < D_{an} < D_{ap} + m\}$
#   (pairs with no such $n$ are dropped), so every selected triplet has loss in $(0, m)$;
# - in-batch: all $P\,K\,(K-1)\,(P-1)\,K$ triplets, averaged;
# - random: all $P K (K-1)$ pairs, each with one uniformly drawn negative.
#
# **Step 4: why the hardest negatives can collapse the embedding.** Scale every embedding of a
# triplet by $s > 0$: distances scale by $s$, so $L(s) = \max(0,\ s\,(d_{ap} - d_{an}) + m)$ and
#
# $$\frac{\partial L}{\partial s} = d_{ap} - d_{an} \quad \text{(when active).}$$
#
# For a **hard** triplet ($d_{an} < d_{ap}$) this is positive: *shrinking everything* lowers its
# loss, down to $L(0) = m$. At initialisation batch-hard triplets are mostly hard (the farthest
# positive is farther than the closest negative), so part of their gradient says "contract the
# embedding". At the collapsed point every distance is 0 and the loss is exactly $m$ for every
# anchor. For a **semi-hard** triplet $d_{an} > d_{ap}$, so $\partial L / \partial s < 0$: shrinking
# *raises* its loss; semi-hard triplets never push towards collapse. Whether the contraction wins
# depends on how strong the other directions of the gradient are — we measure it in section 8.

# %% [markdown]
# ## 3. The four miners from scratch
#
# Plain Python loops over a precomputed distance table `D` (a list of lists). Ties go to the lowest
# index (`max`/`min` return the first extremum), the rule `utils.miners` documents.

# %%
def distance_table(emb):
    """Exact Euclidean distances as a list of lists (no Gram-matrix shortcut)."""
    return torch.cdist(emb, emb, compute_mode="donot_use_mm_for_euclid_dist").tolist()


def positives_negatives(y, a):
    pos = [j for j in range(len(y)) if j != a and y[j] == y[a]]
    neg = [j for j in range(len(y)) if y[j] != y[a]]
    return pos, neg


def loop_random(y, rng):
    out = []
    for a in range(len(y)):
        pos, neg = positives_negatives(y, a)
        out += [(a, p, rng.choice(neg)) for p in pos]
    return out


def loop_batch_hard(D, y):
    out = []
    for a in range(len(y)):
        pos, neg = positives_negatives(y, a)
        if pos:
            out.append((a, max(pos, key=lambda j: D[a][j]), min(neg, key=lambda j: D[a][j])))
    return out


def loop_semi_hard(D, y, margin, *, closest_only=True):
    """Per (a, p): the closest negative in the band (closest_only), or every negative in it."""
    out = []
    for a in range(len(y)):
        pos, neg = positives_negatives(y, a)
        for p in pos:
            band = [n for n in neg if D[a][p] < D[a][n] < D[a][p] + margin]
            if band and closest_only:
                out.append((a, p, min(band, key=lambda n: D[a][n])))
            elif band:
                out += [(a, p, n) for n in band]
    return out


def loop_all(y):
    out = []
    for a in range(len(y)):
        pos, neg = positives_negatives(y, a)
        out += [(a, p, n) for p in pos for n in neg]
    return out


def as_set(triplets):
    """Index triplets (a tuple of three tensors, or a list of tuples) as a set of int tuples."""
    if isinstance(triplets, tuple):
        triplets = zip(*(t.tolist() for t in triplets))
    return {tuple(int(i) for i in t) for t in triplets}


# %% [markdown]
# ## 4. A tiny 2-D batch: which negative does each strategy pick?
#
# Nine points, three classes. Anchor 0 has two positives (1 and 2) and six negatives, placed so
# that every zone is populated: for the pair (0, 1), negative 3 is hard, 4 semi-hard; for the pair
# (0, 2), 3 and 4 are hard and 6 semi-hard; 5, 7 and 8 are easy for both. Margin $m = 0.5$.

# %%
toy = torch.tensor([[0.0, 0.0], [0.6, 0.3], [-1.0, 0.75],           # class 0: anchor 0, positives 1, 2
                    [0.5, -0.2], [1.0, -0.45], [2.0, 1.0],          # class 1
                    [-0.35, -1.3], [-2.0, -1.0], [1.5, -1.8]],      # class 2
                   dtype=torch.float64)
toy_y = torch.tensor([0, 0, 0, 1, 1, 1, 2, 2, 2])
TOY_MARGIN = 0.5
D_toy, y_list = distance_table(toy), toy_y.tolist()
print("distances from anchor 0:", " ".join(f"{i}:{d:.2f}" for i, d in enumerate(D_toy[0])))

toy_picks = {
    "random": loop_random(y_list, random.Random(3)),
    "batch_hard": loop_batch_hard(D_toy, y_list),
    "semi_hard": loop_semi_hard(D_toy, y_list, TOY_MARGIN),
    "all": loop_all(y_list),
}
for name, triplets in toy_picks.items():
    mine = [t for t in triplets if t[0] == 0]
    print(f"{name:10s} anchor 0 -> {mine if len(mine) <= 4 else f'{len(mine)} triplets (2 positives x 6 negatives)'}")

# %%
TITLES = {"random": "random: one uniform negative per pair",
          "batch_hard": "batch-hard: farthest p, closest n",
          "semi_hard": "semi-hard: closest n in the band",
          "all": "in-batch: every negative"}
markers = ["o", "s", "^"]
fig, axes = plt.subplots(2, 2, figsize=(8.0, 7.4))
for ax, (name, triplets) in zip(axes.flat, toy_picks.items()):
    mine = [t for t in triplets if t[0] == 0]
    if name == "semi_hard":  # the semi-hard band of each positive: d(a,p) < d < d(a,p) + m
        for p, colour in ((1, PALETTE[2]), (2, PALETTE[4])):
            for r in (D_toy[0][p], D_toy[0][p] + TOY_MARGIN):
                ax.add_patch(Circle((0, 0), r, fill=False, ls="--", lw=1, color=colour))
    for a, p, n in mine:
        ax.annotate("", xy=toy[p].tolist(), xytext=(0, 0),
                    arrowprops=dict(arrowstyle="-", color=PALETTE[2], lw=2.5, alpha=0.6))
        ax.annotate("", xy=toy[n].tolist(), xytext=(0, 0),
                    arrowprops=dict(arrowstyle="->", color=PALETTE[1], lw=1.5, alpha=0.8))
    for c in range(3):
        pts = toy[toy_y == c]
        ax.scatter(pts[:, 0], pts[:, 1], s=70, marker=markers[c], color=PALETTE[[0, 3, 5][c]],
                   label=f"class {c}", zorder=3)
    for i, (x, y) in enumerate(toy.tolist()):
        ax.text(x + 0.08, y + 0.08, str(i), fontsize=9)
    ax.scatter([0], [0], s=260, facecolors="none", edgecolors="black", zorder=4)
    ax.set_xlim(-2.4, 2.4)
    ax.set_ylim(-2.2, 1.9)
    ax.set_aspect("equal")
    ax.set_title(f"{TITLES[name]} ({len(mine)} triplets)", fontsize=10)
    ax.set_xlabel("embedding dim 1")
    ax.set_ylabel("embedding dim 2")
axes[0, 0].legend(loc="lower left", fontsize=8)
fig.suptitle("anchor 0 (circled): green lines to its positives, orange arrows to the negatives picked")
plt.show()

# %% [markdown]
# Batch-hard ignores the easy negatives *and* the near positive: anchor 0 gets a single triplet,
# its worst case (2, 3). Semi-hard keeps one triplet per positive, each with a negative inside that
# positive's dashed band — and never negative 3, the closest one, because 3 is nearer than both
# positives (hard, not semi-hard). In-batch uses all 12 triplets, of which only these are active:

# %%
toy_all = tuple(torch.tensor(c) for c in zip(*toy_picks["all"]))
anchor0 = toy_all[0] == 0
print(f"anchor 0, in-batch: {active_fraction(toy, toy_y, *(t[anchor0] for t in toy_all), TOY_MARGIN):.3f} "
      f"of its 12 triplets are active")
assert toy_picks["batch_hard"][0] == (0, 2, 3)
assert [t for t in toy_picks["semi_hard"] if t[0] == 0] == [(0, 1, 4), (0, 2, 6)]

# %% [markdown]
# ## 5. Cross-checks: loops, `utils.miners` and pytorch-metric-learning
#
# On the toy batch and on a random batch (40 Gaussian points in 8-D, 8 classes × 5, float64),
# the loops must return **the same sets** as `utils.miners.mine_triplets`, and the same selected
# distances as PML configured as in ORACLES.md:
#
# - `BatchHardMiner(distance=LpDistance(normalize_embeddings=False))` (PML normalises by default);
# - `TripletMarginMiner(margin, type_of_triplets="semihard", ...)` returns **all** semi-hard triplets
#   ($0 < d_{an} - d_{ap} \le m$), not the closest per pair: compare it with the loop's full band,
#   then check that `utils`' pick is the closest of PML's triplets for every pair;
# - `lmu.get_all_triplets_indices(labels)` for in-batch.

# %%
gen = torch.Generator().manual_seed(0)
rand_emb = torch.randn(40, 8, generator=gen, dtype=torch.float64)
rand_y = torch.arange(40) % 8
no_norm = LpDistance(normalize_embeddings=False)

for emb, y, margin in ((toy, toy_y, TOY_MARGIN), (rand_emb, rand_y, 1.0)):
    D, ys = distance_table(emb), y.tolist()
    dist = torch.tensor(D, dtype=torch.float64)
    # batch-hard: loop == utils == PML, and the selected distances agree
    ours_bh = mine_triplets(emb, y, strategy="batch_hard")
    pml_bh = BatchHardMiner(distance=no_norm)(emb, y)
    assert as_set(loop_batch_hard(D, ys)) == as_set(ours_bh) == as_set(pml_bh)
    assert_close(dist[ours_bh[0], ours_bh[1]], dist[pml_bh[0], pml_bh[1]])
    assert_close(dist[ours_bh[0], ours_bh[2]], dist[pml_bh[0], pml_bh[2]])
    # semi-hard: loop == utils; PML returns the whole band, of which utils takes the closest
    ours_sh = mine_triplets(emb, y, strategy="semi_hard", margin=margin)
    pml_sh = TripletMarginMiner(margin=margin, type_of_triplets="semihard", distance=no_norm)(emb, y)
    assert as_set(loop_semi_hard(D, ys, margin)) == as_set(ours_sh)
    assert as_set(loop_semi_hard(D, ys, margin, closest_only=False)) == as_set(pml_sh)
    closest = {}
    for a, p, n in zip(*(t.tolist() for t in pml_sh)):
        closest[(a, p)] = min(closest.get((a, p), float("inf")), D[a][n])
    assert set(closest) == {(a, p) for a, p, _ in as_set(ours_sh)}
    assert_close(torch.tensor([closest[(a, p)] for a, p in zip(ours_sh[0].tolist(), ours_sh[1].tolist())],
                              dtype=torch.float64), dist[ours_sh[0], ours_sh[2]])
    # in-batch: loop == utils == PML
    assert as_set(loop_all(ys)) == as_set(mine_triplets(emb, y, strategy="all")) == as_set(
        lmu.get_all_triplets_indices(y))
    print(f"N={len(ys):2d}: batch-hard {len(ours_bh[0])} triplets, semi-hard {len(ours_sh[0])} "
          f"(PML semihard: {len(pml_sh[0])}, the whole band), in-batch {len(loop_all(ys))}: all agree")

# %% [markdown]
# The random miner has no PML equivalent (and draws from its own generator, so the loop cannot
# match it draw for draw). Check what it promises instead: one valid negative per (anchor,
# positive) pair, drawn uniformly — over 600 draws on the toy batch each of anchor 0's six
# negatives should come up about 100 times for the pair (0, 1).

# %%
gen = torch.Generator().manual_seed(1)
counts = torch.zeros(9, dtype=torch.int64)
for _ in range(600):
    a, p, n = mine_triplets(toy, toy_y, strategy="random", generator=gen)
    assert as_set((a, p)) == {(i, j) for i, j, _ in loop_all(y_list)}  # every pair exactly once
    assert bool((toy_y[n] != toy_y[a]).all())                       # negatives are valid
    counts += torch.bincount(n[(a == 0) & (p == 1)], minlength=9)
print("picks of each negative for the pair (0, 1):", {i: int(counts[i]) for i in range(3, 9)})
assert counts[:3].sum() == 0 and all(70 <= int(c) <= 130 for c in counts[3:])

# %% [markdown]
# Finally the loss. The mean over the mined triplets (`utils.mining_experiments.mined_triplet_loss`)
# must equal Hermans et al.'s batch-hard formula of step 3 written with masked max/min, the book's
# `utils.triplet_margin_loss` on the mined triplets, and PML's `TripletMarginLoss` fed PML's miner
# (with `MeanReducer` and unnormalised distances, ORACLES.md).

# %%
ours_loss, triplets, _ = mined_triplet_loss(rand_emb, rand_y, strategy="batch_hard", margin=1.0)
dist = torch.cdist(rand_emb, rand_emb)
same = rand_y.unsqueeze(0) == rand_y.unsqueeze(1)
hermans = torch.clamp(dist.masked_fill(~same, -torch.inf).max(dim=1).values
                      - dist.masked_fill(same, torch.inf).min(dim=1).values + 1.0, min=0).mean()
a, p, n = triplets
pml_loss = TripletMarginLoss(margin=1.0, distance=no_norm, reducer=MeanReducer())(
    rand_emb, rand_y, indices_tuple=BatchHardMiner(distance=no_norm)(rand_emb, rand_y))
assert_close(ours_loss, hermans)
assert_close(ours_loss, utils.triplet_margin_loss(rand_emb[a], rand_emb[p], rand_emb[n], margin=1.0))
assert_close(ours_loss, pml_loss)
print(f"batch-hard loss: ours {ours_loss:.6f}   Hermans formula {hermans:.6f}   PML {pml_loss:.6f}")

# %% [markdown]
# ## 6. The mined loss against $d(a,p) - d(a,n)$
#
# One anchor at 0 on a line, its positive at distance 1, a fixed negative $n_2$ at distance 1.3, and
# a moving negative $n_1$ at distance $1 - \delta$, so $\delta = d(a,p) - d(a,n_1)$ is the margin
# variable of $n_1$. Margin $m = 0.5$. For each $\delta$ the miner runs on the 4-point batch and the
# anchor's loss is `utils.triplet_margin_loss` on what it picked, differentiated by autograd:
#
# - **in-batch**: $\tfrac12[\max(0, \delta + m) + \max(0, -0.3 + m)]$, slope $\tfrac12$ once $n_1$ is active;
# - **batch-hard**: $n_1$ is chosen only when it is the closest negative ($\delta > -0.3$), slope 1;
#   otherwise $n_2$ is chosen and $n_1$ gets no gradient at all;
# - **semi-hard**: $n_1$ is chosen only while it is the closest negative *inside the band*
#   ($-0.3 < \delta < 0$); once it is closer than the positive ($\delta \ge 0$, a hard negative)
#   semi-hard drops it and falls back to $n_2$: the loss **jumps down** from $m$ to $0.2$.

# %%
CURVE_MARGIN = 0.5
line_labels = torch.tensor([0, 0, 1, 1])


def anchor_loss(strategy):
    def loss(delta):
        values = []
        for d in delta:  # one 4-point batch per grid point: anchor, positive, n1, n2
            emb = torch.stack([d * 0, d * 0 + 1.0, 1.0 - d, d * 0 + 1.3]).unsqueeze(1)
            a, p, n = mine_triplets(emb, line_labels, strategy=strategy, margin=CURVE_MARGIN)
            keep = a == 0
            values.append(utils.triplet_margin_loss(emb[a[keep]], emb[p[keep]], emb[n[keep]],
                                                    margin=CURVE_MARGIN))
        return torch.stack(values)
    return loss


delta = torch.linspace(-1.0, 0.9, 96, dtype=torch.float64)
curve = plot_loss_and_gradient(
    {"in-batch (mean of 2)": anchor_loss("all"), "batch-hard": anchor_loss("batch_hard"),
     "semi-hard": anchor_loss("semi_hard")},
    {"in-batch (mean of 2)": lambda d: 0.5 * (d > -CURVE_MARGIN).double(),
     "batch-hard": lambda d: (d > -0.3).double(),
     "semi-hard": lambda d: ((d > -0.3) & (d < 0)).double()},
    x=delta, xlabel="δ = d(a,p) − d(a,n₁)  (distance units)", kinks=(-0.5, -0.3, 0.0),
    title="loss of one anchor as negative n₁ approaches: which miner lets n₁ receive gradient",
)
plt.show()
print({k: f"{v:.1e}" for k, v in curve.max_gradient_gap.items()})
assert max(curve.max_gradient_gap.values()) < 1e-12

# %% [markdown]
# Batch-hard gives $n_1$ gradient exactly when it is the hardest negative, however hard; semi-hard
# stops the moment $n_1$ becomes hard. That blind spot is deliberate (FaceNet: hard negatives
# "can in practice lead to bad local minima early on in training ... a collapsed model"), and it is
# what sections 8 and 9 measure.

# %% [markdown]
# ## 7. Speed: loops, `utils.miners` and PML at N = 256
#
# A PK batch of 64 classes × 4 Gaussian points in 128-D (`utils.bench.pk_batch`). The loops include
# the distance table; they run once (they are slow), the others take the median of 5 runs. Times on
# a shared machine vary; `python -m utils.bench` runs the full benchmark (N = 256, 1024, 4096,
# memory included).

# %%
x256, y256 = pk_batch(256)
D256, y256_list = distance_table(x256), y256.tolist()
assert as_set(loop_batch_hard(D256, y256_list)) == as_set(mine_triplets(x256, y256, strategy="batch_hard"))


def median_time(fn, repeats=5):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


pml_hard = BatchHardMiner(distance=no_norm)
pml_semi = TripletMarginMiner(margin=0.2, type_of_triplets="semihard", distance=no_norm)
timings = {
    "batch-hard": (median_time(lambda: loop_batch_hard(distance_table(x256), y256_list), 1),
                   median_time(lambda: mine_triplets(x256, y256, strategy="batch_hard")),
                   median_time(lambda: pml_hard(x256, y256))),
    "semi-hard": (median_time(lambda: loop_semi_hard(distance_table(x256), y256_list, 0.2), 1),
                  median_time(lambda: mine_triplets(x256, y256, strategy="semi_hard", margin=0.2)),
                  median_time(lambda: pml_semi(x256, y256))),
}
for name, (loop_t, ours_t, pml_t) in timings.items():
    print(f"{name}: Python loop {loop_t * 1e3:.1f} ms | utils.miners {ours_t * 1e3:.2f} ms | "
          f"PML {pml_t * 1e3:.2f} ms")
    print(f"    the loop takes {loop_t / ours_t:.1f}× the time of utils.miners; "
          f"PML takes {pml_t / ours_t:.1f}× the time")

# %% [markdown]
# No timing is asserted (they depend on the machine and its load); what we saw when this notebook
# was built, on one thread: the loops are a few times slower than `utils.miners` at this size, and
# slower still as N grows (the semi-hard loop is $O(N^2 K)$ Python steps). For **semi-hard**,
# `utils.miners` is several times faster than PML, whose miner first builds every triplet of the
# batch ($N (K-1)(N-K) \approx$ 190,000 here) and then filters, while `utils.miners` works on the
# $(N, N)$ distance matrix with masks. For **batch-hard**, both compute one distance matrix and a masked
# max/min; `utils.miners` asks `utils.distances` for its no-gradient fast path (one float64 matrix
# product, within 1 ulp of the exact float32 distance — the float32 Gram-matrix shortcut goes negative,
# ORACLES.md pitfalls), and is on par with PML or faster.

# %% [markdown]
# ## 8. Experiments on handwritten digits
#
# Same network and data for every strategy: `EmbeddingNet` 64 → 128 → 128 → 16, outputs
# L2-normalised (unit sphere, distances in $[0, 2]$), Euclidean distance, FaceNet's margin
# $m = 0.2$, Adam with learning rate $10^{-3}$, PK batches of 10 digits × 4 images, 80 steps, the
# same initial weights and the same batches for every strategy
# (`utils.mining_experiments.train_with_miner`). Every 5 steps, on the 540 **test** images:
# leave-one-out Recall@1 (`utils.retrieval`'s definition) and the mean pairwise distance (0 if the
# embedding collapses to a point).

# %%
data = digits()
STRATEGIES = ["random", "batch_hard", "semi_hard", "all"]
NAMES = {"random": "random", "batch_hard": "batch-hard", "semi_hard": "semi-hard", "all": "in-batch"}
COLOURS = dict(zip(STRATEGIES, PALETTE))  # one colour per strategy in every figure
SETUP = dict(margin=0.2, steps=80, classes_per_batch=10, samples_per_class=4, lr=1e-3,
             out_features=16, normalize=True, seed=0)
runs = {s: train_with_miner(data.X_train, data.y_train, strategy=s, eval_X=data.X_test,
                            eval_y=data.y_test, eval_every=5, **SETUP).history for s in STRATEGIES}


def mean(values):
    return sum(values) / len(values)


def smooth(values, width=5):
    return [mean(values[max(0, i - width + 1): i + 1]) for i in range(len(values))]


# %% [markdown]
# ### 8.1 Easy negatives give zero loss and little signal
#
# Claim 6 of ORACLES.md: "the fraction of active triplets shows it". Per step, the share of the
# mined triplets with a positive loss, and the norm of the gradient of the batch loss with respect to
# all the network's weights.

# %%
fig, (ax_a, ax_g) = plt.subplots(1, 2)
for s in STRATEGIES:
    ax_a.plot(smooth(runs[s]["active_fraction"]), color=COLOURS[s], label=NAMES[s])
    ax_g.plot(smooth(runs[s]["grad_norm"]), color=COLOURS[s], label=NAMES[s])
ax_a.set_ylabel("active fraction of mined triplets")
ax_g.set_ylabel("gradient norm (all weights)")
ax_g.set_yscale("log")
for ax in (ax_a, ax_g):
    ax.set_xlabel("training step")
ax_a.legend()
fig.suptitle("random and in-batch triplets go inactive within tens of steps; mined ones stay active "
             "(5-step moving average)")
plt.show()

print(f"{'strategy':11s} {'active: steps 1-10':>18s} {'steps 61-80':>12s} {'|grad|: 1-10':>13s} "
      f"{'61-80':>7s} {'triplets/batch 61-80':>21s}")
for s in STRATEGIES:
    h = runs[s]
    print(f"{NAMES[s]:11s} {mean(h['active_fraction'][:10]):18.3f} {mean(h['active_fraction'][-20:]):12.3f} "
          f"{mean(h['grad_norm'][:10]):13.3f} {mean(h['grad_norm'][-20:]):7.3f} {mean(h['num_triplets'][-20:]):21.1f}")

late = {s: mean(runs[s]["active_fraction"][-20:]) for s in STRATEGIES}
assert late["random"] < 0.1 and late["random"] < mean(runs["random"]["active_fraction"][:10]) / 3
assert late["batch_hard"] > 5 * late["random"] and late["semi_hard"] > 0.95
assert mean(runs["random"]["grad_norm"][-20:]) < mean(runs["batch_hard"]["grad_norm"][-20:]) / 2


# %% [markdown]
# Confirmed. With random negatives, about a third of the triplets are active in the first steps and
# only a few percent by the end; the gradient norm falls by a factor of about four with them. The
# in-batch strategy behaves the same way: it *contains* the hard triplets, but the plain mean over
# all of them is dominated by easy ones. Batch-hard triplets are still mostly active at the end.
# Semi-hard triplets are active by construction (loss in $(0, m)$), but the band empties as the
# classes separate: fewer triplets per batch (last column), and a larger gradient per triplet since
# the mean is taken over fewer of them.

# %% [markdown]
# ### 8.2 The hardest negatives from the first step: instability or collapse?
#
# Claim 7: "The hardest negatives, early in training, can destabilise or collapse training;
# semi-hard is gentler." Recall@1 and the mean pairwise distance of the test embeddings, for the
# runs above.

# %%
def plot_recall_and_spread(histories, title, suffix=""):
    fig, (ax_r, ax_d) = plt.subplots(1, 2)
    for s, h in histories.items():
        name, colour = NAMES[s] + suffix, COLOURS[s]
        ax_r.plot(h["eval_step"], h["recall_at_1"], "o-", ms=3, color=colour, label=name)
        ax_d.plot(h["eval_step"], h["mean_distance"], "o-", ms=3, color=colour, label=name)
    ax_r.set_ylabel("test Recall@1")
    ax_d.set_ylabel("mean pairwise distance (test)")
    for ax in (ax_r, ax_d):
        ax.set_xlabel("training step")
    ax_d.legend()
    fig.suptitle(title)
    plt.show()


plot_recall_and_spread(runs,
                       "unit sphere, Euclidean distance, m = 0.2: batch-hard first contracts the embedding, then recovers")
start = runs["batch_hard"]["mean_distance"][0]
print(f"{'strategy':11s} {'R@1 step 5':>10s} {'step 80':>8s} {'min mean dist (step)':>21s} {'step 80':>8s}"
      f"   (untrained: R@1 {runs['random']['recall_at_1'][0]:.3f}, mean dist {start:.3f})")
for s in STRATEGIES:
    h = runs[s]
    k = min(range(len(h["mean_distance"])), key=h["mean_distance"].__getitem__)
    print(f"{NAMES[s]:11s} {h['recall_at_1'][1]:10.3f} {h['recall_at_1'][-1]:8.3f} "
          f"{h['mean_distance'][k]:14.3f} ({h['eval_step'][k]:2d}) {h['mean_distance'][-1]:8.3f}")

bh, sh = runs["batch_hard"], runs["semi_hard"]
assert min(bh["mean_distance"]) < 0.6 * start < start < min(sh["mean_distance"][1:])
assert bh["recall_at_1"][1] < sh["recall_at_1"][1]
assert abs(bh["recall_at_1"][-1] - sh["recall_at_1"][-1]) < 0.03  # no lasting damage in this setting

# %% [markdown]
# What we measured, honestly: in this setting the hardest negatives **destabilise but do not
# collapse** training. Batch-hard halves the mean pairwise distance of the test embeddings in its
# first twenty steps (the contraction of step 4 in the derivation) while every other strategy spreads
# them out at once; its Recall@1 is the lowest at step 5, then the embedding re-expands and
# Recall@1 ends within about 0.01 of semi-hard's after 80 steps. That agrees with Hermans et al.
# 2017, who found batch-hard works well when batches are PK batches (as here) — the collapse FaceNet
# reported is not inevitable.
#
# **When does it collapse?** Step 4 says the pull towards a point is strongest when the loss of a
# hard triplet gets no counterweight. FaceNet's own form of the loss uses **squared** distances on
# the unit sphere; their gradient ($2(a-p)$, notebook 07) vanishes as points approach, so once the
# embedding has contracted, nothing pushes it apart again. Same network and data, squared Euclidean
# distance, a larger step (learning rate $10^{-2}$) and larger batches (10 × 8, so harder hardest
# negatives):

# %%
COLLAPSE = dict(SETUP, metric="squared_euclidean", lr=1e-2, samples_per_class=8)
collapse_runs = {s: train_with_miner(data.X_train, data.y_train, strategy=s, eval_X=data.X_test,
                                     eval_y=data.y_test, eval_every=5, **COLLAPSE).history
                 for s in ("batch_hard", "semi_hard")}
plot_recall_and_spread(collapse_runs, "squared distances, lr 1e-2, 10 × 8 batches: batch-hard collapses, "
                       "semi-hard does not", suffix=", squared")
for s, h in collapse_runs.items():
    print(f"{NAMES[s]:11s} mean dist: step 0 {h['mean_distance'][0]:.3f} -> step 80 {h['mean_distance'][-1]:.3f}; "
          f"batch loss over the last 20 steps {mean(h['loss'][-20:]):.4f} (m = 0.2); "
          f"R@1 step 80 {h['recall_at_1'][-1]:.3f}")

bh_c, sh_c = collapse_runs["batch_hard"], collapse_runs["semi_hard"]
assert bh_c["mean_distance"][-1] < 0.1 * bh_c["mean_distance"][0]   # collapsed ...
assert abs(mean(bh_c["loss"][-20:]) - 0.2) < 0.01                   # ... the loss is stuck at m
assert sh_c["mean_distance"][-1] > bh_c["mean_distance"][0]          # semi-hard spreads out
assert sh_c["recall_at_1"][-1] > bh_c["recall_at_1"][-1] + 0.03

# %% [markdown]
# Here batch-hard does collapse: within ten steps the test embeddings are squeezed into a tiny cap
# of the sphere (mean distance divided by about thirty) and the batch loss sits at $m = 0.2$, the
# value every triplet has when all distances are 0 — the signature of step 4. Semi-hard, with the
# same settings, trains normally. Note that Recall@1 of the collapsed model is still far above chance
# (about 0.1 for 10 digits): the points are squeezed together, not scrambled, and nearest-neighbour
# ranking survives shrinking; a retrieval metric alone can hide a collapse that the mean distance
# (or the loss pinned at $m$) shows at once.

# %% [markdown]
# ### 8.3 Aggressive mining amplifies label noise
#
# Claim 8. Flip 20 % of the **training** labels to a random other digit
# (`utils.mining_experiments.flip_labels`) and train each strategy again with the setup of 8.1; the
# test labels stay clean. Two measurements: how much test Recall@1 drops compared with clean labels,
# and how often the mined triplets involve a flipped example. A miner blind to the labels' quality
# would touch one in a triplet of three members with probability $1 - (1 - q)^3$, where $q$ is the
# share of flipped examples in the batch.

# %%
noisy_y, flipped = flip_labels(data.y_train, 0.2, generator=torch.Generator().manual_seed(0))
noisy_runs = {s: train_with_miner(data.X_train, noisy_y, strategy=s, flipped=flipped, eval_X=data.X_test,
                                  eval_y=data.y_test, eval_every=SETUP["steps"], **SETUP).history
              for s in STRATEGIES}
q = mean(noisy_runs["random"]["noisy_in_batch"])
print(f"flipped labels: {int(flipped.sum())} of {flipped.numel()}; share per batch q = {q:.3f}, "
      f"chance of a flipped member in a triplet 1 - (1 - q)^3 = {1 - (1 - q) ** 3:.3f}\n")
print(f"{'strategy':11s} {'R@1 clean':>9s} {'noisy':>6s} {'drop':>6s}   {'triplets with':>13s} "
      f"{'positive':>8s} {'negative':>8s}   {'noisy part of':>13s}")
print(f"{'':11s} {'':>9s} {'':>6s} {'':>6s}   {'flipped member':>13s} {'flipped':>8s} {'flipped':>8s}"
      f"   {'batch loss':>13s}")
drops = {}
for s in STRATEGIES:
    clean_r1, noisy_h = runs[s]["recall_at_1"][-1], noisy_runs[s]
    drops[s] = clean_r1 - noisy_h["recall_at_1"][-1]
    noisy_part = mean([lo * sh for lo, sh in zip(noisy_h["loss"], noisy_h["noisy_loss_share"])])
    print(f"{NAMES[s]:11s} {clean_r1:9.3f} {noisy_h['recall_at_1'][-1]:6.3f} {drops[s]:6.3f}   "
          f"{mean(noisy_h['noisy_share']):13.3f} {mean(noisy_h['noisy_positive_share']):8.3f} "
          f"{mean(noisy_h['noisy_negative_share']):8.3f}   {noisy_part:13.4f}")

share = {s: mean(noisy_runs[s]["noisy_share"]) for s in STRATEGIES}
others = max(drops[s] for s in STRATEGIES if s != "batch_hard")
assert drops["batch_hard"] > 0.1 and drops["batch_hard"] > 3 * others
assert abs(share["random"] - (1 - (1 - q) ** 3)) < 0.03 and abs(share["all"] - (1 - (1 - q) ** 3)) < 0.03
assert share["batch_hard"] > share["random"] + 0.1 and share["semi_hard"] > share["random"] + 0.1

# %%
fig, (ax_r, ax_s) = plt.subplots(1, 2)
xs = torch.arange(len(STRATEGIES)).float()
ax_r.bar(xs - 0.2, [runs[s]["recall_at_1"][-1] for s in STRATEGIES], 0.4, label="clean labels")
ax_r.bar(xs + 0.2, [noisy_runs[s]["recall_at_1"][-1] for s in STRATEGIES], 0.4, label="20 % flipped")
ax_r.set_ylim(0.5, 1.1)
ax_r.set_ylabel("test Recall@1 after 80 steps")
ax_r.legend(loc="upper center", ncol=2)
ax_s.bar(xs, [share[s] for s in STRATEGIES], 0.5, color=[COLOURS[s] for s in STRATEGIES])
ax_s.set_ylim(0, 0.9)
ax_s.axhline(1 - (1 - q) ** 3, color="black", ls="--", lw=1, label="chance: 1 − (1 − q)³")
ax_s.set_ylabel("mined triplets with a flipped member")
ax_s.legend(loc="upper left")
for ax in (ax_r, ax_s):
    ax.set_xticks(xs.tolist(), [NAMES[s] for s in STRATEGIES])
fig.suptitle("20 % label noise: both hard miners over-select flipped examples; only batch-hard loses accuracy")
plt.show()

# %% [markdown]
# Confirmed for batch-hard, with a nuance. With 20 % of the training labels flipped, random and
# in-batch triplets lose about 0.03 of test Recall@1 and touch a flipped example exactly as often
# as chance predicts. Batch-hard loses about 0.2 of Recall@1: it picks a flipped positive or negative
# in about a third of its triplets (against 0.2 at random) — a mislabeled image sits far from its
# nominal class (the "hardest positive") and close to another class's anchors (the "hardest
# negative") — and it builds each anchor's whole loss on that single most extreme triplet, which
# label noise keeps unsatisfiable. The last column (mean over steps of the batch loss carried by
# triplets with a flipped member) is about twice as large for batch-hard as for random or in-batch
# triplets.
#
# The nuance: **semi-hard mining over-selects flipped examples as much as batch-hard does, yet its
# Recall@1 hardly moves** in this run. Selecting noisy triplets is not enough to hurt; what differs
# is what the loss does with them (a semi-hard triplet's loss is below $m$, its negative is never
# closer than its positive, and every positive of the anchor keeps contributing). We measured this
# on one seed, one noise level and 80 steps; the section's "aggressive mining" is best read as
# "the hardest-example mining".

# %% [markdown]
# ## Takeaways
#
# - A negative beyond $d(a,p) + m$ gives exactly zero loss and gradient. Random (and plainly averaged
#   in-batch) triplets become almost all easy within tens of steps: the active fraction and the
#   gradient norm fall together.
# - Batch-hard (hardest positive, closest negative per anchor; Hermans et al. 2017) keeps the signal
#   alive; semi-hard (FaceNet) keeps only negatives with $d(a,p) < d(a,n) < d(a,p) + m$ and ignores
#   hard ones by design.
# - Scaling the embedding lowers the loss of any hard triplet, so the hardest negatives pull towards
#   a collapsed embedding where the loss is $m$; semi-hard triplets cannot. Measured: with plain
#   distances on the unit sphere batch-hard only contracts, then recovers; with FaceNet's squared
#   distances and a larger step it collapses (loss stuck at $m$), while semi-hard trains normally.
# - With 20 % flipped labels, batch-hard lost about 0.2 of test Recall@1, the other strategies at
#   most a few hundredths, although semi-hard picks flipped examples just as often.
# - Vectorised miners are orders of magnitude faster than loops and faster than PML's; PML's semi-hard
#   miner returns every semi-hard triplet, not one per pair: configure and read oracles carefully.
#
# Exercises: `exercises/10_hard_negative_mining.ipynb`.
