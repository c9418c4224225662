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
# - the hinge loss $L = \max(0, 1 - ys)$, its piecewise form, and which examples it focuses on;
# - the chapter's two PyTorch snippets, run as printed, and why no sigmoid is needed;
# - a from-scratch implementation checked against `utils.hinge_loss` and **four** independent oracles
#   from PyTorch and scikit-learn (and why `HingeEmbeddingLoss` on its own is *not* this loss);
# - on real data: a linear scorer trained with hinge loss and weight decay is (nearly) a linear SVM —
#   compared with scikit-learn's `LinearSVC` and `SGDClassifier`, with the exact map between weight
#   decay $\lambda$ and `C`;
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
from utils.plotting import plot_curves, plot_loss_and_gradient
from utils.reproducibility import seed_everything
from utils.training import LinearScorer, accuracy, fit

seed_everything(0)  # seeds Python, NumPy and torch; torch runs on one thread (bit-identical sums)

# %% [markdown]
# ## 1. From the margin requirement to a loss
#
# We want $ys \ge 1$. Measure how far an example falls short of it: the **margin violation**
# $1 - ys$, positive when the requirement fails and negative when it holds with room to spare. Only
# shortfalls should cost anything, so clip the negative values to zero:
#
# $$ L = \max(0,\; 1 - ys). $$
#
# Reading it case by case:
#
# - $ys \ge 1$: then $1 - ys \le 0$ and $L = 0$. The example is correct **with** sufficient margin;
#   the loss has nothing to say about it.
# - $ys < 1$: then $L = 1 - ys > 0$. The example is either misclassified ($ys < 0$, then $L > 1$) or
#   correct but with too little margin ($0 \le ys < 1$, then $0 < L \le 1$).
#
# So the hinge loss is **piecewise linear** in the margin:
#
# $$
# L =
# \begin{cases}
# 0, & ys \ge 1, \\
# 1 - ys, & ys < 1.
# \end{cases}
# $$
#
# Two consequences the rest of the notebook measures. First, the objective **focuses on examples near
# the decision boundary or on the wrong side of it**: every example with $ys \ge 1$ contributes exactly
# $0$, however many of them there are. Second, within the violating examples the cost grows linearly
# with the violation, so one example with $ys = -3$ costs $4$, as much as eight examples with $ys = 0.5$.
# (Since $L \ge 1$ whenever $ys \le 0$, the hinge also bounds the 0-1 error from notebook 01 from above.)

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
# By hand: the margins are $ys = (2.0,\ 0.3,\ 0.5,\ 2.0)$, so the per-example losses are
# $(0,\ 0.7,\ 0.5,\ 0)$ and the mean is $0.3$. The first and last examples satisfy the margin and
# contribute nothing; the two inside the margin carry the whole loss. `scores` are raw model outputs;
# the targets are $-1$ and $+1$, not $0$ and $1$.

# %%
per_example = torch.clamp(1.0 - targets * scores, min=0.0)
print("margins ys  :", [round(v, 2) for v in (targets * scores).tolist()])
print("per example :", [round(v, 2) for v in per_example.tolist()])
assert_close(per_example, torch.tensor([0.0, 0.7, 0.5, 0.0]))
assert_close(loss, torch.tensor(0.3))

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
# The last layer is `nn.Linear(32, 1)` with nothing after it, so `scores` is any real number (the
# `squeeze(-1)` turns shape $(64, 1)$ into $(64,)$ to match `y`). The loss is differentiable almost
# everywhere, so it trains like any other PyTorch loss:

# %%
print(f"labels: {sorted(set(y.tolist()))}, scores shape {tuple(scores.shape)}, "
      f"range [{scores.min():.3f}, {scores.max():.3f}], loss {loss.item():.3f}")
loss.backward()
print("every parameter received a gradient:", all(p.grad is not None for p in model.parameters()))
assert_close(loss, utils.hinge_loss(scores, y))

# %% [markdown]
# **"The model output is a score, not a probability. No sigmoid is needed."** Not only is it not
# needed, it would break the loss. A sigmoid squashes the output into $(0, 1)$, so for $y = +1$ the
# margin $y\,\sigma(s) < 1$ can never reach the required $1$, and for $y = -1$ it is always negative:
# every example would count as violating the margin forever, and the negatives as misclassified. The
# hinge's zero-loss region $ys \ge 1$ only exists for outputs that can grow beyond $\pm 1$: raw scores.

# %%
s_grid = torch.linspace(-20.0, 20.0, 4001, dtype=torch.float64)
for label in (+1.0, -1.0):
    with_sigmoid = torch.clamp(1.0 - label * torch.sigmoid(s_grid), min=0.0)
    raw = torch.clamp(1.0 - label * s_grid, min=0.0)
    print(f"y = {label:+.0f}: smallest hinge loss over s in [-20, 20]: raw score {raw.min():.1e}, "
          f"sigmoid(score) {with_sigmoid.min():.1e}")
    assert raw.min() == 0 and with_sigmoid.min() > 0
    if label < 0:
        assert with_sigmoid.min() >= 1  # a negative example always looks misclassified (ys < 0)


# %% [markdown]
# ## 3. From scratch, and cross-checked against five references
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
# The references (ORACLES.md), each an identity worth reading once:
#
# 1. `utils.hinge_loss` (the book's library, used from here on);
# 2. `F.margin_ranking_loss(s, 0, y, margin=1)` computes $\max(0, -y(s - 0) + 1)$: the hinge, with the
#    "other" score fixed at $0$;
# 3. `sklearn.metrics.hinge_loss(y, s)`, the batch **mean** only;
# 4. `F.hinge_embedding_loss(y*s, -1, margin=1)`: for target $-1$ it computes $\max(0, 1 - \text{input})$,
#    so feeding it the margin $ys$ as input gives the hinge;
# 5. `2 * F.multi_margin_loss([0, s], (y+1)/2)`: with two classes whose scores are $0$ and $s$ the
#    multiclass margin is $\max(0, 1 - (s_c - s_{\text{other}})) = \max(0, 1 - ys)$; torch divides by
#    the number of classes $C = 2$, hence the factor $2$.
#
# We check them on 1000 random scores in float64, and the gradients of our version against `utils`
# (away from the kink $ys = 1$, where the subgradient is a choice: see notebook 03).

# %%
N = 1000
s = 3 * torch.randn(N, dtype=torch.float64)
y_pm = torch.where(torch.rand(N) < 0.5, -1.0, 1.0).to(torch.float64)
ours = hinge_loss_scratch(s, y_pm, reduction="none")

oracles = {
    "utils.hinge_loss": utils.hinge_loss(s, y_pm, reduction="none"),
    "F.margin_ranking_loss(s, 0, y)": F.margin_ranking_loss(
        s, torch.zeros_like(s), y_pm, margin=1.0, reduction="none"
    ),
    "F.hinge_embedding_loss(y*s, -1)": F.hinge_embedding_loss(
        y_pm * s, -torch.ones_like(s), margin=1.0, reduction="none"
    ),
    "2*F.multi_margin_loss([0, s])": 2 * F.multi_margin_loss(
        torch.stack([0 * s, s], dim=1), ((y_pm + 1) // 2).long(), reduction="none"
    ),
}
for name, value in oracles.items():
    assert_close(ours, value)
    print(f"{name:<34} max |difference| = {(ours - value).abs().max():.1e}")
sk_mean = sk_hinge_loss(y_pm.numpy(), s.numpy())
assert_close(hinge_loss_scratch(s, y_pm), torch.tensor(sk_mean, dtype=torch.float64))
sk_gap = abs(hinge_loss_scratch(s, y_pm).item() - sk_mean)
print(f"{'sklearn.metrics.hinge_loss (mean)':<34} |difference| = {sk_gap:.1e}")
for reduction in ("mean", "sum"):
    assert_close(hinge_loss_scratch(s, y_pm, reduction=reduction),
                 utils.hinge_loss(s, y_pm, reduction=reduction))
assert_close(hinge_loss_scratch(s, y_pm, margin=0.5, reduction="none"),
             utils.hinge_loss(s, y_pm, margin=0.5, reduction="none"))

away = (y_pm * s - 1).abs() > 1e-6
s_a, s_b = s[away].clone().requires_grad_(True), s[away].clone().requires_grad_(True)
hinge_loss_scratch(s_a, y_pm[away], reduction="sum").backward()
utils.hinge_loss(s_b, y_pm[away], reduction="sum").backward()
assert_close(s_a.grad, s_b.grad)
# dL/ds = -y inside the margin, 0 outside
assert_close(s_a.grad, torch.where(y_pm[away] * s[away] < 1, -y_pm[away], 0.0))
print(f"gradients agree on {int(away.sum())} scores away from the kink")

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
print(f"{'s':>5} {'y':>3} {'hinge max(0,1-ys)':>18} {'hinge_embedding_loss(s, y)':>27}")
for row in zip(s4.tolist(), y4.tolist(), right.tolist(), naive.tolist()):
    print(f"{row[0]:5.1f} {row[1]:+3.0f} {row[2]:18.2f} {row[3]:27.2f}")
assert not torch.isclose(naive, right).any()
negative = F.hinge_embedding_loss(torch.tensor([-2.0]), torch.tensor([1.0])).item()
print(f"hinge_embedding_loss(s=-2, y=+1) = {negative:.2f}  (the hinge would be 3.00)")
assert negative < 0

# %% [markdown]
# ## 4. Loss and gradient against the margin
#
# As a function of the margin $u = ys$, $L(u) = \max(0, 1 - u)$ has slope $-1$ for $u < 1$ and $0$ for
# $u > 1$, with a kink at the margin $u = 1$. (With respect to the score itself, the chain rule gives
# $\partial L/\partial s = y \cdot L'(ys)$, i.e. $-y$ or $0$: the subject of the section "Gradient
# Behavior", notebook 03.) Autograd's dots lie on the analytic line everywhere except at the kink,
# which the comparison excludes. The 0-1 error is drawn for comparison: the hinge lies on or above it.

# %%
plot = plot_loss_and_gradient(
    {
        "hinge $\\max(0, 1-ys)$": lambda u: hinge_loss_scratch(u, torch.ones_like(u), reduction="none"),
        "0-1 error $1[ys<0]$": lambda u: (u < 0).to(u.dtype) + 0 * u,
    },
    {
        "hinge $\\max(0, 1-ys)$": lambda u: torch.where(u < 1, -1.0, 0.0).to(u.dtype),
        "0-1 error $1[ys<0]$": lambda u: torch.zeros_like(u),
    },
    kinks=[0.0, 1.0],
    margin=1.0,
    title="Hinge loss: linear below the margin, exactly zero (and flat) beyond it",
)
plt.show()
print({name: f"{gap:.1e}" for name, gap in plot.max_gradient_gap.items()})
assert max(plot.max_gradient_gap.values()) < 1e-12
u = plot.x
assert bool((hinge_loss_scratch(u, torch.ones_like(u), reduction="none") >= (u < 0).double()).all())

# %% [markdown]
# ## 5. Experiment: hinge loss + weight decay is (nearly) a linear SVM
#
# **Setup.** Breast cancer (398 training and 171 test tumours, 30 standardised features, $y = +1$
# benign). We minimise, with full-batch gradient descent (`utils.training.fit`), the regularised mean
# hinge
#
# $$
# J(w, b) = \frac{\lambda}{2}\big(\lVert w\rVert^2 + b^2\big)
#   + \frac1N \sum_{i=1}^{N} \max\big(0,\, 1 - y_i(w\cdot x_i + b)\big),
# $$
#
# where weight decay $\lambda$ is the L2 penalty (torch's `weight_decay` adds $\lambda\,\theta$ to the
# gradient of every parameter, the bias included).
#
# **The map to `LinearSVC`.** scikit-learn's `LinearSVC(loss="hinge")` minimises
# $\tfrac12\lVert w\rVert^2 + C\sum_i \max(0, 1 - y_i s_i)$. Dividing by $CN$ (which does not move the
# minimiser) gives $\tfrac{1}{2CN}\lVert w\rVert^2 + \tfrac1N\sum_i\max(0, 1 - y_is_i)$, i.e. our $J$ with
#
# $$ \lambda = \frac{1}{C\,N}, \qquad C = \frac{1}{\lambda N}. $$
#
# liblinear (behind `LinearSVC`) fits the intercept as the weight of an extra constant feature, so it
# **penalises the intercept** too, just like our weight decay on the bias: both solve exactly $J$.
# `SGDClassifier(loss="hinge", alpha=λ)` minimises $\tfrac{\alpha}{2}\lVert w\rVert^2 + \text{mean hinge}$
# with stochastic updates and an **unpenalised** intercept, a slightly different problem.
#
# **What we measure.** Test accuracy of each model; the cosine similarity between the learned weight
# vectors; the value of $J$ each one reaches; and the fraction of training examples with nonzero loss at
# the end (those inside the margin or misclassified: the SVM's support vectors, apart from those
# sitting exactly on the margin).

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

# %% [markdown]
# The columns `loss>0` and `on margin` are fractions of the 398 training examples, with a tolerance of
# $10^{-3}$ on $ys = 1$ (solvers stop at a finite tolerance). The cosine similarities of the weight
# vectors:

# %%
names = list(models)
cos = {}
for i in range(3):
    for j in range(i + 1, 3):
        wi, wj = models[names[i]][0], models[names[j]][0]
        cos[(i, j)] = (wi @ wj / (wi.norm() * wj.norm())).item()
        print(f"cos({names[i]}, {names[j]}) = {cos[(i, j)]:.4f}")

# %% [markdown]
# And the training curves of our model: the mean hinge, and the fraction of training examples that
# still receive gradient ($ys \le 1$; `History.active_fraction`, recorded after each epoch). Before the
# first step $w = 0$, every margin is $0$ and every example is active; training drives the loss onto a
# small set of examples near the boundary.

# %%
fig, (ax_l, ax_a) = plt.subplots(1, 2)
plot_curves({"mean hinge (train)": history.loss}, xlabel="epoch (full batch)",
            ylabel="mean hinge loss", ax=ax_l)
plot_curves({"examples with ys <= 1": history.active_fraction}, xlabel="epoch (full batch)",
            ylabel="fraction of training set", ax=ax_a)
ax_l.set_yscale("log")
ax_a.set_yscale("log")
fig.suptitle("Training concentrates the hinge loss on a few examples near the boundary")
plt.show()
print(f"active fraction: epoch 1 {history.active_fraction[0]:.3f}, "
      f"epoch {EPOCHS} {history.active_fraction[-1]:.3f}")

# %% [markdown]
# **Does a solution depend only on the examples the loss focuses on?** For the exact SVM solution, yes:
# examples with $ys > 1$ contribute neither loss nor gradient, so removing them leaves the optimum
# unchanged. Refit `LinearSVC` with the same `C` (its objective is a *sum*, so `C` stays fixed when
# examples are removed) on the training examples with $ys \le 1 + 10^{-3}$ only:

# %%
w_svc, b_svc = models["LinearSVC(loss='hinge')"]
keep = (y_tr * (X_tr @ w_svc + b_svc) <= 1 + 1e-3).numpy()
svc_sv = LinearSVC(loss="hinge", C=C, dual=True, tol=1e-6, max_iter=100_000, random_state=0)
svc_sv.fit(X_tr.numpy()[keep], y_tr.numpy()[keep])
w_sv = torch.as_tensor(svc_sv.coef_[0])
cos_sv = (w_sv @ w_svc / (w_sv.norm() * w_svc.norm())).item()
print(f"refit on {int(keep.sum())} of {n_train} training examples: cos(w_refit, w_all) = {cos_sv:.5f}, "
      f"|w_refit - w_all| / |w_all| = {((w_sv - w_svc).norm() / w_svc.norm()).item():.4f}")

# %% [markdown]
# **Results, and what they confirm.**
#
# - All three reach about the same test accuracy (within two test examples of each other out of 171).
# - `LinearSVC` reaches the lowest $J$, as the exact minimiser of $J$ must: this confirms the map
#   $\lambda = 1/(CN)$ with a penalised intercept. Our full-batch subgradient descent with a constant
#   step gets within a few percent of the optimal $J$ but does not converge exactly: at a constant step
#   the iterate keeps hopping across the kinks of the examples near the margin. Its weight vector
#   therefore points in nearly, not exactly, the same direction as the SVM's (cosine above).
#   `SGDClassifier`, with a decaying step, lands much closer to `LinearSVC` in direction; its $J$ is
#   slightly higher because it solves the problem with an unpenalised intercept.
# - At the end of training only a small fraction of the training set has nonzero loss (`loss>0`),
#   plus a few examples sitting on the margin for the exact solver. The hinge objective focuses on
#   the examples near the boundary or on the wrong side; and refitting the SVM on those alone gives
#   the same weights.

# %%
ours, ref, stoch = (results[n] for n in names)
assert all(r["acc"] > 0.9 for r in results.values())
assert max(r["acc"] for r in results.values()) - min(r["acc"] for r in results.values()) <= 2 / 171 + 1e-12
assert ref["J"] <= ours["J"] and ref["J"] <= stoch["J"]  # the exact minimiser of J is the lowest
assert (ours["J"] - ref["J"]) / ref["J"] < 0.1  # gradient descent gets within 10 % of the optimum
assert cos[(0, 1)] > 0.9 and cos[(1, 2)] > 0.99
assert all(0 < r["nonzero"] < 0.15 for r in results.values())  # few examples carry the loss
assert cos_sv > 0.999

# %% [markdown]
# ## 6. Pitfall: PyTorch's margin losses accept $\{0, 1\}$ labels silently
#
# The chapter's conversion `y = 2 * y - 1` is not optional. PyTorch's built-in margin losses do not
# check their targets: with $\{0, 1\}$ labels every $y = 0$ example turns the loss into a constant,
# whatever its score. `F.margin_ranking_loss(s, 0, y)` returns the margin $1$ for them, and
# `nn.SoftMarginLoss` (the logistic loss $\log(1 + e^{-ys})$) returns $\log 2$. scikit-learn's
# `hinge_loss` maps the larger label to $+1$ and so happens to return the right value; the book's
# `utils.hinge_loss` raises.

# %%
y01 = (y4 + 1) / 2  # the chapter's four examples, labels {1, 1, 0, 0}
zeros4 = torch.zeros_like(s4)
right_rank = F.margin_ranking_loss(s4, zeros4, y4, margin=1.0, reduction="none")
wrong_rank = F.margin_ranking_loss(s4, zeros4, y01, margin=1.0, reduction="none")
right_soft = nn.SoftMarginLoss(reduction="none")(s4, y4)
wrong_soft = nn.SoftMarginLoss(reduction="none")(s4, y01)
print(f"{'s':>5} {'y':>3} {'y01':>4} | {'ranking(y)':>10} {'ranking(y01)':>12} | "
      f"{'soft(y)':>7} {'soft(y01)':>9}")
for row in zip(s4.tolist(), y4.tolist(), y01.tolist(), right_rank.tolist(), wrong_rank.tolist(),
               right_soft.tolist(), wrong_soft.tolist()):
    print(f"{row[0]:5.1f} {row[1]:+3.0f} {row[2]:4.0f} | {row[3]:10.3f} {row[4]:12.3f} | "
          f"{row[5]:7.3f} {row[6]:9.3f}")
assert torch.equal(wrong_rank[y01 == 0], torch.ones(2, dtype=torch.float64))
assert_close(wrong_soft[y01 == 0], torch.full((2,), math.log(2), dtype=torch.float64))
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
#   linearly with the violation $1 - ys$ otherwise; piecewise linear, with a kink at the margin.
# - In PyTorch it is one line, `torch.clamp(1 - y * s, min=0)`, on raw scores (no sigmoid: a
#   probability can never reach the margin) and $\{-1, +1\}$ labels.
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
# **Exercises:** `exercises/02_hinge_loss.ipynb`.
