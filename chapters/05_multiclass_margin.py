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
# # 05 · Multiclass margin loss
#
# *Follows the sections "Multiclass Margin Loss" and "Multiclass Margin Loss in PyTorch" of the
# chapter "Margin-Based Losses".*
#
# With $K$ classes the model outputs one score per class, and "correct with room to spare" means: the
# correct class beats **every** wrong class by at least $\Delta$. The chapter turns those $K-1$
# constraints into one loss by summing their hinge violations.
#
# **What you will learn**
#
# - the derivation of the chapter's loss $\sum_{j\neq c}\max(0, s_j - s_c + \Delta)$ (the
#   *Weston–Watkins* form) from the $K-1$ margin constraints, its gradient with respect to every class
#   score, and the *Crammer–Singer* variant that keeps only the largest violation;
# - why the chapter's in-place line `margins[arange, targets] = 0.0` is safe under autograd, and
#   which in-place line is not;
# - the oracles: `nn.MultiMarginLoss` is the chapter's loss **divided by $K$**, and scikit-learn's
#   multiclass `hinge_loss` is the Crammer–Singer **max**, not the chapter's sum;
# - how much faster the vectorised loss is than a loop;
# - on the digits data: test accuracy and the share of training examples with zero loss for
#   Weston–Watkins, Crammer–Singer and cross-entropy, and a measurement of the claim "the loss is zero
#   exactly when every wrong class is at least $\Delta$ below the correct one".

# %%
import time

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F
from sklearn.metrics import hinge_loss as sklearn_hinge_loss
from torch import nn
from torch.testing import assert_close

import utils
from utils.data import digits
from utils.plotting import PALETTE, plot_loss_and_gradient
from utils.reproducibility import seed_everything
from utils.training import accuracy

seed_everything(0)  # seeds Python, NumPy and torch; torch runs on one thread (bit-identical sums)
F64 = torch.float64

# %% [markdown]
# ## 1. From $K$ scores to one loss
#
# The model outputs a score vector $s = f_\theta(x) \in \mathbb{R}^K$; let $c$ be the correct class.
# The chapter asks the correct score to exceed every incorrect score by at least $\Delta$:
#
# $$ s_c \ge s_j + \Delta \quad \text{for all } j \ne c. $$
#
# **Step 1 — one constraint at a time.** Move everything to one side: $s_j - s_c + \Delta \le 0$.
# The amount by which constraint $j$ is violated is the positive part
#
# $$ \xi_j = \max(0,\, s_j - s_c + \Delta) = \max\big(0,\, \Delta - (s_c - s_j)\big), $$
#
# which is exactly the binary hinge loss of notebook 02 applied to the **pairwise margin**
# $s_c - s_j$ (the score difference plays the role of $ys$, $\Delta$ the role of $1$).
#
# **Step 2 — combine the $K-1$ violations.** The chapter adds them (Weston & Watkins, 1999):
#
# $$ L_{\text{WW}} = \sum_{j \ne c} \max(0,\, s_j - s_c + \Delta). $$
#
# Keeping only the worst one gives the Crammer–Singer (2001) variant,
# $L_{\text{CS}} = \max\big(0,\, \Delta - s_c + \max_{j\ne c} s_j\big) = \max_{j \ne c}\xi_j$.
#
# **Step 3 — when is it zero?** A sum of non-negative terms is zero iff every term is zero, so
#
# $$ L_{\text{WW}} = 0 \iff \xi_j = 0 \;\forall j\ne c \iff \min_{j\neq c}(s_c - s_j) \ge \Delta \iff L_{\text{CS}} = 0 .$$
#
# Both forms have the same zero set; they differ in how they weigh several violations at once. Since
# the max is one of the terms and every term is at most the max,
# $L_{\text{CS}} \le L_{\text{WW}} \le (K-1)\,L_{\text{CS}}$.
#
# **Step 4 — the gradient.** Where no term sits exactly at its kink,
#
# $$
# \frac{\partial L_{\text{WW}}}{\partial s_j} = \mathbb{1}[s_j - s_c + \Delta > 0] \;\; (j\ne c),
# \qquad
# \frac{\partial L_{\text{WW}}}{\partial s_c} = -\sum_{j\ne c}\mathbb{1}[s_j - s_c + \Delta > 0].
# $$
#
# Every violating wrong class is pushed down by 1, and the correct class is pushed up by the *number*
# of violators. The gradient sums to zero over the classes: adding a constant to all scores changes
# nothing. For Crammer–Singer only the best wrong class gets $+1$ and the correct class $-1$.
#
# **Step 5 — two classes.** With $K = 2$, $c \in \{0, 1\}$, write $y = +1$ for $c = 1$ and $y=-1$ for
# $c = 0$, and $s = s_1 - s_0$. The single wrong class gives $\max(0, \Delta - ys)$: the binary hinge
# loss of notebook 02 on the score difference.
#
# The chapter's sentence "if one or more incorrect classes are too close or higher than the correct
# class, those classes contribute positive loss", on one example with $K=4$, $c=0$, $\Delta=1$:

# %%
s = torch.tensor([[2.0, 1.5, -1.0, 2.5]], dtype=F64)
c = torch.tensor([0])
xi = (s - s[0, c] + 1.0).clamp(min=0)[0]
for j in range(1, 4):
    gap = (s[0, 0] - s[0, j]).item()
    kind = "higher than correct" if gap < 0 else ("too close" if gap < 1 else "far enough below")
    print(f"class {j}: s_c - s_j = {gap:+.1f}  -> xi_j = {xi[j].item():.1f}  ({kind})")
ww = utils.multiclass_hinge_loss(s, c, reduction="none")
cs = utils.multiclass_hinge_loss(s, c, variant="crammer_singer", reduction="none")
print(f"Weston-Watkins (sum) = {ww.item():.1f}, Crammer-Singer (max) = {cs.item():.1f}")
assert ww.item() == xi[1:].sum().item() == 2.0 and cs.item() == 1.5

# K = 2 is the binary hinge on the score difference (step 5)
s2 = torch.randn(50, 2, dtype=F64)
c2 = torch.randint(0, 2, (50,))
assert_close(utils.multiclass_hinge_loss(s2, c2, reduction="none"),
             utils.hinge_loss(s2[:, 1] - s2[:, 0], 2.0 * c2 - 1, reduction="none"))

# %% [markdown]
# ## 2. The chapter's PyTorch code, verbatim
#
# The chapter computes the loss for scores of shape `[B, K]` and integer labels of shape `[B]`:

# %%
import torch

def multiclass_hinge_loss(scores, targets, margin=1.0):
    batch_size = scores.shape[0]

    correct_scores = scores[torch.arange(batch_size), targets].unsqueeze(1)
    margins = scores - correct_scores + margin

    margins[torch.arange(batch_size), targets] = 0.0

    return torch.clamp(margins, min=0.0).sum(dim=1).mean()

scores = torch.randn(32, 10)
targets = torch.randint(0, 10, (32,))

loss = multiclass_hinge_loss(scores, targets)
print(loss)

# %% [markdown]
# Line by line: `correct_scores` picks $s_c$ of each row with advanced indexing and keeps it as a
# column `(B, 1)`, so that `scores - correct_scores + margin` broadcasts to the `(B, K)` matrix of
# $s_j - s_c + \Delta$. In the column of the correct class that matrix holds $s_c - s_c + \Delta = \Delta$,
# which is not a constraint at all, so the next line overwrites it with $0$; the clamp takes positive
# parts, the row sum is $L_{\text{WW}}$, and `.mean()` averages over the batch. Below, the name
# `multiclass_hinge_loss` is the chapter's function; the book's is `utils.multiclass_hinge_loss`.
#
# ## 3. Is the in-place assignment safe under autograd?
#
# `margins[rows, targets] = 0.0` modifies a tensor that is part of the autograd graph. PyTorch allows
# that when no backward function needs the *old* value. Here:
#
# - `margins` is not a leaf: it is the output of a subtraction and an addition, whose backward
#   functions only pass the gradient through and save no tensor;
# - the assignment itself is recorded (`IndexPutBackward`): the gradient flowing into the overwritten
#   entries is set to zero, which is right, since those entries are now the constant $0$;
# - `torch.clamp`, which does need its input for its backward (the mask `input > min`), is applied
#   *after* the assignment, so it saves the modified tensor.
#
# Autograd checks this with a version counter on every tensor; nothing saved was modified, so backward
# works. We check the gradient against `utils` and against the formula of step 4 (random float64
# scores, so no score sits exactly at a kink):

# %%
S = torch.randn(64, 10, dtype=F64, requires_grad=True)
T = torch.randint(0, 10, (64,))

multiclass_hinge_loss(S, T).backward()
grad_chapter = S.grad.clone()
S.grad = None
utils.multiclass_hinge_loss(S, T).backward()
assert_close(grad_chapter, S.grad)

with torch.no_grad():  # step 4, divided by the batch size for the mean
    active = (S - S.gather(1, T[:, None]) + 1.0 > 0) & (torch.arange(10) != T[:, None])
    analytic = active.double()
    analytic[torch.arange(64), T] = -active.sum(1).double()
assert_close(grad_chapter, analytic / 64)
assert_close(grad_chapter.sum(1), torch.zeros(64, dtype=F64))  # shift invariance
print("backward through the chapter's in-place code works; gradients equal utils' and step 4's")


# %% [markdown]
# The assignment is also *needed* for the value, not for the gradient: without it every example adds
# the constant $\Delta$ of its correct-class entry to the loss; that entry's gradient is
# $+1$ (via `scores`) $-1$ (via `correct_scores`) $= 0$, so the gradient would not change. A bug that
# training alone would never reveal:

# %%
def without_assignment(scores, targets, margin=1.0):
    correct_scores = scores[torch.arange(scores.shape[0]), targets].unsqueeze(1)
    return torch.clamp(scores - correct_scores + margin, min=0.0).sum(dim=1).mean()


S.grad = None
wrong = without_assignment(S, T)
wrong.backward()
print(f"chapter: {multiclass_hinge_loss(S, T).item():.4f}   without the assignment: {wrong.item():.4f}  (+ Delta = 1)")
assert_close(wrong, multiclass_hinge_loss(S, T) + 1.0)
assert_close(S.grad, grad_chapter)


# %% [markdown]
# In-place operations *do* break autograd when they overwrite a value that a backward function saved.
# Move the same assignment one line later, after the clamp that saved `margins`, and backward fails;
# writing into the leaf `scores` itself fails at once:

# %%
def first_line(err):
    return f"{type(err).__name__}: {str(err).splitlines()[0].split(' Hint:')[0]}"


rows = torch.arange(64)
margins = S - S[rows, T].unsqueeze(1) + 1.0
clamped = torch.clamp(margins, min=0.0)  # clamp saves `margins` for its backward
margins[rows, T] = 0.0                   # ... which is then modified in place
try:
    clamped.sum(dim=1).mean().backward()
except RuntimeError as err:
    print(first_line(err))
else:
    raise AssertionError("expected autograd to refuse a modified saved tensor")

try:
    S[rows, T] = 0.0  # S is a leaf that requires grad
except RuntimeError as err:
    print(first_line(err))
else:
    raise AssertionError("expected autograd to refuse an in-place write into a leaf")

# %% [markdown]
# ## 4. Oracles: `nn.MultiMarginLoss` divides by $K$, scikit-learn takes the max
#
# ORACLES.md lists two reference implementations, and neither is the chapter's loss as such:
#
# | reference | what it computes (per example) | conversion to the chapter's loss |
# |---|---|---|
# | `nn.MultiMarginLoss(margin=Δ)` / `F.multi_margin_loss` | $\frac1K\sum_{j\ne c}\max(0, \Delta - s_c + s_j)$ | multiply by $K$ |
# | `sklearn.metrics.hinge_loss(c, s, labels=range(K))` | batch mean of $\max(0, 1 - s_c + \max_{j\ne c} s_j)$ | none: it is Crammer–Singer; for $\Delta\neq 1$ use $\Delta\cdot$`hinge_loss(c, s/Δ)` |

# %%
K = 10
for delta in [0.5, 1.0, 2.0]:
    ww_utils = utils.multiclass_hinge_loss(S.detach(), T, margin=delta, reduction="none")
    ww_torch = K * F.multi_margin_loss(S.detach(), T, margin=delta, reduction="none")
    assert_close(ww_utils, ww_torch)
    assert_close(multiclass_hinge_loss(S.detach(), T, margin=delta), ww_utils.mean())  # the chapter's code
    assert_close(K * nn.MultiMarginLoss(margin=delta)(S.detach(), T), ww_utils.mean())

    cs_utils = utils.multiclass_hinge_loss(S.detach(), T, margin=delta, variant="crammer_singer")
    cs_sklearn = delta * sklearn_hinge_loss(T.numpy(), (S.detach() / delta).numpy(), labels=range(K))
    assert_close(cs_utils.item(), float(cs_sklearn))

chapter_value = multiclass_hinge_loss(S.detach(), T).item()
print(f"chapter's loss (Weston-Watkins, mean)   : {chapter_value:.4f}")
print(f"nn.MultiMarginLoss()                    : {nn.MultiMarginLoss()(S.detach(), T).item():.4f}  (x K = {K} gives it back)")
print(f"sklearn.metrics.hinge_loss              : {sklearn_hinge_loss(T.numpy(), S.detach().numpy(), labels=range(K)):.4f}"
      "  (= Crammer-Singer, not the chapter's sum)")
ww_ex = utils.multiclass_hinge_loss(S.detach(), T, reduction="none")
cs_ex = utils.multiclass_hinge_loss(S.detach(), T, variant="crammer_singer", reduction="none")
assert bool((cs_ex <= ww_ex).all() and (ww_ex <= (K - 1) * cs_ex).all())  # the bounds of step 3
ratio = ww_ex[cs_ex > 0] / cs_ex[cs_ex > 0]
print(f"per example with positive loss, WW / CS ranges from {ratio.min():.2f} to {ratio.max():.2f} (bounds: 1 and K-1 = {K - 1})")

# %% [markdown]
# Two more details of the torch oracle (ORACLES.md): targets must be `int64` (an `int32` tensor is
# refused), and its gradient at an exact kink is $0$, whereas the chapter's `torch.clamp` and `utils`
# count the kink as active. The values agree; the subgradient choice at a tie does not:

# %%
try:
    F.multi_margin_loss(S.detach(), T.int())
except RuntimeError as err:
    print(first_line(err))

tie = torch.tensor([[0.0, 1.0, 2.0, 1.0]], dtype=F64)  # correct class 2: classes 1 and 3 sit exactly at s_c - 1
for name, fn in [("utils", lambda x: utils.multiclass_hinge_loss(x, torch.tensor([2]))),
                 ("chapter", lambda x: multiclass_hinge_loss(x, torch.tensor([2]))),
                 ("K * F.multi_margin_loss", lambda x: 4 * F.multi_margin_loss(x, torch.tensor([2])))]:
    x = tie.clone().requires_grad_(True)
    fn(x).backward()
    print(f"{name:>24}: loss {fn(x).item():.1f}, gradient {x.grad[0].tolist()}")

# %% [markdown]
# ## 5. Loss and gradient against the correct score
#
# Fix the wrong scores of a $K=4$ example at $s_1=-0.5$, $s_2=0.5$, $s_3=1.5$ and slide the correct
# score $s_0 = s_c$ from $-2$ to $4$. Each wrong class stops contributing once $s_c$ passes
# $s_j + \Delta$, so the Weston–Watkins loss has three kinks ($0.5$, $1.5$, $2.5$) and its slope steps
# from $-3$ to $0$; Crammer–Singer follows only the best wrong class and has one kink at $2.5$.

# %%
DELTA = 1.0
WRONG = torch.tensor([-0.5, 0.5, 1.5], dtype=F64)
KINKS = (WRONG + DELTA).tolist()


def scores_from(s_c):
    """(M,) correct scores -> (M, 4) score rows [s_c, s_1, s_2, s_3]; class 0 is correct."""
    return torch.cat([s_c.unsqueeze(1), WRONG.expand(s_c.shape[0], 3)], dim=1)


def ww_of_sc(s_c):
    return utils.multiclass_hinge_loss(scores_from(s_c), torch.zeros(s_c.shape[0], dtype=torch.long),
                                       margin=DELTA, reduction="none")


def cs_of_sc(s_c):
    return utils.multiclass_hinge_loss(scores_from(s_c), torch.zeros(s_c.shape[0], dtype=torch.long),
                                       margin=DELTA, variant="crammer_singer", reduction="none")


lp = plot_loss_and_gradient(
    {"Weston-Watkins (sum)": ww_of_sc, "Crammer-Singer (max)": cs_of_sc},
    {"Weston-Watkins (sum)": lambda x: -(WRONG - x[:, None] + DELTA > 0).sum(1).double(),
     "Crammer-Singer (max)": lambda x: -(WRONG.max() - x + DELTA > 0).double()},
    x=torch.linspace(-2.0, 4.0, 481, dtype=F64), kinks=KINKS,
    xlabel="correct-class score $s_c$ (score units)",
    title="The sum's slope steps down by one per wrong class left inside the margin; the max has one kink",
)
lp.axes[1].set_ylabel("d loss / d $s_c$")
plt.show()
print({k: f"{v:.1e}" for k, v in lp.max_gradient_gap.items()})
assert max(lp.max_gradient_gap.values()) < 1e-12

# %% [markdown]
# The gradient with respect to **every** class score, on the same slide: each wrong class $j$ receives
# $+1$ while $s_c < s_j + \Delta$ and $0$ after; the correct class receives minus the number of
# violators. Autograd (dots) over the formulas of step 4 (lines):

# %%
grid = torch.linspace(-2.0, 4.0, 481, dtype=F64)
fig, axes = plt.subplots(1, 2, figsize=(9.0, 3.4), sharey=True)
away = torch.stack([(grid - k).abs() > 1e-9 for k in KINKS]).all(0)
for ax, variant, title in [(axes[0], "weston_watkins", "Weston-Watkins (sum)"),
                           (axes[1], "crammer_singer", "Crammer-Singer (max)")]:
    x = scores_from(grid).requires_grad_(True)
    utils.multiclass_hinge_loss(x, torch.zeros(len(grid), dtype=torch.long), variant=variant, reduction="sum").backward()
    viol = WRONG - grid[:, None] + DELTA > 0  # (M, 3): is wrong class j inside the margin?
    if variant == "crammer_singer":
        viol = viol & (WRONG == WRONG.max())
    analytic = torch.cat([-viol.sum(1, keepdim=True), viol], dim=1).double()
    assert_close(x.grad[away], analytic[away])
    assert_close(x.grad.sum(1), torch.zeros(len(grid), dtype=F64))
    for j in range(4):
        name = "$s_c$ (correct)" if j == 0 else f"$s_{j}$ = {WRONG[j - 1].item():+.1f}"
        ax.plot(grid, analytic[:, j] + 0.04 * (j - 1.5), color=PALETTE[j], label=name)  # tiny offsets: no overlap
        ax.plot(grid[::12], x.grad[::12, j], "o", ms=3, color=PALETTE[j], alpha=0.7)
    for k in KINKS:
        ax.axvline(k, color="grey", ls=":", lw=1)
    ax.set_title(title)
    ax.set_xlabel("correct-class score $s_c$ (score units)")
axes[0].set_ylabel("d loss / d $s_j$ (lines offset by ±0.06)")
axes[0].legend(title="gradient w.r.t.", fontsize=8)
fig.suptitle("Each wrong class is pushed down until $s_c \\geq s_j + \\Delta$; the correct class is pushed up by the count")
plt.show()


# %% [markdown]
# ## 6. A loop versus the vectorised loss
#
# The definition reads like a double loop over examples and wrong classes. Written that way with torch
# scalars it gives the same value and the same gradient, but every scalar operation goes through
# Python and the autograd machinery; the vectorised version does $B \times K$ operations in a few
# kernel calls. (Times are measured on a shared machine and vary; no assertion is made on them.)

# %%
def loop_multiclass_hinge(scores, targets, margin=1.0):
    total = scores.new_zeros(())
    for i in range(scores.shape[0]):
        c = int(targets[i])
        for j in range(scores.shape[1]):
            if j != c:
                total = total + torch.clamp(scores[i, j] - scores[i, c] + margin, min=0.0)
    return total / scores.shape[0]


def best_time(fn, repeat=3):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


Sb = torch.randn(64, 10, dtype=F64, requires_grad=True)
Tb = torch.randint(0, 10, (64,))
loop_value = loop_multiclass_hinge(Sb, Tb)
(g_loop,) = torch.autograd.grad(loop_value, Sb)
vec_value = utils.multiclass_hinge_loss(Sb, Tb)
(g_vec,) = torch.autograd.grad(vec_value, Sb)
assert_close(loop_value, vec_value)
assert_close(g_loop, g_vec)
assert_close(multiclass_hinge_loss(Sb, Tb), vec_value)

t_loop = best_time(lambda: loop_multiclass_hinge(Sb, Tb))
t_chapter = best_time(lambda: multiclass_hinge_loss(Sb, Tb))
t_utils = best_time(lambda: utils.multiclass_hinge_loss(Sb, Tb))
print(f"B=64, K=10 (forward only): loop {t_loop * 1e3:.2f} ms, chapter's vectorised {t_chapter * 1e3:.3f} ms, "
      f"utils {t_utils * 1e3:.3f} ms (input checks included)")
print(f"the chapter's vectorised code is {t_loop / t_chapter:.0f}× faster than the loop")

# %% [markdown]
# ## 7. Experiment: Weston–Watkins, Crammer–Singer and cross-entropy on digits
#
# "This loss can be used with any neural network that outputs class scores." We train the same linear
# model $s = Wx + b$ (64 pixels $\to$ 10 scores) on the handwritten digits (1257 training, 540 test
# images, standardised) three times, changing only the loss: the chapter's Weston–Watkins sum,
# Crammer–Singer, and cross-entropy. Full batch, Adam, 100 steps, a little weight decay; same
# initialisation. For each we report test accuracy and the share of training examples with loss
# exactly zero (under the loss it was trained with, and under the chapter's loss with $\Delta = 1$).

# %%
data = digits()
print(data)
X_tr, y_tr, X_te, y_te = data.X_train, data.y_train, data.X_test, data.y_test

LOSSES = {
    "Weston-Watkins": lambda s, y, **kw: utils.multiclass_hinge_loss(s, y, **kw),
    "Crammer-Singer": lambda s, y, **kw: utils.multiclass_hinge_loss(s, y, variant="crammer_singer", **kw),
    "cross-entropy": lambda s, y, **kw: F.cross_entropy(s, y, **kw),
}


def train_linear(loss_fn, *, steps=100, lr=0.02, weight_decay=1e-3):
    torch.manual_seed(0)  # same initial weights for every loss
    model = nn.Linear(64, 10)
    opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    for _ in range(steps):
        opt.zero_grad()
        loss_fn(model(X_tr), y_tr).backward()
        opt.step()
    return model


results, outputs = {}, {}
start = time.perf_counter()
for name, loss_fn in LOSSES.items():
    model = train_linear(loss_fn)
    with torch.no_grad():
        out_tr, out_te = model(X_tr), model(X_te)
    outputs[name] = out_tr
    results[name] = {
        "test acc": accuracy(out_te, y_te),
        "train acc": accuracy(out_tr, y_tr),
        "zero own loss": (loss_fn(out_tr, y_tr, reduction="none") == 0).double().mean().item(),
        "zero WW loss": (utils.multiclass_hinge_loss(out_tr, y_tr, reduction="none") == 0).double().mean().item(),
    }
print(f"three trainings: {time.perf_counter() - start:.1f} s")
print(f"{'loss':<16}{'test acc':>9}{'train acc':>10}{'zero own loss':>15}{'zero WW loss':>14}")
for name, r in results.items():
    print(f"{name:<16}{r['test acc']:>9.3f}{r['train acc']:>10.3f}{r['zero own loss']:>15.3f}{r['zero WW loss']:>14.3f}")

# %% [markdown]
# What the numbers say (checked by the asserts below):
#
# - the three losses give test accuracies within a couple of points of each other on this easy,
#   nearly linearly separable problem; the chapter's remark that cross-entropy is usually preferred is
#   about probabilities and optimisation, not about a large accuracy gap here;
# - with either hinge loss most training examples end with loss **exactly zero**: they satisfy every
#   margin constraint and contribute no gradient any more. Crammer–Singer, which only penalises the
#   worst violation, leaves at least as many examples at zero as Weston–Watkins here;
# - cross-entropy's loss is mathematically never zero (softmax never gives probability exactly 1); the
#   rare exact zeros in float32 are rounding: once $\sum_{j\ne c} e^{s_j - s_c}$ falls below about
#   $6\times10^{-8}$ the log-sum-exp rounds to $s_c$. Its outputs nonetheless satisfy the $\Delta = 1$
#   margin for most examples (last column): separation comes as a by-product of pushing
#   probabilities to 1.

# %%
accs = [r["test acc"] for r in results.values()]
assert min(accs) > 0.9 and max(accs) - min(accs) < 0.03
for name in ["Weston-Watkins", "Crammer-Singer"]:
    assert results[name]["zero own loss"] > 0.8, name
assert results["cross-entropy"]["zero own loss"] < 0.01
assert results["Crammer-Singer"]["zero own loss"] >= results["Weston-Watkins"]["zero own loss"]


# %% [markdown]
# ## 8. Measuring the claim: zero loss exactly when every wrong class is $\Delta$ below
#
# Claim 3 of ORACLES.md, from step 3: $L = 0 \iff \min_{j\ne c}(s_c - s_j) \ge \Delta$. We compare the
# two **sets of examples** (not just their sizes): on the outputs of the three trained models, for
# both variants and several $\Delta$; then on random scores built to contain exact ties at
# $\min_{j\ne c}(s_c - s_j) = \Delta$, where the claim says the loss is zero (the constraint is $\ge$).
#
# In floating point the equivalence is exact as well, not only approximately: the loss computes
# $\mathrm{fl}(s_j - s_c) + \Delta$, the gap is $\mathrm{fl}(s_c - s_j) = -\mathrm{fl}(s_j - s_c)$,
# and a rounded sum is $\le 0$ exactly when the exact sum is.

# %%
def min_gap(scores, targets):
    """min over wrong classes of s_c - s_j, shape (N,)."""
    is_target = F.one_hot(targets, scores.shape[1]).bool()
    return scores.gather(1, targets[:, None]).squeeze(1) - scores.masked_fill(is_target, float("-inf")).amax(1)


checked = 0
for name, out in outputs.items():
    for delta in [0.5, 1.0, 2.0]:
        satisfied = min_gap(out, y_tr) >= delta
        for variant in ["weston_watkins", "crammer_singer"]:
            zero = utils.multiclass_hinge_loss(out, y_tr, margin=delta, variant=variant, reduction="none") == 0
            assert torch.equal(zero, satisfied), (name, delta, variant)
            checked += 1
        zero_torch = F.multi_margin_loss(out, y_tr, margin=delta, reduction="none") == 0  # the oracle
        assert torch.equal(zero_torch, satisfied)
    print(f"{name:<15} Delta=1: {int((min_gap(out, y_tr) >= 1).sum()):4d} of {len(y_tr)} "
          f"training examples have every wrong class >= 1 below; the same examples have zero loss")
print(f"{checked} (model, Delta, variant) combinations: zero-loss set == margin-satisfied set in every one")

# %% [markdown]
# Now random scores with exact ties. Scores are multiples of $\Delta/2$ (exact in floating point), so
# many examples have a smallest gap of *exactly* $\Delta$; we also nudge some of them just inside the
# margin (gap $\Delta - 10^{-9}$), where the loss must be positive.

# %%
g = torch.Generator().manual_seed(0)
for delta in [0.5, 1.0, 2.0]:
    R = torch.randint(-4, 5, (4000, 5), generator=g).to(F64) * (delta / 2)
    y = torch.randint(0, 5, (4000,), generator=g)
    nudge = torch.rand(4000, generator=g) < 0.1
    R[nudge, y[nudge]] -= 1e-9  # lower the correct score a hair
    gap = min_gap(R, y)
    for variant in ["weston_watkins", "crammer_singer"]:
        loss = utils.multiclass_hinge_loss(R, y, margin=delta, variant=variant, reduction="none")
        assert torch.equal(loss == 0, gap >= delta)
    assert torch.equal(F.multi_margin_loss(R, y, margin=delta, reduction="none") == 0, gap >= delta)
    assert torch.equal(torch.stack([multiclass_hinge_loss(R[i:i + 1], y[i:i + 1], margin=delta) for i in range(200)]) == 0,
                       gap[:200] >= delta)  # the chapter's code, one example at a time
    ties, near = int((gap == delta).sum()), int(((gap < delta) & (gap > delta - 1e-6)).sum())
    print(f"Delta={delta}: {ties} exact ties (gap == Delta, loss 0) and {near} examples 1e-9 inside "
          f"(loss > 0) among 4000; zero-loss set == gap >= Delta set")
    assert ties > 100 and near > 10

# %% [markdown]
# **Confirmed**: on trained outputs and on adversarial random scores, the examples with zero loss are
# exactly those whose every wrong class lies at least $\Delta$ below the correct one — ties included.
#
# One subtlety at the tie itself: the *loss* is zero there, but its *gradient* is a convention. The
# chapter's `torch.clamp` and `utils` still send a gradient (the kink counts as active, section 4),
# whereas `F.multi_margin_loss` sends none. So "zero loss" and "zero gradient" can differ, on exactly
# the examples sitting at the tie; on real-valued trained scores there are none:

# %%
for name, out in outputs.items():
    print(f"{name:<15} training examples with gap exactly 1: {int((min_gap(out, y_tr) == 1.0).sum())}")

# %% [markdown]
# ## Takeaways
#
# - The chapter's multiclass hinge loss is one binary hinge per wrong class on the score difference
#   $s_c - s_j$, summed (Weston–Watkins). Taking the max instead gives Crammer–Singer; both are zero
#   exactly when $\min_{j\neq c}(s_c - s_j) \ge \Delta$, and $L_{\text{CS}}\le L_{\text{WW}}\le (K-1)L_{\text{CS}}$.
# - Gradient: $+1$ for every wrong class inside the margin, minus their count for the correct class.
# - The chapter's `margins[arange, targets] = 0.0` is safe under autograd: it overwrites a non-leaf
#   tensor that no backward function saved. The same line after `torch.clamp` breaks backward. Without
#   it the loss is off by exactly $\Delta$ while the gradient is unchanged.
# - Oracles: `nn.MultiMarginLoss` $= L_{\text{WW}} / K$; scikit-learn's multiclass `hinge_loss` is
#   $L_{\text{CS}}$ (use $\Delta\cdot$`hinge_loss(c, s/Δ)` for other margins), not the chapter's sum.
# - Vectorised code is orders of magnitude faster than a loop, with identical values and gradients.
# - On digits, Weston–Watkins, Crammer–Singer and cross-entropy reach similar test accuracy with a
#   linear model; the hinge losses leave most training examples at exactly zero loss, cross-entropy
#   essentially none.
#
# **Exercises:** `exercises/05_multiclass_margin.ipynb`.
