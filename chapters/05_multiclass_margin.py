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
# - the derivation of the chapter's loss $\sum_{j\neq c}\max(0, s_j - s_c + \Delta)$ (*Weston–Watkins*), its
#   gradient with respect to the scores and to a linear model's weights, and the *Crammer–Singer* variant;
# - why the chapter's in-place line `margins[arange, targets] = 0.0` is safe under autograd, and which is not;
# - the oracles: `nn.MultiMarginLoss` is the chapter's loss **divided by $K$**, and scikit-learn's
#   multiclass `hinge_loss` is the Crammer–Singer **max**, not the chapter's sum;
# - on the digits data: Weston–Watkins, Crammer–Singer and cross-entropy compared, why a margin measured
#   in score units depends on the size of the weights, and a measurement of the claim "the loss is zero
#   exactly when every wrong class is at least $\Delta$ below the correct one", down to the last bit.

# %%
import time
import matplotlib.pyplot as plt
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
MARGIN = 1.0  # the chapter's Δ: drives the figures and the experiment below

# %% [markdown]
# ## 1. From $K$ scores to one loss
#
# The model outputs a score vector $s = f_\theta(x) \in \mathbb{R}^K$; let $c$ be the correct class.
# The chapter asks the correct score to exceed every incorrect score by at least $\Delta$:
# $s_c \ge s_j + \Delta$ for all $j \ne c$.
#
# **Step 1 — one constraint at a time.** Constraint $j$, $s_j - s_c + \Delta \le 0$, is violated by the
# positive part $\xi_j = \max(0,\, s_j - s_c + \Delta) = \max\big(0,\, \Delta - (s_c - s_j)\big)$: the binary
# hinge loss of notebook 02 applied to the **pairwise margin** $s_c - s_j$ (in the role of $ys$, $\Delta$ in
# the role of $1$).
#
# **Step 2 — combine the $K-1$ violations.** The chapter adds them (Weston & Watkins, 1999):
# $L_{\text{WW}} = \sum_{j \ne c} \max(0,\, s_j - s_c + \Delta)$. Keeping only the worst one gives the
# Crammer–Singer (2001) variant, $L_{\text{CS}} = \max\big(0,\, \Delta - s_c + \max_{j\ne c} s_j\big) = \max_{j \ne c}\xi_j$.
#
# **Step 3 — when is it zero?** A sum of non-negative terms is zero iff every term is zero, so
#
# $$ L_{\text{WW}} = 0 \iff \xi_j = 0 \;\forall j\ne c \iff \min_{j\neq c}(s_c - s_j) \ge \Delta \iff L_{\text{CS}} = 0 .$$
#
# Both forms have the same zero set; they differ in how they weigh several violations at once. Since the
# max is one of the terms and every term is at most the max, $L_{\text{CS}} \le L_{\text{WW}} \le (K-1)\,L_{\text{CS}}$.
#
# **Step 4 — the gradient with respect to the scores.** Where no term sits exactly at its kink,
#
# $$ g_j := \frac{\partial L_{\text{WW}}}{\partial s_j} = \mathbb{1}[s_j - s_c + \Delta > 0] \;\; (j\ne c), \qquad
# g_c := \frac{\partial L_{\text{WW}}}{\partial s_c} = -\sum_{j\ne c}\mathbb{1}[s_j - s_c + \Delta > 0]. $$
#
# Every violating wrong class is pushed down by 1, and the correct class is pushed up by the *number*
# of violators. The gradient sums to zero over the classes: adding a constant to all scores changes
# nothing. For Crammer–Singer only the best wrong class gets $+1$ and the correct class $-1$.
#
# **Step 5 — the gradient with respect to the weights.** For a linear model $s = Wx + b$ with rows
# $w_j$ ($W$ is $K\times D$), $s_j = w_j\cdot x + b_j$ depends on row $j$ only, so by the chain rule
#
# $$ \frac{\partial L}{\partial w_j} = g_j\, x, \qquad \frac{\partial L}{\partial b_j} = g_j, \qquad
# \text{i.e.}\quad \frac{\partial L}{\partial W} = g\,x^\top \;\; (K\times D). $$
#
# Per row: each violating wrong class moves its weight row by $-\eta x$ (away from the example), the correct
# class moves its row by $+\eta\,(\#\text{violators})\,x$ (towards it), and satisfied classes do not move.
# Over a batch the gradient of the mean loss is $\frac1N G^\top X$, with $G$ the $N\times K$ matrix of the $g$'s.
#
# **Step 6 — two classes.** With $K = 2$, $c \in \{0, 1\}$, write $y = +1$ for $c = 1$ and $y=-1$ for
# $c = 0$, and $s = s_1 - s_0$. The single wrong class gives $\max(0, \Delta - ys)$: the binary hinge
# loss of notebook 02 on the score difference (checked in the book's test suite).
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
# Line by line: `correct_scores` picks $s_c$ of each row and keeps it as a column `(B, 1)`, so that
# `scores - correct_scores + margin` broadcasts to the `(B, K)` matrix of $s_j - s_c + \Delta$. Its
# correct-class column holds $\Delta$, which is no constraint, so the next line overwrites it with $0$; the clamp
# takes positive parts, the row sum is $L_{\text{WW}}$, `.mean()` averages over the batch. Below,
# `multiclass_hinge_loss` is the chapter's function; the book's is `utils.multiclass_hinge_loss`.
#
# ## 3. Is the in-place assignment safe under autograd?
#
# `margins[rows, targets] = 0.0` modifies a tensor in the autograd graph. PyTorch allows that when no
# backward function needs the *old* value. Here:
#
# - `margins` is not a leaf: it comes from a subtraction and an addition, which save no tensor;
# - the assignment itself is recorded (`IndexPutBackward`): the gradient into the overwritten entries is set
#   to zero, which is right, since those entries are now the constant $0$;
# - `torch.clamp`, which does need its input for its backward (the mask `input >= min`: an input exactly
#   at the kink counts as active and passes the gradient, measured below), is applied *after* the
#   assignment, so it saves the modified tensor.
#
# Autograd checks this with a version counter on every tensor; nothing saved was modified, so backward works.
# The gradient, against `utils` and step 4 (random float64 scores, so no score sits exactly at a kink):

# %%
at_kink = torch.zeros(1, requires_grad=True)
torch.clamp(at_kink, min=0.0).backward()
print(f"d clamp(x, min=0) / dx at x = 0: {at_kink.grad.item():.0f}  (the mask is input >= min)")

S = torch.randn(64, 10, dtype=F64, requires_grad=True)
T = torch.randint(0, 10, (64,))
(grad_chapter,) = torch.autograd.grad(multiclass_hinge_loss(S, T), S)
assert_close(grad_chapter, torch.autograd.grad(utils.multiclass_hinge_loss(S, T), S)[0])


def step4_gradient(scores, targets, margin=1.0):
    """g of step 4 for every row: (N, K) scores, (N,) targets -> (N, K) d L_WW / d scores."""
    is_target = F.one_hot(targets, scores.shape[1]).bool()
    active = (scores - scores.gather(1, targets[:, None]) + margin > 0) & ~is_target
    return active.to(scores.dtype) - is_target * active.sum(1, keepdim=True).to(scores.dtype)


assert_close(grad_chapter, step4_gradient(S.detach(), T) / 64)  # mean over the batch
assert_close(grad_chapter.sum(1), torch.zeros(64, dtype=F64))  # shift invariance
print("backward through the chapter's in-place code works; gradients equal utils' and step 4's")

# %% [markdown]
# The assignment is *needed* for the value, not for the gradient: without it every example adds the
# constant $\Delta$ of its correct-class entry; that entry's gradient is $+1$ (via `scores`) $-1$ (via
# `correct_scores`) $= 0$. So the loss would be off by exactly $\Delta$ with an unchanged gradient, a bug
# that training alone would never reveal (checked in the book's test suite).
#
# In-place operations *do* break autograd when they overwrite a value that a backward function saved.
# Move the same assignment one line later, after the clamp that saved `margins`, and backward fails:

# %%
rows = torch.arange(64)
margins = S - S[rows, T].unsqueeze(1) + 1.0
clamped = torch.clamp(margins, min=0.0)  # clamp saves `margins` for its backward
margins[rows, T] = 0.0                   # ... which is then modified in place
try:
    clamped.sum(dim=1).mean().backward()
except RuntimeError as err:
    print(f"RuntimeError: {str(err).splitlines()[0].split(' Hint:')[0]}")
else:
    raise AssertionError("expected autograd to refuse a modified saved tensor")

# %% [markdown]
# ## 4. Oracles: `nn.MultiMarginLoss` divides by $K$, scikit-learn takes the max
#
# Neither reference implementation is the chapter's loss as such (all oracles are listed on the
# [references page](../REFERENCES.md#oracles)):
#
# | reference | what it computes (per example) | conversion to the chapter's loss |
# |---|---|---|
# | `nn.MultiMarginLoss(margin=Δ)` / `F.multi_margin_loss` | $\frac1K\sum_{j\ne c}\max(0, \Delta - s_c + s_j)$ | multiply by $K$ |
# | `sklearn.metrics.hinge_loss(c, s, labels=range(K))` | batch mean of $\max(0, 1 - s_c + \max_{j\ne c} s_j)$ | none: it is Crammer–Singer; for $\Delta\neq 1$ use $\Delta\cdot$`hinge_loss(c, s/Δ)` |
#
# One visible check per variant at $\Delta = 1$ (other margins, the int64 requirement of the torch oracle and
# the bounds of step 3 are checked in the book's test suite):

# %%
K, S_ = 10, S.detach()
ww_utils = utils.multiclass_hinge_loss(S_, T, reduction="none")
assert_close(ww_utils, K * F.multi_margin_loss(S_, T, reduction="none"))
assert_close(multiclass_hinge_loss(S_, T), ww_utils.mean())  # the chapter's code
cs_utils = utils.multiclass_hinge_loss(S_, T, variant="crammer_singer")
assert_close(cs_utils.item(), float(sklearn_hinge_loss(T.numpy(), S_.numpy(), labels=range(K))))
print(f"chapter's loss (Weston-Watkins, mean): {multiclass_hinge_loss(S_, T).item():.4f};  nn.MultiMarginLoss(): "
      f"{nn.MultiMarginLoss()(S_, T).item():.4f} (x K = {K} gives it back);  sklearn.metrics.hinge_loss: "
      f"{sklearn_hinge_loss(T.numpy(), S_.numpy(), labels=range(K)):.4f} (= Crammer-Singer, not the chapter's sum)")

# %% [markdown]
# The values agree; the subgradient at an exact tie does not. The chapter's `torch.clamp` and `utils` count
# the kink as active, the torch oracle does not:

# %%
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
# $s_j + \Delta$, so the Weston–Watkins loss has three kinks ($0.5$, $1.5$, $2.5$ for $\Delta = 1$) and its
# slope steps from $-3$ to $0$; Crammer–Singer follows only the best wrong class and has one kink. Right of
# $s_c = s_2 + \Delta$ only class 3 can still violate and the two losses coincide (Crammer–Singer is dashed).

# %%
WRONG = torch.tensor([-0.5, 0.5, 1.5], dtype=F64)
KINKS = (WRONG + MARGIN).tolist()
GRID = torch.linspace(-2.0, 4.0, 481, dtype=F64)


def scores_from(s_c):
    """(M,) correct scores -> (M, 4) score rows [s_c, s_1, s_2, s_3]; class 0 is correct."""
    return torch.cat([s_c.unsqueeze(1), WRONG.expand(s_c.shape[0], 3)], dim=1)


def loss_of_sc(variant):
    return lambda s_c: utils.multiclass_hinge_loss(scores_from(s_c), torch.zeros(len(s_c), dtype=torch.long),
                                                   margin=MARGIN, variant=variant, reduction="none")


lp = plot_loss_and_gradient(
    {"Weston-Watkins (sum)": loss_of_sc("weston_watkins"), "Crammer-Singer (max)": loss_of_sc("crammer_singer")},
    {"Weston-Watkins (sum)": lambda x: -(WRONG - x[:, None] + MARGIN > 0).sum(1).double(),
     "Crammer-Singer (max)": lambda x: -(WRONG.max() - x + MARGIN > 0).double()},
    x=GRID, kinks=KINKS, xlabel="correct-class score $s_c$ (score units)",
    title="The sum's slope steps down by one per wrong class left inside the margin; the max has one kink",
)
for ax in lp.axes:
    for line in ax.lines:  # Crammer-Singer dashed, with crosses: Weston-Watkins shows where the two coincide
        if line.get_label().startswith("Crammer"):
            line.set(**({"linestyle": "--"} if line.get_marker() in ("None", "") else {"marker": "x"}))
lp.axes[0].legend(loc="upper right", fontsize=8)  # where the loss is flat
lp.axes[1].legend(loc="upper center", bbox_to_anchor=(0.5, -0.22), ncol=2, fontsize=8)  # below the panel
lp.axes[1].set_ylabel("d loss / d $s_c$")
plt.show()
assert max(lp.max_gradient_gap.values()) < 1e-12
print("max |autograd - analytic| < 1e-12 for both variants (kinks excluded)")

# %% [markdown]
# **The gradient with respect to the weights (step 5)**, checked by autograd on a randomly initialised linear
# model applied to 64 digit images: $\frac1N G^\top X$ with $G$ from step 4, and one row written as a loop.

# %%
data = digits()
X_tr, y_tr, X_te, y_te = data.X_train.double(), data.y_train, data.X_test.double(), data.y_test  # float64
lin = nn.Linear(64, 10).double()
Xb, yb = X_tr[:64], y_tr[:64]
utils.multiclass_hinge_loss(lin(Xb), yb).backward()
with torch.no_grad():
    G = step4_gradient(lin(Xb), yb)  # (64, 10)
    grad_W, grad_b = G.T @ Xb / len(yb), G.mean(0)  # (10, 64) and (10,)
assert_close((lin.weight.grad, lin.bias.grad), (grad_W, grad_b))
row3 = sum(G[i, 3] * Xb[i] for i in range(len(yb))) / len(yb)  # row j = mean of g_j x, written as a loop
assert_close(lin.weight.grad[3], row3)
print(f"dL/dW (10 x 64) and dL/db: autograd == G^T X / N and mean of G. Row 3 sums +x over the "
      f"{int((G[:, 3] > 0).sum())} examples where class 3 violates and -(count) x over the {int((yb == 3).sum())} of class 3")

# %% [markdown]
# ## 6. Experiment: Weston–Watkins, Crammer–Singer and cross-entropy on digits
#
# "This loss can be used with any neural network that outputs class scores." We train the same linear
# model $s = Wx + b$ (64 pixels $\to$ 10 scores) on the handwritten digits (1257 training, 540 test images,
# standardised) three times, changing only the loss (Weston–Watkins and Crammer–Singer with $\Delta$ =
# `MARGIN`, cross-entropy). Full batch, Adam, 1000 steps, weight decay $10^{-3}$, same initialisation, float64.
# We report test accuracy, the share of training examples that satisfy the margin
# ($\min_{j\ne c}(s_c - s_j) \ge \Delta$, i.e. zero Weston–Watkins loss) and the Frobenius norm $\|W\|$.

# %%
print(data)
LOSSES = {
    "Weston-Watkins": lambda s, y: utils.multiclass_hinge_loss(s, y, margin=MARGIN),
    "Crammer-Singer": lambda s, y: utils.multiclass_hinge_loss(s, y, margin=MARGIN, variant="crammer_singer"),
    "cross-entropy": F.cross_entropy,
}


def train_linear(loss_fn, *, steps=1000, lr=0.02, weight_decay=1e-3):
    torch.manual_seed(0)  # same initial weights for every loss
    model = nn.Linear(64, 10).double()
    opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    for _ in range(steps):
        opt.zero_grad()
        loss_fn(model(X_tr), y_tr).backward()
        opt.step()
    return model


def satisfied(scores, targets):
    """Share of the (N, K) rows whose every wrong class is at least MARGIN below the correct one (zero WW loss)."""
    return (utils.multiclass_hinge_loss(scores, targets, margin=MARGIN, reduction="none") == 0).double().mean().item()


results, outputs = {}, {}
start = time.perf_counter()
for name, loss_fn in LOSSES.items():
    model = train_linear(loss_fn)
    with torch.no_grad():
        outputs[name] = model(X_tr)
        results[name] = {"test acc": accuracy(model(X_te), y_te), "margin satisfied": satisfied(outputs[name], y_tr),
                         "|W|": model.weight.norm().item()}
print(f"three trainings: {time.perf_counter() - start:.1f} s")
ww_norm = results["Weston-Watkins"]["|W|"]
for name, r in results.items():  # the same classifier with its scores shrunk to Weston-Watkins' weight size
    r["at WW size"] = satisfied(outputs[name] * ww_norm / r["|W|"], y_tr)
print(f"{'loss':<16}{'test acc':>9}{'margin satisfied':>18}{'|W|':>6}{'satisfied at WW|W|':>20}")
for name, r in results.items():
    print(f"{name:<16}{r['test acc']:>9.2f}{r['margin satisfied']:>18.2f}{r['|W|']:>6.1f}{r['at WW size']:>20.2f}")

# %% [markdown]
# What the numbers say (checked by the asserts below):
#
# - test accuracies are within a few points of each other (one split, one initialisation): the chapter's
#   preference for cross-entropy is about probabilities and optimisation, not a large accuracy gap here;
# - both hinge models satisfy the margin on almost every training example: those have loss **exactly
#   zero** and send no gradient any more (cross-entropy's loss is never exactly zero);
# - cross-entropy, never trained for a margin, satisfies $\Delta = 1$ on *more* training examples than
#   Weston–Watkins. The reason is scale: a margin is measured in score units, and scores grow with $W$.
#   Cross-entropy keeps pushing the correct score up (its loss is positive for every example) until weight
#   decay stops it; a hinge loss stops pushing an example once it clears $\Delta$, and weight decay then
#   shrinks $W$. So the cross-entropy model ends with weights about twice as large. Shrink its scores to the
#   Weston–Watkins model's $\|W\|$ (the same classifier, same predictions; last column) and it satisfies the
#   margin on *fewer* examples than Weston–Watkins. A margin compares models only at the same weight size.

# %%
accs = [r["test acc"] for r in results.values()]
assert min(accs) > 0.9 and max(accs) - min(accs) < 0.05
ww, ce = results["Weston-Watkins"], results["cross-entropy"]
assert min(ww["margin satisfied"], results["Crammer-Singer"]["margin satisfied"]) > 0.9
assert ce["margin satisfied"] > ww["margin satisfied"] and ce["|W|"] > 1.5 * ww["|W|"]
assert ce["at WW size"] < ww["margin satisfied"] - 0.005  # at equal weight size, the hinge model has more margin


# %% [markdown]
# ## 7. Measuring the claim: zero loss exactly when every wrong class is $\Delta$ below
#
# The claim, from step 3: $L = 0 \iff \min_{j\ne c}(s_c - s_j) \ge \Delta$. We compare the two **sets of
# examples** (not just their sizes) on the outputs of the three trained models, for $\Delta \in \{0.5, 1, 2\}$,
# for `utils` (both variants), the torch oracle and the chapter's code:

# %%
def min_gap(scores, targets):
    """min over wrong classes of s_c - s_j, shape (N,)."""
    is_target = F.one_hot(targets, scores.shape[1]).bool()
    return scores.gather(1, targets[:, None]).squeeze(1) - scores.masked_fill(is_target, float("-inf")).amax(1)


IMPLEMENTATIONS = {
    "utils WW": lambda s, y, d: utils.multiclass_hinge_loss(s, y, margin=d, reduction="none"),
    "utils CS": lambda s, y, d: utils.multiclass_hinge_loss(s, y, margin=d, variant="crammer_singer", reduction="none"),
    "torch": lambda s, y, d: F.multi_margin_loss(s, y, margin=d, reduction="none"),
    "chapter": lambda s, y, d: torch.stack([multiclass_hinge_loss(s[i:i + 1], y[i:i + 1], d) for i in range(len(y))]),
}
checked = 0
for name, out in outputs.items():
    for delta in [0.5, 1.0, 2.0]:
        for impl in IMPLEMENTATIONS.values():
            assert torch.equal(impl(out, y_tr, delta) == 0, min_gap(out, y_tr) >= delta), (name, delta)
            checked += 1
print(f"{checked} (model, Delta, implementation) combinations: zero-loss set == margin-satisfied set in every one")

# %% [markdown]
# **Confirmed** on trained outputs. Down to the last bit, though, the answer depends on the order in which
# the loss is evaluated, because the gap is itself a rounded number. Take $s_c = -1.563783342042287$ and
# $s_j = s_c - 1$ (rounded): the computed gap $\mathrm{fl}(s_c - s_j)$ is $0.9999999999999998 < \Delta = 1$.

# %%
pair = torch.tensor([[-1.563783342042287, -1.563783342042287 - 1.0]], dtype=F64)
print(f"computed gap s_c - s_j = {(pair[0, 0] - pair[0, 1]).item()!r}  (< Delta = 1)")
for name, impl in IMPLEMENTATIONS.items():
    print(f"{name:>9}: loss {impl(pair, torch.tensor([0]), 1.0).item():.2g}")

# %% [markdown]
# The chapter's code computes $\mathrm{fl}(\mathrm{fl}(s_j - s_c) + \Delta)$. Since
# $\mathrm{fl}(s_c - s_j) = -\mathrm{fl}(s_j - s_c)$ and a rounded sum is $\le 0$ exactly when the exact sum
# is, its loss is zero **exactly** when the computed gap is $\ge \Delta$: here $2^{-52} > 0$. `utils` and
# `F.multi_margin_loss` compute $s_j + (\Delta - s_c)$ instead; by the same argument their loss is zero exactly
# when $s_j \le \mathrm{fl}(s_c - \Delta)$, i.e. the threshold is rounded instead of the gap, and here they
# return $0$. Both are exact statements about their own arithmetic; they differ only for gaps within one
# rounding error of $\Delta$, and on the trained outputs above all four agree. The book's test suite checks
# both statements on thousands of random ties whose values are *not* multiples of $\Delta/2$.
#
# At a tie the *loss* is zero but the *gradient* is a convention (section 4): `torch.clamp` and `utils` still
# send one, `F.multi_margin_loss` does not, so "zero loss" and "zero gradient" differ exactly on examples
# sitting at the tie.

# %% [markdown]
# ## Takeaways
#
# - The chapter's loss is one binary hinge per wrong class on $s_c - s_j$, summed (Weston–Watkins); the max
#   gives Crammer–Singer. Both are zero exactly when $\min_{j\neq c}(s_c - s_j) \ge \Delta$.
# - Gradient: $+1$ for every wrong class inside the margin, minus their count for the correct class; for a
#   linear model, weight row $j$ receives that number times $x$ ($\partial L/\partial W = g\,x^\top$).
# - The chapter's `margins[arange, targets] = 0.0` is safe under autograd: it overwrites a non-leaf
#   tensor that no backward function saved. The same line after `torch.clamp` breaks backward.
# - Oracles: `nn.MultiMarginLoss` $= L_{\text{WW}} / K$; scikit-learn's multiclass `hinge_loss` is
#   $L_{\text{CS}}$ (use $\Delta\cdot$`hinge_loss(c, s/Δ)` for other margins), not the chapter's sum.
# - On digits the three losses reach similar test accuracy. Cross-entropy clears $\Delta = 1$ on more
#   examples because its weights are larger; at equal $\|W\|$ the Weston–Watkins model has the larger margins.
#
# [Exercises for this section](../exercises/ex05_multiclass_margin.ipynb)
