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
# # 02 · Hinge loss
#
# *Follows the sections "Hinge Loss" and "Hinge Loss in PyTorch" of the chapter "Margin-Based Losses".*
#
# Notebook 01 split the margin axis $ys$ into three regions (wrong, inside the margin, margin
# satisfied) and showed that counting them gives no gradient. The hinge loss turns the requirement
# $ys \ge 1$ into a loss a gradient method can minimise.
#
# **What you will learn**
#
# - the hinge loss $L = \max(0, 1 - ys)$, which examples it focuses on, and the chapter's two PyTorch
#   snippets, run as printed (and why no sigmoid is needed);
# - a from-scratch implementation checked against `utils.hinge_loss` and **four** independent
#   references from PyTorch and scikit-learn (and why `HingeEmbeddingLoss` on its own is *not* this loss);
# - on real data: hinge loss with weight decay $\lambda$ is (nearly) a linear SVM, compared with
#   scikit-learn's `LinearSVC` and `SGDClassifier`, with the exact map between $\lambda$ and `C`;
# - which training examples still receive gradient as you drag the margin (a slider, section 5);
# - the label pitfall: PyTorch's margin losses silently accept $\{0, 1\}$ labels and return wrong numbers.

# %%
import math

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F
from sklearn.linear_model import SGDClassifier
from sklearn.metrics import hinge_loss as sk_hinge_loss
from sklearn.svm import LinearSVC
from torch import nn
from torch.testing import assert_close

import utils
from utils.data import breast_cancer
from utils.interactive import explore
from utils.plotting import PALETTE, plot_loss_and_gradient
from utils.reproducibility import seed_everything
from utils.training import LinearScorer, accuracy, fit

seed_everything(0)  # seeds Python, NumPy and torch; torch runs on one thread (bit-identical sums)
MARGIN = 1.0  # the required margin ys >= MARGIN of the loss figure and the slider; change it and re-run

# %% [markdown]
# ## 1. From the margin requirement to a loss
#
# We want $ys \ge 1$. Measure how far an example falls short of it: the **margin violation**
# $1 - ys$, positive when the requirement fails and negative when it holds with room to spare. Only
# shortfalls should cost anything, so clip the negative values to zero:
#
# $$ L = \max(0,\; 1 - ys) = \begin{cases} 0, & ys \ge 1 \text{ (correct with margin: nothing to say)}, \\
# 1 - ys, & ys < 1 \text{ (misclassified, } L > 1\text{, or correct by too little, } 0 < L \le 1).
# \end{cases} $$
#
# It is **piecewise linear** in the margin, with two consequences the notebook measures. The objective
# **focuses on examples near the decision boundary or on the wrong side of it**: every example with
# $ys \ge 1$ contributes exactly $0$, however many there are. And the cost grows linearly with the
# violation: one example with $ys = -3$ costs $4$, as much as eight with $ys = 0.5$. (Since $L \ge 1$
# whenever $ys \le 0$, the hinge bounds the 0-1 error of notebook 01 from above.)

# %% [markdown]
# ## 2. Hinge loss in PyTorch: the chapter's snippets
#
# "PyTorch does not require a special module to implement basic hinge loss." The chapter's first
# snippet, as printed:

# %%
import torch

scores = torch.tensor([2.0, 0.3, -0.5, -2.0])
targets = torch.tensor([1.0, 1.0, -1.0, -1.0])

loss = torch.clamp(1.0 - targets * scores, min=0.0).mean()

print(loss)

# %% [markdown]
# By hand: the margins are $ys = (2.0,\ 0.3,\ 0.5,\ 2.0)$, the per-example losses $(0,\ 0.7,\ 0.5,\ 0)$,
# the mean $0.3$: the two examples inside the margin carry the whole loss. `scores` are raw model
# outputs; the targets are $-1$ and $+1$, not $0$ and $1$.

# %%
per_example = torch.clamp(1.0 - targets * scores, min=0.0)
print("margins ys:", [round(v, 2) for v in (targets * scores).tolist()], " per example:",
      [round(v, 2) for v in per_example.tolist()])
assert_close(per_example, torch.tensor([0.0, 0.7, 0.5, 0.0]))

# %% [markdown]
# The second snippet: a network produces the scores directly, and labels stored as $\{0, 1\}$ are
# converted to $\{-1, +1\}$ first (as printed in the chapter):

# %%
import torch
import torch.nn as nn

model = nn.Sequential(
    nn.Linear(10, 32),
    nn.ReLU(),
    nn.Linear(32, 1),
)

x = torch.randn(64, 10)
y = torch.randint(0, 2, (64,)).float()
y = 2 * y - 1  # convert {0, 1} to {-1, +1}

scores = model(x).squeeze(-1)

loss = torch.clamp(1.0 - y * scores, min=0.0).mean()

# %% [markdown]
# The last layer is `nn.Linear(32, 1)` with nothing after it, so `scores` is any real number (`squeeze(-1)`
# turns shape $(64, 1)$ into $(64,)$). The loss is differentiable almost everywhere and trains as usual:

# %%
print(f"labels: {sorted(set(y.tolist()))}, scores shape {tuple(scores.shape)}, "
      f"range [{scores.min():.3f}, {scores.max():.3f}], loss {loss.item():.3f}")
loss.backward()
print("every parameter received a gradient:", all(p.grad is not None for p in model.parameters()))
assert_close(loss, utils.hinge_loss(scores, y))

# %% [markdown]
# **"The model output is a score, not a probability. No sigmoid is needed."** A sigmoid would break the
# loss: it squashes the output into $(0, 1)$, so for $y = +1$ the margin $y\,\sigma(s) < 1$ never reaches
# $1$, and for $y = -1$ it is always negative. The zero-loss region $ys \ge 1$ needs raw scores.

# %%
s_grid = torch.linspace(-20.0, 20.0, 4001, dtype=torch.float64)
for label in (+1.0, -1.0):
    with_sigmoid = torch.clamp(1.0 - label * torch.sigmoid(s_grid), min=0.0)
    raw = torch.clamp(1.0 - label * s_grid, min=0.0)
    print(f"y = {label:+.0f}: smallest hinge loss over s in [-20, 20]: raw score {raw.min():.1e}, "
          f"sigmoid(score) {with_sigmoid.min():.1e}")
    assert raw.min() == 0 and with_sigmoid.min() >= (1 if label < 0 else 1e-12)  # y=-1: always ys < 0


# %% [markdown]
# ## 3. From scratch, and cross-checked against `utils` and four independent references
#
# The from-scratch version, with the margin as a parameter and torch-style reductions:

# %%
def hinge_loss_scratch(scores, targets, margin=1.0, reduction="mean"):
    """max(0, margin - y * s) for scores (N,) and targets (N,) in {-1, +1}; reduction 'none'|'mean'|'sum'."""
    per_example = torch.clamp(margin - targets * scores, min=0.0)
    if reduction == "none":
        return per_example
    return per_example.mean() if reduction == "mean" else per_example.sum()


# %% [markdown]
# The book's `utils.hinge_loss` (used from here on) and four independent references, each an identity
# worth reading once (every loss's references: [references](../REFERENCES.md#oracles)):
#
# 1. `F.margin_ranking_loss(s, 0, y, margin=1)` computes $\max(0, -y(s - 0) + 1)$: the hinge, with the
#    "other" score fixed at $0$;
# 2. `F.hinge_embedding_loss(y*s, -1, margin=1)`: for target $-1$ it computes $\max(0, 1 - \text{input})$,
#    so feeding it the margin $ys$ as input gives the hinge;
# 3. `2 * F.multi_margin_loss([0, s], (y+1)/2)`: with two classes whose scores are $0$ and $s$ the
#    multiclass margin is $\max(0, 1 - (s_c - s_{\text{other}})) = \max(0, 1 - ys)$; torch divides by
#    the number of classes $C = 2$, hence the factor $2$;
# 4. `sklearn.metrics.hinge_loss(y, s)`, the batch **mean** only.
#
# We check them on 1000 random scores in float64 (the book's test suite also checks this function's
# reductions, other margins and gradients).

# %%
N = 1000
s = 3 * torch.randn(N, dtype=torch.float64)
y_pm = torch.where(torch.rand(N) < 0.5, -1.0, 1.0).to(torch.float64)
ours = hinge_loss_scratch(s, y_pm, reduction="none")
ones_n, zeros_n = torch.ones_like(s), torch.zeros_like(s)
references = {
    "utils.hinge_loss": utils.hinge_loss(s, y_pm, reduction="none"),
    "F.margin_ranking_loss(s, 0, y)": F.margin_ranking_loss(s, zeros_n, y_pm, margin=1.0, reduction="none"),
    "F.hinge_embedding_loss(y*s, -1)": F.hinge_embedding_loss(y_pm * s, -ones_n, margin=1.0,
                                                              reduction="none"),
    "2*F.multi_margin_loss([0, s])": 2 * F.multi_margin_loss(
        torch.stack([zeros_n, s], dim=1), ((y_pm + 1) // 2).long(), reduction="none"),
}
for name, value in references.items():
    assert_close(ours, value, rtol=0, atol=1e-12)
    print(f"{name:<34} per example: max |difference| < 1e-12")
sk_mean = torch.tensor(sk_hinge_loss(y_pm.numpy(), s.numpy()), dtype=torch.float64)
assert_close(hinge_loss_scratch(s, y_pm), sk_mean, rtol=1e-12, atol=0)
print(f"{'sklearn.metrics.hinge_loss':<34} batch mean:  relative difference < 1e-12")

# %% [markdown]
# **`HingeEmbeddingLoss` on its own is not the SVM hinge.** Its name invites
# `F.hinge_embedding_loss(scores, targets)`, but it is a loss for *distances*: for target $+1$ it returns
# the input itself, unclamped (small distances are good), and for target $-1$ it returns
# $\max(0, \text{margin} - \text{input})$. On the chapter's four scores it disagrees with the hinge for
# every example, and for a positive example with a negative score it is even negative:

# %%
s4 = torch.tensor([2.0, 0.3, -0.5, -2.0], dtype=torch.float64)
y4 = torch.tensor([1.0, 1.0, -1.0, -1.0], dtype=torch.float64)
naive = F.hinge_embedding_loss(s4, y4, margin=1.0, reduction="none")
right = hinge_loss_scratch(s4, y4, reduction="none")
print("the four scores: hinge max(0, 1-ys):", right.tolist(), "  hinge_embedding_loss(s, y):", naive.tolist())
assert not torch.isclose(naive, right).any()
negative = F.hinge_embedding_loss(torch.tensor([-2.0]), torch.tensor([1.0])).item()
print(f"hinge_embedding_loss(s=-2, y=+1) = {negative:.2f}  (the hinge would be 3.00)")
assert negative < 0

# %% [markdown]
# ## 4. Loss and gradient against the margin
#
# As a function of the margin $u = ys$, $L(u) = \max(0, m - u)$ has slope $-1$ for $u < m$ and $0$ for
# $u > m$, with a kink at the required margin $u = m$ (`MARGIN`, the chapter's $m = 1$ unless you change
# it). With respect to the score itself, the chain rule gives $\partial L/\partial s = y \cdot L'(ys)$,
# i.e. $-y$ or $0$: the subject of notebook 03. Autograd's dots lie on the analytic line everywhere
# except at the kink, which the comparison excludes. The 0-1 error is drawn for comparison: for a margin
# of at least 1 the hinge lies on or above it.

# %%
HINGE, ZERO_ONE = f"hinge $\\max(0, {MARGIN:g}-ys)$", "0-1 error $1[ys<0]$"
plot = plot_loss_and_gradient(
    {
        HINGE: lambda u: hinge_loss_scratch(u, torch.ones_like(u), margin=MARGIN, reduction="none"),
        ZERO_ONE: lambda u: (u < 0).to(u.dtype) + 0 * u,  # `+ 0 * u` keeps autograd's graph
    },
    {
        HINGE: lambda u: torch.where(u < MARGIN, -1.0, 0.0).to(u.dtype),
        ZERO_ONE: lambda u: torch.zeros_like(u),
    },
    kinks=[0.0, MARGIN],
    margin=MARGIN,
    title="Hinge loss: linear below the margin, exactly zero (and flat) beyond it",
)
for ax in plot.axes:  # 0-1 error dash-dotted, its dots hollow: where the curves coincide both stay visible
    for line in ax.lines:
        if line.get_label().startswith("0-1"):
            line.set(linestyle="-." if line.get_marker() == "None" else "None", markerfacecolor="none", ms=6)
    ax.get_legend().remove()  # one legend under both panels, off the curves and the margin line
plot.fig.legend(*plot.axes[1].get_legend_handles_labels(), loc="outside lower center", ncol=3, fontsize=8)
plt.show()
assert max(plot.max_gradient_gap.values()) < 1e-12
print("max |autograd - analytic| away from the kinks: < 1e-12 for both losses")
hinge_u = hinge_loss_scratch(plot.x, torch.ones_like(plot.x), margin=MARGIN, reduction="none")
assert MARGIN < 1 or bool((hinge_u >= (plot.x < 0).double()).all())  # the hinge bounds the 0-1 error

# %% [markdown]
# ## 5. Experiment: hinge loss + weight decay is (nearly) a linear SVM
#
# **Setup.** Breast cancer (398 training and 171 test tumours, 30 standardised features, $y = +1$
# benign). With full-batch gradient descent (`utils.training.fit`) we minimise the regularised mean hinge
#
# $$ J(w, b) = \frac{\lambda}{2}\big(\lVert w\rVert^2 + b^2\big)
#   + \frac1N \sum_{i=1}^{N} \max\big(0,\, 1 - y_i(w\cdot x_i + b)\big), $$
#
# where weight decay $\lambda$ is the L2 penalty (torch's `weight_decay` adds $\lambda\,\theta$ to the
# gradient of every parameter, the bias included).
#
# **The map to `LinearSVC`.** scikit-learn's `LinearSVC(loss="hinge")` minimises
# $\tfrac12\lVert w\rVert^2 + C\sum_i \max(0, 1 - y_i s_i)$. Dividing by $CN$ (which does not move the
# minimiser) gives $\tfrac{1}{2CN}\lVert w\rVert^2 + \tfrac1N\sum_i\max(0, 1 - y_is_i)$, i.e. our $J$ with
# $\lambda = 1/(CN)$, i.e. $C = 1/(\lambda N)$. liblinear (behind `LinearSVC`) fits the intercept as the
# weight of an extra constant feature, so it **penalises the intercept** too, like our weight decay on
# the bias: both solve exactly $J$. `SGDClassifier(loss="hinge", alpha=λ)` minimises
# $\tfrac{\alpha}{2}\lVert w\rVert^2 + \text{mean hinge}$ with stochastic updates and an **unpenalised**
# intercept, a slightly different problem.
#
# **What we measure.** Test accuracy; the $J$ each model reaches; the fraction of training examples with
# nonzero loss at the end (the SVM's support vectors, minus those exactly on the margin); weight cosines.

# %%
data = breast_cancer()
X_tr, y_tr, X_te, y_te = data.X_train, data.y_train, data.X_test, data.y_test
n_train = X_tr.shape[0]
LAMBDA, EPOCHS, LR = 0.01, 500, 0.1
C = 1 / (LAMBDA * n_train)
print(data, f"| lambda = {LAMBDA}, N = {n_train}, so C = 1/(lambda N) = {C:.4f}")

scorer = LinearScorer(X_tr.shape[1])
history = fit(scorer, X_tr, y_tr, utils.hinge_loss, epochs=EPOCHS, lr=LR, weight_decay=LAMBDA)

svc = LinearSVC(loss="hinge", C=C, dual=True, tol=1e-6, max_iter=100_000, random_state=0)
svc.fit(X_tr.numpy(), y_tr.numpy())
sgd = SGDClassifier(loss="hinge", alpha=LAMBDA, max_iter=1000, tol=None, random_state=0)
sgd.fit(X_tr.numpy(), y_tr.numpy())

models = {  # name -> (weights (30,), intercept)
    "torch: hinge + weight decay": (scorer.linear.weight.detach()[0], scorer.linear.bias.detach()[0]),
    "LinearSVC(loss='hinge')": (torch.as_tensor(svc.coef_[0]), torch.as_tensor(svc.intercept_[0])),
    "SGDClassifier(loss='hinge')": (torch.as_tensor(sgd.coef_[0]), torch.as_tensor(sgd.intercept_[0])),
}


def objective(w, b):
    """J(w, b): the regularised mean hinge all three models (approximately) minimise."""
    return LAMBDA / 2 * (w @ w + b * b) + utils.hinge_loss(X_tr @ w + b, y_tr)


results = {}
print(f"{'model':<29} {'test acc':>8} {'J(w,b)':>8} {'|w|':>6} {'b':>6} {'loss>0':>7} {'on margin':>9}")
for name, (w, b) in models.items():
    train_margin = y_tr * (X_tr @ w + b)
    results[name] = {
        "acc": accuracy(X_te @ w + b, y_te),
        "J": objective(w, b).item(),
        "nonzero": (train_margin < 1 - 1e-3).double().mean().item(),  # loss > 0, tolerance of the solvers
        "on_margin": ((train_margin - 1).abs() <= 1e-3).double().mean().item(),
    }
    r = results[name]
    print(f"{name:<29} {r['acc']:8.3f} {r['J']:8.4f} {w.norm():6.3f} {b:6.3f} "
          f"{r['nonzero']:7.3f} {r['on_margin']:9.3f}")
names, cos = list(models), {}
for i, j in [(0, 1), (0, 2), (1, 2)]:
    wi, wj = models[names[i]][0], models[names[j]][0]
    cos[(i, j)] = (wi @ wj / (wi.norm() * wj.norm())).item()
    print(f"cos({names[i]}, {names[j]}) = {cos[(i, j)]:.4f}")

# %% [markdown]
# `loss>0` and `on margin` are fractions of the 398 training examples, with a tolerance of $10^{-3}$ on
# $ys = 1$ (solvers stop at a finite tolerance). The training curves of our model: the mean hinge, and
# the fraction of training examples that still receive gradient ($ys \le 1$, recorded after each epoch
# by `fit`). Before the first step $w = 0$, every margin is $0$ and every example is active.

# %%
epochs = range(1, EPOCHS + 1)  # epoch k = the model after k full-batch steps
fig, (ax_l, ax_a) = plt.subplots(1, 2)
ax_l.plot(epochs, history.loss, color=PALETTE[0])
ax_l.set(xlabel="epoch (full batch)", ylabel="mean hinge loss (train)", yscale="log")
ax_a.plot(epochs, history.active_fraction, color=PALETTE[1])
ax_a.set(xlabel="epoch (full batch)", ylabel="fraction of training set\nwith $ys \\leq 1$", yscale="log")
fig.suptitle("Training concentrates the hinge loss on a few examples near the boundary")
plt.show()
print(f"active fraction: epoch 1 {history.active_fraction[0]:.3f}, "
      f"epoch {EPOCHS} {history.active_fraction[-1]:.3f}")

# %% [markdown]
# **Results, and what they confirm.**
# - All three reach about the same test accuracy (within two test examples of each other out of 171).
# - `LinearSVC` reaches the lowest $J$, as the exact minimiser of $J$ must: this confirms the map
#   $\lambda = 1/(CN)$ with a penalised intercept. Our full-batch subgradient descent with a constant
#   step gets within a few percent of the optimal $J$ but keeps hopping across the kinks near the
#   margin, so its weights point in nearly, not exactly, the SVM's direction. `SGDClassifier` (decaying
#   step) lands much closer; its $J$ is slightly higher because it leaves the intercept unpenalised.
# - At the end only a small fraction of the training set has nonzero loss (`loss>0`), plus a few
#   examples sitting on the margin for the exact solver. Examples with $ys > 1$ contribute neither loss
#   nor gradient, so the exact solution depends on the others only: refitting `LinearSVC` (same `C`) on
#   the 38 training examples with $ys \le 1 + 10^{-3}$ gives the same weights (cosine above 0.99999,
#   checked in the book's test suite).

# %%
ours, ref, stoch = (results[n] for n in names)
accuracies = [r["acc"] for r in results.values()]
assert min(accuracies) > 0.9 and max(accuracies) - min(accuracies) <= 2 / 171 + 1e-12
assert ref["J"] <= ours["J"] and ref["J"] <= stoch["J"]  # the exact minimiser of J is the lowest
assert (ours["J"] - ref["J"]) / ref["J"] < 0.1  # gradient descent gets within 10 % of the optimum
assert cos[(0, 1)] > 0.9 and cos[(1, 2)] > 0.99
assert all(0 < r["nonzero"] < 0.15 for r in results.values())  # few examples carry the loss

# %% [markdown]
# ### Drag the margin
# Which training examples would still receive gradient under another margin? The slider moves $m$ in
# $\max(0, m - ys)$; the scores stay those of the model trained above (with $m = 1$). Left: the loss and
# its derivative in $ys$ ($-1$ for $ys \le m$, the kink active as in `utils`; $0$ beyond). Right: the
# training margins, coloured by whether they still receive gradient. (It needs a running kernel.)

# %% tags=["nbval-ignore-output"]
train_ys = (y_tr * scorer(X_tr)).detach()


def draw_margin(margin):
    """The hinge with required margin `margin`, its derivative, and the training examples it still uses."""
    fig, (ax_f, ax_e) = plt.subplots(1, 2, figsize=(9.0, 3.2))
    u = torch.linspace(-2.0, 4.0, 601, dtype=torch.float64)
    ax_f.plot(u, hinge_loss_scratch(u, torch.ones_like(u), margin=margin, reduction="none"), label="loss")
    ax_f.plot(u, torch.where(u <= margin, -1.0, 0.0), ls="--", label="d loss / d($ys$)")
    ax_f.set(xlabel="margin $ys$ (score units)", ylim=(-1.2, 6.2), title=f"hinge, margin {margin:.2f}")
    active, clipped = train_ys <= margin, train_ys.clamp(-2.0, 8.0 - 1e-9)  # outliers into the end bins
    ax_e.hist([clipped[active].numpy(), clipped[~active].numpy()], bins=np.linspace(-2.0, 8.0, 51),
              stacked=True, color=[PALETTE[1], PALETTE[0]], label=["receives gradient", "no gradient"])
    for ax in (ax_f, ax_e):
        ax.axvline(margin, color="black", ls=":", lw=1, label="required margin" if ax is ax_e else None)
    ax_e.set(xlabel="training margin $ys$ of the trained model", ylabel="examples",
             title=f"{int(active.sum())} of {len(train_ys)} training examples receive gradient")
    fig.legend(loc="outside lower center", ncol=5, fontsize=8)  # under both panels, off every curve
    return fig


explore(draw_margin, margin=(0.0, 3.0, 0.05, MARGIN))

# %% [markdown]
# ## 6. Pitfall: PyTorch's margin losses accept $\{0, 1\}$ labels silently
# The chapter's conversion `y = 2 * y - 1` is not optional. PyTorch's built-in margin losses do not
# check their targets: with $\{0, 1\}$ labels every $y = 0$ example turns the loss into a constant,
# whatever its score. `F.margin_ranking_loss(s, 0, y)` returns the margin $1$ for them, and
# `nn.SoftMarginLoss` (the logistic loss $\log(1 + e^{-ys})$) returns $\log 2$. scikit-learn's
# `hinge_loss` maps the larger label to $+1$ and so happens to return the right value; the book's
# `utils.hinge_loss` raises.

# %%
y01 = (y4 + 1) / 2  # the chapter's four examples, labels {1, 1, 0, 0}
zeros4 = torch.zeros_like(s4)
margin_losses = lambda t: {  # noqa: E731  per-example losses of the four scores for targets t
    "margin_ranking_loss(s, 0, y)": F.margin_ranking_loss(s4, zeros4, t, margin=1.0, reduction="none"),
    "SoftMarginLoss(s, y)": nn.SoftMarginLoss(reduction="none")(s4, t)}
losses_pm, losses_01 = margin_losses(y4), margin_losses(y01)
for name in losses_pm:
    print(f"{name:<29} labels {{-1,+1}}: {[round(v, 3) for v in losses_pm[name].tolist()]}, "
          f"labels {{0,1}}: {[round(v, 3) for v in losses_01[name].tolist()]}")
assert torch.equal(losses_01["margin_ranking_loss(s, 0, y)"][y01 == 0], torch.ones(2, dtype=torch.float64))
assert_close(losses_01["SoftMarginLoss(s, y)"][y01 == 0], torch.full((2,), math.log(2), dtype=torch.float64))
assert_close(sk_hinge_loss(y01.numpy(), s4.numpy()), hinge_loss_scratch(s4, y4).item())
print(f"sklearn.metrics.hinge_loss with {{0,1}} labels: {sk_hinge_loss(y01.numpy(), s4.numpy()):.3f} "
      "(right: maps 0 -> -1)")
try:
    utils.hinge_loss(s4, y01)
except ValueError as err:
    print("utils.hinge_loss raises ValueError:", err)
else:
    raise AssertionError("utils.hinge_loss accepted {0, 1} labels")

# %% [markdown]
# ## Takeaways
#
# - Hinge loss $\max(0, 1 - ys)$ is zero once an example is correct with margin $ys \ge 1$ and grows
#   linearly with the violation $1 - ys$ otherwise; in PyTorch it is one line,
#   `torch.clamp(1 - y * s, min=0)`, on raw scores (no sigmoid) and $\{-1, +1\}$ labels.
# - It equals `F.margin_ranking_loss(s, 0, y, margin=1)`, `F.hinge_embedding_loss(y*s, -1)` and
#   `2 * F.multi_margin_loss([0, s], (y+1)/2)`, and its batch mean equals `sklearn.metrics.hinge_loss`;
#   `HingeEmbeddingLoss(s, y)` on its own is a different loss.
# - Hinge loss with weight decay $\lambda$ is the linear SVM with $C = 1/(\lambda N)$ (both penalise
#   the intercept here); on breast cancer all three fits reach about 95 % test accuracy, and at the end
#   only a few percent of the training examples carry any loss.
# - Check label conventions: PyTorch's margin losses silently return wrong numbers with $\{0, 1\}$ labels.
#
# Next: notebook 03 ("Gradient Behavior") looks at what the kink and the flat part do to the gradient.
#
# [Exercises for this section](../exercises/ex02_hinge_loss.ipynb): the hinge loss from scratch, and its
# gradient by hand.
