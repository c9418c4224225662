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
# # 03 · Gradient behaviour
#
# *Follows the chapter section "Gradient Behavior".*
#
# The chapter says that once an example is correctly classified with enough separation, hinge loss
# **ignores it**: its gradient is exactly zero. Logistic loss and cross-entropy, by contrast, "continue
# to provide small gradients even for correctly classified examples".
#
# **What you will learn**
#
# - to derive the (sub)gradient of hinge loss with the chain rule, with respect to the score $s$ and
#   then to the weights $w$ and bias $b$ of a linear model, and to check both against autograd;
# - why the point $ys = 1$ needs a convention, which one each PyTorch function (and scikit-learn)
#   picks, which one `utils` uses, and why `torch.autograd.gradcheck` fails there;
# - to *measure* on real data how many training examples still receive gradient under hinge and
#   logistic loss, and how large those gradients are.

# %%
import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F
from torch.testing import assert_close

import utils
from utils.data import breast_cancer
from utils.plotting import PALETTE, plot_loss_and_gradient
from utils.reproducibility import seed_everything
from utils.training import LinearScorer, accuracy, fit

seed_everything(0)  # seeds Python, NumPy and torch; torch runs on one thread (bit-identical sums)
MARGIN = 1.0  # the hinge's required margin m (the chapter's 1): drives the figures and the experiment


# %% [markdown]
# ## Intuition
#
# Hinge loss $\max(0, 1 - ys)$ is flat (zero) once the margin $ys$ reaches 1, and a straight line of
# slope $-1$ before it. A flat piece has zero slope, so an example sitting on it sends no signal back
# to the model. Logistic loss $\log(1 + e^{-ys})$ never becomes exactly flat: it only *approaches*
# zero, so every example keeps pulling, more and more weakly.
#
# ## Derivation
#
# Write the loss of one example as a composition, with the violation $u = 1 - ys$:
# $L = \max(0, u)$.
#
# **Step 1, the outer function.** $\max(0, u)$ is $0$ for $u < 0$ and $u$ for $u > 0$, so
# $\partial L/\partial u$ is $0$ for $u < 0$ and $1$ for $u > 0$; at $u = 0$ there is no derivative:
# any value in $[0, 1]$ is a valid *subgradient*.
#
# **Step 2, the inner function.** $u = 1 - ys$ is linear in $s$ with $\partial u / \partial s = -y$.
#
# **Step 3, the chain rule.** Multiply, and translate $u > 0$ back into $ys < 1$:
#
# $$
# \frac{\partial L}{\partial s}
# = \frac{\partial L}{\partial u}\,\frac{\partial u}{\partial s}
# = \begin{cases}
# 0, & ys > 1, \\
# -y, & ys < 1,
# \end{cases}
# \qquad
# \text{at } ys = 1: \text{ any } g \text{ between } -y \text{ and } 0 .
# $$
#
# The chapter writes the zero branch as $ys \geq 1$, i.e. it picks $0$ at the kink: one valid choice
# among many (see "Kink conventions" below). The magnitude is all-or-nothing: $1$ inside the margin,
# $0$ outside. (With margin $m$, replace $1$ by $m$ throughout.)
#
# **Step 4, the weights.** For a linear model $s = w\cdot x + b$, one more chain rule with
# $\partial s/\partial w = x$ and $\partial s/\partial b = 1$ gives, away from the kink,
#
# $$
# \frac{\partial L}{\partial w} = -y\,x\,\mathbb{1}[ys < 1], \qquad
# \frac{\partial L}{\partial b} = -y\,\mathbb{1}[ys < 1],
# $$
#
# and for the mean over $N$ examples, $\frac1N\sum_i -y_i x_i \mathbb{1}[y_i s_i < 1]$: a sum over the
# violating examples only. Each of them pushes $w$ by its own $y_i x_i$, whatever the size of its
# violation.
#
# For comparison, logistic loss $L = \log(1 + e^{-ys})$ has, by the same chain rule,
#
# $$
# \frac{\partial L}{\partial s} = \frac{e^{-ys}}{1 + e^{-ys}}\,(-y) = -y\,\sigma(-ys),
# \qquad \frac{\partial L}{\partial w} = -y\,\sigma(-ys)\,x,
# $$
#
# and since the sigmoid $\sigma$ is strictly positive, this is **never exactly zero**, only small
# ($|\partial L/\partial s| = \sigma(-ys) < \sigma(-1) \approx 0.27$ once $ys > 1$).

# %% [markdown]
# ## Implementation from scratch, checked against autograd, `utils` and the oracles
#
# The losses per example, and their analytic derivatives with respect to the score $s$. The oracles
# are PyTorch's `F.margin_ranking_loss(s, 0, y, margin=m)` for the hinge and `F.soft_margin_loss` for
# the logistic loss (all of the book's oracles: [references](../REFERENCES.md#oracles)).

# %%
def hinge_from_scratch(scores, targets, margin=MARGIN):
    """max(0, margin - y s) per example, shape (N,) -> (N,)."""
    return torch.clamp(margin - targets * scores, min=0.0)


def hinge_grad(scores, targets, margin=MARGIN):
    """Analytic dL/ds of hinge loss: -y where y s < margin, else 0 (the chapter's choice at the kink)."""
    return torch.where(targets * scores < margin, -targets, torch.zeros_like(scores))


def logistic_from_scratch(scores, targets):
    """log(1 + exp(-y s)) per example, computed stably as softplus(-y s)."""
    return F.softplus(-targets * scores)


def logistic_grad(scores, targets):
    """Analytic dL/ds of logistic loss: -y sigmoid(-y s), never exactly 0."""
    return -targets * torch.sigmoid(-targets * scores)


def autograd_grad(loss_fn, scores, targets):
    """Per-example dL/ds by autograd (the losses are per example, so the gradient of the sum is it)."""
    scores = scores.detach().clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(loss_fn(scores, targets).sum(), scores)
    return grad


scores = torch.randn(1000, dtype=torch.float64) * 2
targets = torch.where(torch.rand(1000) < 0.5, -1.0, 1.0).to(torch.float64)
away = (targets * scores - MARGIN).abs() > 1e-6  # points not at the kink
print(f"{int((~away).sum())} of {len(scores)} random points lie at the kink ys = m")

hinge_oracle = lambda s, y: F.margin_ranking_loss(  # noqa: E731
    s, torch.zeros_like(s), y, margin=MARGIN, reduction="none")
assert_close(hinge_from_scratch(scores, targets), utils.hinge_loss(scores, targets, margin=MARGIN,
                                                                   reduction="none"))
assert_close(hinge_from_scratch(scores, targets), hinge_oracle(scores, targets))
assert_close(logistic_from_scratch(scores, targets), utils.logistic_loss(scores, targets, reduction="none"))
assert_close(logistic_from_scratch(scores, targets), F.soft_margin_loss(scores, targets, reduction="none"))

for name, loss_fn, analytic in [  # the derivatives: analytic against autograd of utils and of the oracles
    ("hinge (utils)", lambda s, y: utils.hinge_loss(s, y, margin=MARGIN, reduction="none"), hinge_grad),
    ("hinge (margin_ranking_loss)", hinge_oracle, hinge_grad),
    ("logistic (utils)", lambda s, y: utils.logistic_loss(s, y, reduction="none"), logistic_grad),
    ("logistic (soft_margin_loss)", lambda s, y: F.soft_margin_loss(s, y, reduction="none"), logistic_grad),
]:
    assert_close(autograd_grad(loss_fn, scores, targets)[away], analytic(scores, targets)[away])
    print(f"{name:30s} autograd == analytic derivative at {int(away.sum())} points")

# %% [markdown]
# ### The gradient with respect to the weights, checked against autograd
#
# Step 4 on real data: the Wisconsin breast-cancer training set (398 examples, 30 standardised features,
# labels in $\{-1,+1\}$) and a linear scorer at random weights, so that some examples are inside the
# margin and some outside. Autograd differentiates the mean loss through `nn.Linear`; the analytic
# formula only needs the indicator $\mathbb{1}[ys < m]$ (or $\sigma(-ys)$) and one matrix product.

# %%
data = breast_cancer()
X, y = data.X_train, data.y_train
probe = LinearScorer(X.shape[1])
with torch.no_grad():
    probe.linear.weight.normal_(0, 0.3)
    probe.linear.bias.normal_(0, 0.3)
s_probe = probe(X).detach()
inside = (y * s_probe < MARGIN).double()
print(f"at these weights: {int(inside.sum())} of {len(y)} examples inside the margin; "
      f"closest |ys - m| = {(y * s_probe - MARGIN).abs().min().item():.1e} (so none at the kink)")
for name, loss_fn, weight in [("hinge", utils.hinge_loss, inside), ("logistic", utils.logistic_loss,
                                                                     torch.sigmoid(-y * s_probe))]:
    probe.zero_grad()
    kwargs = {"margin": MARGIN} if name == "hinge" else {}
    loss_fn(probe(X), y, **kwargs).backward()  # mean over the N examples
    dw = -(weight * y) @ X / len(y)  # (1/N) sum_i -y_i x_i 1[y_i s_i < m]  (or sigma(-y_i s_i))
    db = -(weight * y).sum() / len(y)
    assert_close(probe.linear.weight.grad[0], dw, rtol=0, atol=1e-12)
    assert_close(probe.linear.bias.grad[0], db, rtol=0, atol=1e-12)
    print(f"{name:8s} dL/dw (30 entries) and dL/db: max |autograd - analytic| < 1e-12")

# %% [markdown]
# ## Loss and gradient against the margin
#
# With $y = +1$ the score *is* the margin, so $\partial L / \partial s = \partial L / \partial (ys)$.
# Dots are autograd, lines the analytic derivatives above; the dotted line marks the kink.

# %%
ones = lambda m: torch.ones_like(m)  # noqa: E731  y = +1, so s = ys
plot = plot_loss_and_gradient(
    {
        "hinge": lambda m: utils.hinge_loss(m, ones(m), margin=MARGIN, reduction="none"),
        "logistic": lambda m: utils.logistic_loss(m, ones(m), reduction="none"),
    },
    {
        "hinge": lambda m: hinge_grad(m, ones(m)),
        "logistic": lambda m: logistic_grad(m, ones(m)),
    },
    kinks=[MARGIN],
    margin=MARGIN,
    title=f"Hinge gradient jumps to exactly 0 at ys = {MARGIN:g}; logistic gradient only fades",
)
for ax in plot.axes:  # one legend under both panels, off the curves and the margin line
    ax.get_legend().remove()
plot.fig.legend(*plot.axes[1].get_legend_handles_labels(), loc="outside lower center", ncol=3, fontsize=8)
plt.show()
assert all(gap < 1e-12 for gap in plot.max_gradient_gap.values())
print("max |autograd - analytic| away from the kink: < 1e-12 for both losses")

# %% [markdown]
# ## Kink conventions: what autograd returns exactly at $ys = 1$
#
# At the kink autograd cannot compute a derivative; each function returns *one* subgradient, hard-coded
# in its backward formula. All of $[-y, 0]$ are correct subgradients, but different functions pick
# different ones. We evaluate every formulation of the chapter's hinge (margin 1) at $s = y$ (so
# $ys = 1$ exactly), for $y = +1$ and $y = -1$. (scikit-learn's `SGDClassifier` has no autograd: one SGD
# step from an example exactly on the margin shows that it moves the weights, i.e. it counts the kink
# as active, $-y$; the book's test suite measures it.)

# %%
y_kink = torch.tensor([1.0, -1.0], dtype=torch.float64)
zeros = torch.zeros_like(y_kink)
formulations = {
    "torch.clamp(1 - ys, min=0)": lambda s: torch.clamp(1 - y_kink * s, min=0),
    "torch.relu(1 - ys)": lambda s: torch.relu(1 - y_kink * s),
    "2 * F.multi_margin_loss([0, s], (y+1)//2)": lambda s: 2 * F.multi_margin_loss(
        torch.stack([0 * s, s], 1), ((y_kink + 1) // 2).long(), reduction="none"),
    "torch.maximum(1 - ys, zeros)": lambda s: torch.maximum(1 - y_kink * s, zeros),
    "F.margin_ranking_loss(s, 0, y, margin=1)": lambda s: F.margin_ranking_loss(
        s, zeros, y_kink, margin=1.0, reduction="none"),
    "utils.hinge_loss": lambda s: utils.hinge_loss(s, y_kink, reduction="none"),
}
kink_grads = {}
for name, fn in formulations.items():
    s = y_kink.clone().requires_grad_(True)  # s = y, so ys = 1 exactly
    loss = fn(s)
    assert torch.equal(loss, zeros)  # every formulation agrees on the loss value
    (kink_grads[name],) = torch.autograd.grad(loss.sum(), s)


convention = {-1.0: "-y (active)", 0.0: "0 (inactive)", -0.5: "-y/2 (average)"}
print(f"{'formulation':45s} {'y=+1':>6s} {'y=-1':>6s}  convention")
for name, g in kink_grads.items():
    g = g + 0.0  # turn -0.0 into 0.0 for printing
    print(f"{name:45s} {g[0].item():6.2f} {g[1].item():6.2f}  {convention[g[0].item()]}")

expected = {"torch.clamp(1 - ys, min=0)": -y_kink, "torch.relu(1 - ys)": zeros,
            "2 * F.multi_margin_loss([0, s], (y+1)//2)": zeros, "torch.maximum(1 - ys, zeros)": -y_kink / 2,
            "F.margin_ranking_loss(s, 0, y, margin=1)": -y_kink, "utils.hinge_loss": -y_kink}
for name, g in kink_grads.items():
    assert_close(g, expected[name], msg=name)


# %% [markdown]
# Three conventions for one loss: `clamp` passes the gradient through where its input equals the bound
# (active), `relu` and `multi_margin_loss` treat the kink as outside the margin (the chapter's formula),
# and `torch.maximum` splits the gradient evenly between its two equal arguments. The loss *values* agree
# everywhere; only the gradient at exactly $ys = 1$ differs, and all three are valid subgradients.
# `utils.hinge_loss` uses `clamp`: its docstring documents the active side, $-y$, as scikit-learn's SGD
# counts it (the test suite checks that the docstring and the behaviour agree).
#
# Does it matter? Exact ties are rare with real-valued scores, but not impossible: integer features,
# a model initialised on the margin, or a test that builds inputs with $ys = 1$ on purpose. It matters most
# for **tests**: an assertion on the gradient at the kink must state which convention it expects.
#
# ### `gradcheck` at the kink
#
# `torch.autograd.gradcheck` compares autograd with central finite differences
# $\big(L(s + \varepsilon) - L(s - \varepsilon)\big) / 2\varepsilon$. At the kink that difference is
# $(0 - \varepsilon)/2\varepsilon = -\tfrac12$ for $y = +1$, whatever convention autograd uses, so it must
# fail for `clamp` ($-1$) and `relu` ($0$); it would agree with `torch.maximum` by coincidence.
# Test gradients away from kinks, and assert the documented subgradient at the kink separately, as above.

# %%
def hinge_utils(s):
    return utils.hinge_loss(s, torch.ones_like(s), reduction="none")


at_kink = torch.tensor([1.0], dtype=torch.float64, requires_grad=True)
failed = False
try:
    torch.autograd.gradcheck(hinge_utils, (at_kink,))
except Exception as error:  # noqa: BLE001  gradcheck raises torch.autograd.gradcheck.GradcheckError
    failed = True
    print("at ys = 1: gradcheck raised", type(error).__name__)
assert failed

eps = 1e-6
central = (hinge_utils(at_kink.detach() + eps) - hinge_utils(at_kink.detach() - eps)) / (2 * eps)
print(f"finite difference at the kink: {central.item():.3f}, autograd: -1.000")

away_from_kink = torch.tensor([-1.5, 0.0, 0.5, 0.99, 1.01, 2.0], dtype=torch.float64, requires_grad=True)
passed = torch.autograd.gradcheck(hinge_utils, (away_from_kink,))
print(f"away from the kink (ys in {away_from_kink.tolist()}): gradcheck passed = {passed}")
assert passed

# %% [markdown]
# ## Experiment: which training examples still get gradient?
#
# The claim ([claim 1](../REFERENCES.md#claims)): *examples outside the margin give zero gradient under
# hinge loss; logistic loss still gives them small gradients.* On the breast-cancer training set, a
# linear scorer $s = w \cdot x + b$ is trained from zero by full-batch gradient descent (200 epochs,
# learning rate 0.1, no regularisation) once with hinge loss (margin $m$ = `MARGIN`) and once with
# logistic loss. After every epoch `fit` records the fraction of training examples whose per-example
# gradient $\partial L_i/\partial s_i$ is non-zero.

# %%
losses = {"hinge": lambda s, y, **kw: utils.hinge_loss(s, y, margin=MARGIN, **kw),
          "logistic": utils.logistic_loss}
models, histories = {}, {}
for name, loss_fn in losses.items():
    models[name] = LinearScorer(X.shape[1])
    histories[name] = fit(models[name], X, y, loss_fn, epochs=200, lr=0.1)

print(f"{'loss':9s} {'active fraction after epoch 1, 10, 50, 200':>45s}   train loss   test accuracy")
for name, h in histories.items():
    fractions = "  ".join(f"{h.active_fraction[e - 1]:.3f}" for e in (1, 10, 50, 200))
    test_acc = accuracy(models[name](data.X_test).detach(), data.y_test)
    print(f"{name:9s} {fractions:>45s}   {h.loss[-1]:10.4f}   {test_acc:13.3f}")

fig, ax = plt.subplots()
for colour, (name, h) in zip(PALETTE, histories.items()):
    ax.plot(range(1, len(h.active_fraction) + 1), h.active_fraction, color=colour, label=name)
ax.set(xlabel="epoch (full batch; 1 = after the first step)", ylim=(0, 1.05),
       ylabel="fraction of training examples\nwith non-zero gradient",
       title="Hinge loss stops using most examples; logistic loss never does")
ax.legend(loc="center right")
plt.show()

hinge_final = histories["hinge"].active_fraction[-1]
assert hinge_final < 0.2  # measured 0.080: about 1 example in 12 still receives gradient
assert min(histories["logistic"].active_fraction) == 1.0  # every example, every epoch

# %% [markdown]
# After 200 epochs only about 8% of the training examples still receive a hinge gradient, while every
# single example does under logistic loss, at every epoch. But "non-zero" is not "large": look at the
# sizes of the per-example gradients at the end of training. Does any example sit exactly on the kink
# $ys = m$, where the convention would decide? We count them too.

# %%
per_example = {}
for name, loss_fn in losses.items():
    s = models[name](X).detach()
    per_example[name] = {"grad": autograd_grad(lambda s_, y_: loss_fn(s_, y_, reduction="none"), s, y).abs(),
                         "margin": y * s}

for name, pe in per_example.items():
    g, outside = pe["grad"], pe["margin"] > MARGIN
    print(f"{name:9s}: {int(outside.sum())} of {len(g)} examples have ys > m; their |dL/ds|: "
          f"min {g[outside].min().item():.1e}, median {g[outside].median().item():.1e}, "
          f"max {g[outside].max().item():.1e}; inside the margin: median {g[~outside].median().item():.2f}")

hinge_pe, logistic_pe = per_example["hinge"], per_example["logistic"]
on_kink = int((hinge_pe["margin"] == MARGIN).sum())
closest = (hinge_pe["margin"] - MARGIN).abs().min().item()
print(f"hinge: examples exactly on the kink ys = m: {on_kink}; closest |ys - m| = {closest:.1e}")
assert on_kink == 0 and closest > 1e-4
assert torch.equal(hinge_pe["grad"] == 0, hinge_pe["margin"] > MARGIN)  # zero exactly outside the margin
assert bool((hinge_pe["grad"][hinge_pe["margin"] < MARGIN] == 1).all())  # all-or-nothing
assert (logistic_pe["grad"] > 0).all()  # never exactly zero, but small beyond the margin:
assert logistic_pe["grad"][logistic_pe["margin"] > MARGIN].max() < torch.sigmoid(torch.tensor(-MARGIN))

# %%
fig, (ax_zero, ax_hist) = plt.subplots(1, 2, gridspec_kw={"width_ratios": [1, 3]})
names = list(per_example)
zero_fractions = [(per_example[n]["grad"] == 0).double().mean().item() for n in names]
bars = ax_zero.bar(names, zero_fractions, color=PALETTE[:2])
ax_zero.bar_label(bars, labels=[f"{f:.2f}" for f in zero_fractions])
ax_zero.set(ylabel="fraction of training examples", title="|dL/ds| exactly 0", ylim=(0, 1))
nonzero = [per_example[n]["grad"][per_example[n]["grad"] > 0].numpy() for n in names]
ax_hist.hist(nonzero, bins=np.logspace(-16, 0.5, 34), color=PALETTE[:2],  # side by side: nothing hidden
             label=[f"{n} ({len(g)} non-zero)" for n, g in zip(names, nonzero)])
ax_hist.axvline(torch.sigmoid(torch.tensor(-MARGIN)).item(), color="black", ls="--", lw=1,
                label=f"σ(-{MARGIN:g}): ys = m")
ax_hist.set(xscale="log", xlabel="per-example |dL/ds| after training (log scale)", ylabel="examples",
            title="Non-zero gradients: hinge's are all exactly 1, logistic's spread down to 1e-13")
ax_hist.legend(loc="upper left")
plt.show()

# %% [markdown]
# The measurement confirms the chapter on this data:
#
# - **Hinge**: every example with $ys > 1$ (92% of the training set) has gradient *exactly* 0, and every
#   other one has $|\partial L/\partial s| = 1$ exactly. No example sat on the kink $ys = 1$ itself (the
#   closest was about $0.002$ away), so the kink convention played no part. Training is driven by the few
#   examples near or across the boundary, the future "support vectors".
# - **Logistic**: all examples have a non-zero gradient, but for correctly classified examples with
#   $ys > 1$ it is small (at most $\sigma(-1) \approx 0.27$, median about $0.007$, some as small as
#   $10^{-13}$).
#   These many tiny pulls keep increasing the margins of already well-classified examples, which is why
#   logistic training never "finishes" on separable data.
#
# A numerical caveat: "never exactly zero" is a statement about real numbers. In floating point
# $\sigma(-ys)$ underflows to 0 once $ys$ is large enough, about 104 in float32 and 745 in float64:

# %%
for dtype in (torch.float32, torch.float64):
    big = torch.tensor([50.0, 120.0, 800.0], dtype=dtype)
    grads = logistic_grad(big, torch.ones_like(big)).abs()
    print(f"{str(dtype):14s} |dL/ds| of logistic loss at ys = 50, 120, 800:",
          [f"{g:.1e}" for g in grads.tolist()])

# %% [markdown]
# ## Takeaways
#
# - Hinge loss: $\partial L/\partial s = -y$ inside the margin ($ys < 1$) and $0$ outside ($ys > 1$); for
#   a linear model $\partial L/\partial w = -y\,x\,\mathbb{1}[ys < 1]$ and
#   $\partial L/\partial b = -y\,\mathbb{1}[ys < 1]$.
# - At $ys = 1$ any value between $-y$ and $0$ is a subgradient, and libraries disagree on which one they
#   return: `clamp` gives $-y$, `relu` and `multi_margin_loss` give $0$, `torch.maximum` gives $-y/2$,
#   scikit-learn's SGD counts the kink as active ($-y$). `utils.hinge_loss` documents and returns $-y$.
# - `gradcheck` cannot validate a kink (finite differences average the two slopes): check gradients away
#   from kinks and assert the documented subgradient at the kink.
# - On breast cancer, after 200 epochs only 8% of training examples still get a hinge gradient; under logistic
#   loss 100% do, but the gradients of examples with $ys > 1$ are small (median about $0.007$).
#
# [Exercises for this section](../exercises/ex03_gradient_behaviour.ipynb): which examples still get
# gradient (the kink included), and a hinge loss fed $\{0,1\}$ labels to find and fix.
