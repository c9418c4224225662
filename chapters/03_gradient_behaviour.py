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
# - to derive the (sub)gradient $\partial L / \partial s$ of hinge loss with the chain rule through $ys$;
# - to check an analytic derivative against autograd, and why the point $ys = 1$ needs a convention;
# - which convention each PyTorch function (and scikit-learn) picks at the kink, and which one `utils` uses;
# - why `torch.autograd.gradcheck` fails at a kink and passes away from it;
# - to *measure* on real data how many training examples still receive gradient under hinge and
#   logistic loss, and how large those gradients are.

# %%
import inspect
import warnings

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F
from torch.testing import assert_close

import utils
from utils.data import breast_cancer
from utils.plotting import PALETTE, plot_curves, plot_loss_and_gradient
from utils.reproducibility import seed_everything
from utils.training import LinearScorer, accuracy, fit

seed_everything(0)  # seeds Python, NumPy and torch; torch runs on one thread (bit-identical sums)


# %% [markdown]
# ## Intuition
#
# Hinge loss $\max(0, 1 - ys)$ is flat (zero) once the margin $ys$ reaches 1, and a straight line of
# slope $-1$ before it. A flat piece has zero slope, so an example sitting on it sends no signal back
# to the model, however the model might still change. Logistic loss $\log(1 + e^{-ys})$ never becomes
# exactly flat: it only *approaches* zero, so every example keeps pulling, more and more weakly.
#
# ## Derivation
#
# Write the loss of one example as a composition, with the margin $m = ys$ and the violation $u = 1 - m$:
#
# $$
# L = \max(0, u), \qquad u = 1 - ys .
# $$
#
# **Step 1, the outer function.** $\max(0, u)$ is $0$ for $u < 0$ and $u$ for $u > 0$, so
#
# $$
# \frac{\partial L}{\partial u} =
# \begin{cases}
# 0, & u < 0, \\
# 1, & u > 0,
# \end{cases}
# $$
#
# and at $u = 0$ there is no derivative: any value in $[0, 1]$ is a valid *subgradient*.
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
# The chapter writes the zero branch as $ys \geq 1$, i.e. it picks $0$ at the kink; that is one valid
# choice among many (see "Kink conventions" below). The magnitude is all-or-nothing: $|\partial L/\partial s|$
# is $1$ inside the margin and $0$ outside.
#
# For comparison, logistic loss $L = \log(1 + e^{-ys})$ has, by the same chain rule,
#
# $$
# \frac{\partial L}{\partial s} = \frac{e^{-ys}}{1 + e^{-ys}}\,(-y) = -y\,\sigma(-ys),
# $$
#
# and since the sigmoid $\sigma$ is strictly positive, this is **never exactly zero**, only small
# ($|\partial L/\partial s| = \sigma(-ys) < \sigma(-1) \approx 0.27$ once $ys > 1$).

# %% [markdown]
# ## Implementation from scratch, checked against autograd, `utils` and the oracles
#
# The losses per example, and their analytic derivatives with respect to the score $s$.

# %%
def hinge_from_scratch(scores, targets):
    """max(0, 1 - y s) per example, shape (N,) -> (N,)."""
    return torch.clamp(1.0 - targets * scores, min=0.0)


def hinge_grad(scores, targets):
    """Analytic dL/ds of hinge loss: -y where y s < 1, else 0 (the chapter's choice at y s = 1)."""
    return torch.where(targets * scores < 1.0, -targets, torch.zeros_like(scores))


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
away = (targets * scores - 1).abs() > 1e-6  # points not at the kink
print(f"{int((~away).sum())} of {len(scores)} random points lie at the kink ys = 1")

# the losses: against utils and the ORACLES.md oracles
assert_close(hinge_from_scratch(scores, targets), utils.hinge_loss(scores, targets, reduction="none"))
assert_close(
    hinge_from_scratch(scores, targets),
    F.margin_ranking_loss(scores, torch.zeros_like(scores), targets, margin=1.0, reduction="none"),
)
assert_close(logistic_from_scratch(scores, targets), utils.logistic_loss(scores, targets, reduction="none"))
assert_close(logistic_from_scratch(scores, targets), F.soft_margin_loss(scores, targets, reduction="none"))

# the derivatives: analytic against autograd of utils and of the oracles
for name, loss_fn, analytic in [
    ("hinge (utils)", lambda s, y: utils.hinge_loss(s, y, reduction="none"), hinge_grad),
    ("hinge (margin_ranking_loss)",
     lambda s, y: F.margin_ranking_loss(s, torch.zeros_like(s), y, margin=1.0, reduction="none"), hinge_grad),
    ("logistic (utils)", lambda s, y: utils.logistic_loss(s, y, reduction="none"), logistic_grad),
    ("logistic (soft_margin_loss)", lambda s, y: F.soft_margin_loss(s, y, reduction="none"), logistic_grad),
]:
    assert_close(autograd_grad(loss_fn, scores, targets)[away], analytic(scores, targets)[away])
    print(f"{name:30s} autograd == analytic derivative at {int(away.sum())} points")

# %% [markdown]
# ## Loss and gradient against the margin
#
# With $y = +1$ the score *is* the margin, so $\partial L / \partial s = \partial L / \partial (ys)$.
# Dots are autograd, lines the analytic derivatives above; the dotted line marks the kink.

# %%
ones = lambda m: torch.ones_like(m)  # noqa: E731  y = +1, so s = ys
plot = plot_loss_and_gradient(
    {
        "hinge": lambda m: utils.hinge_loss(m, ones(m), reduction="none"),
        "logistic": lambda m: utils.logistic_loss(m, ones(m), reduction="none"),
    },
    {
        "hinge": lambda m: hinge_grad(m, ones(m)),
        "logistic": lambda m: logistic_grad(m, ones(m)),
    },
    kinks=[1.0],
    margin=1.0,
    title="Hinge gradient jumps to exactly 0 at ys = 1; logistic gradient only fades",
)
print({name: f"{gap:.1e}" for name, gap in plot.max_gradient_gap.items()})
assert all(gap < 1e-12 for gap in plot.max_gradient_gap.values())
plt.show()

# %% [markdown]
# ## Kink conventions: what autograd returns exactly at $ys = 1$
#
# At the kink autograd cannot compute a derivative; each function returns *one* subgradient, hard-coded
# in its backward formula. All of $[-y, 0]$ are correct subgradients, but different functions pick
# different ones (ORACLES.md, "Pitfalls"). We evaluate every formulation of the same hinge loss at
# $s = y$ (so $ys = 1$ exactly), for $y = +1$ and $y = -1$.
#
# scikit-learn's `SGDClassifier` has no autograd; we read its choice off one SGD step instead. It starts at
# $w = 1$ on the single feature $x = 1$ with label $+1$ (margin exactly $1$), takes one step with learning
# rate $\eta = 0.1$ and no regularisation, and moves by $-\eta\,(\partial L/\partial s)\,x$: so
# $\partial L / \partial s = -(w_\text{after} - w_\text{before}) / \eta$.

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


def sklearn_sgd_kink_gradient(label: int) -> float:
    """dL/ds that one hinge SGD step of scikit-learn applies to an example exactly at margin 1."""
    from sklearn.linear_model import SGDClassifier

    x, w0, eta = np.array([[1.0], [-1.0]]) * label, 1.0, 0.1  # first example: y x w0 = 1 exactly
    sgd = SGDClassifier(loss="hinge", alpha=0.0, learning_rate="constant", eta0=eta, fit_intercept=False,
                        max_iter=1, tol=None, shuffle=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # one epoch: "did not converge" is expected
        sgd.fit(x, np.array([label, -label]), coef_init=np.array([[w0]]))
    # the second example then has margin 1.1 > 1 and does not move w; undo the sign of x
    return round(float(-(sgd.coef_[0, 0] - w0) / eta * label), 9)  # (1.1 - 1) / 0.1 is not exact in floats


kink_grads["sklearn SGDClassifier(loss='hinge')"] = torch.tensor(
    [sklearn_sgd_kink_gradient(+1), sklearn_sgd_kink_gradient(-1)], dtype=torch.float64)

convention = {-1.0: "-y (active)", 0.0: "0 (inactive)", -0.5: "-y/2 (average)"}
print(f"{'formulation':45s} {'y=+1':>6s} {'y=-1':>6s}  convention")
for name, g in kink_grads.items():
    g = g + 0.0  # turn -0.0 into 0.0 for printing
    print(f"{name:45s} {g[0].item():6.2f} {g[1].item():6.2f}  {convention[g[0].item()]}")

expected = {"torch.clamp(1 - ys, min=0)": -y_kink, "torch.relu(1 - ys)": zeros,
            "2 * F.multi_margin_loss([0, s], (y+1)//2)": zeros, "torch.maximum(1 - ys, zeros)": -y_kink / 2,
            "F.margin_ranking_loss(s, 0, y, margin=1)": -y_kink, "utils.hinge_loss": -y_kink,
            "sklearn SGDClassifier(loss='hinge')": -y_kink}
for name, g in kink_grads.items():
    assert_close(g, expected[name], msg=name)

# %% [markdown]
# Three conventions for one loss: `clamp` passes the gradient through where its input equals the bound
# (active), `relu` and `multi_margin_loss` treat the kink as outside the margin (the chapter's formula),
# and `torch.maximum` splits the gradient evenly between its two equal arguments. The loss *values* agree
# everywhere; only the gradient at exactly $ys = 1$ differs, and all three are valid subgradients.
#
# Does it matter? Exact ties are rare with real-valued scores, but not impossible: integer features,
# a model initialised on the margin, or a test that builds inputs with $ys = 1$ on purpose. It matters most for
# **tests**: an assertion on the gradient at the kink must state which convention it expects.
#
# ### Which convention does `utils.hinge_loss` use?
#
# Its docstring says it:

# %%
notes = inspect.getdoc(utils.hinge_loss).split("Notes\n-----\n")[1].split("\n\n")[0]
print(notes)
assert "at the kink" in notes and "it is -y" in notes
s_kink = y_kink.clone().requires_grad_(True)
(g_utils,) = torch.autograd.grad(utils.hinge_loss(s_kink, y_kink, reduction="sum"), s_kink)
assert_close(g_utils, -y_kink)  # the documented subgradient, asserted
print("utils.hinge_loss at ys = 1:", g_utils.tolist(), "= -y, the active side, like scikit-learn's SGD")


# %% [markdown]
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
print("away from the kink (ys in", [round(v, 2) for v in away_from_kink.tolist()], "): gradcheck passed =", passed)
assert passed

# %% [markdown]
# ## Experiment: which training examples still get gradient?
#
# The claim (ORACLES.md, claim 1): *examples outside the margin give zero gradient under hinge loss;
# logistic loss still gives them small gradients.* We measure it on the Wisconsin breast-cancer data
# (398 training examples, 30 standardised features, labels in $\{-1,+1\}$): a linear scorer
# $s = w \cdot x + b$, trained from zero by full-batch gradient descent (200 epochs, learning rate 0.1,
# no regularisation) once with hinge loss and once with logistic loss. After every epoch `fit` records the
# fraction of training examples whose per-example gradient $\partial L_i/\partial s_i$ is non-zero.

# %%
data = breast_cancer()
print(data)
losses = {"hinge": utils.hinge_loss, "logistic": utils.logistic_loss}
models, histories = {}, {}
for name, loss_fn in losses.items():
    models[name] = LinearScorer(data.X_train.shape[1])
    histories[name] = fit(models[name], data.X_train, data.y_train, loss_fn, epochs=200, lr=0.1)

print(f"{'loss':9s} {'active fraction after epoch 1, 10, 50, 200':>45s}   train loss   test accuracy")
for name, h in histories.items():
    fractions = "  ".join(f"{h.active_fraction[e - 1]:.3f}" for e in (1, 10, 50, 200))
    test_acc = accuracy(models[name](data.X_test).detach(), data.y_test)
    print(f"{name:9s} {fractions:>45s}   {h.loss[-1]:10.4f}   {test_acc:13.3f}")

ax = plot_curves(
    {name: h.active_fraction for name, h in histories.items()},
    xlabel="epoch (0 = after the first epoch)",
    ylabel="fraction of training examples\nwith non-zero gradient",
    title="Hinge loss stops using most examples; logistic loss never does",
)
ax.set_ylim(0, 1.05)
plt.show()

hinge_final, logistic_final = histories["hinge"].active_fraction[-1], histories["logistic"].active_fraction[-1]
assert hinge_final < 0.2  # measured 0.080: about 1 example in 12 still receives gradient
assert min(histories["logistic"].active_fraction) == 1.0  # every example, every epoch

# %% [markdown]
# After 200 epochs only about 8% of the training examples still receive a hinge gradient, while every
# single example does under logistic loss, at every epoch. But "non-zero" is not "large": look at the
# sizes of the per-example gradients at the end of training.

# %%
per_example = {}
for name, loss_fn in losses.items():
    s = models[name](data.X_train).detach()
    per_example[name] = {
        "grad": autograd_grad(lambda s_, y_: loss_fn(s_, y_, reduction="none"), s, data.y_train).abs(),
        "margin": data.y_train * s,
    }

for name, pe in per_example.items():
    g, outside = pe["grad"], pe["margin"] >= 1
    print(f"{name:9s}: {int(outside.sum())} of {len(g)} examples have ys >= 1; their |dL/ds|: "
          f"min {g[outside].min().item():.1e}, median {g[outside].median().item():.1e}, "
          f"max {g[outside].max().item():.1e}; inside the margin: median {g[~outside].median().item():.2f}")

hinge_pe, logistic_pe = per_example["hinge"], per_example["logistic"]
assert torch.equal(hinge_pe["grad"] == 0, hinge_pe["margin"] >= 1)  # zero exactly outside the margin
assert torch.equal(hinge_pe["grad"][hinge_pe["margin"] < 1], torch.ones(int((hinge_pe["margin"] < 1).sum()),
                                                                        dtype=torch.float64))  # all-or-nothing
assert (logistic_pe["grad"] > 0).all()  # never exactly zero...
assert logistic_pe["grad"][logistic_pe["margin"] >= 1].max() < torch.sigmoid(torch.tensor(-1.0))  # ...but small

# %%
fig, (ax_zero, ax_hist) = plt.subplots(1, 2, gridspec_kw={"width_ratios": [1, 3]})
names = list(per_example)
zero_fractions = [(per_example[n]["grad"] == 0).double().mean().item() for n in names]
bars = ax_zero.bar(names, zero_fractions, color=PALETTE[:2])
ax_zero.bar_label(bars, labels=[f"{f:.2f}" for f in zero_fractions])
ax_zero.set_ylabel("fraction of training examples")
ax_zero.set_title("|dL/ds| exactly 0")
ax_zero.set_ylim(0, 1)
bins = np.logspace(-16, 0.5, 34)
for colour, name in zip(PALETTE, names):
    g = per_example[name]["grad"]
    ax_hist.hist(g[g > 0].numpy(), bins=bins, color=colour, alpha=0.6, label=f"{name} ({int((g > 0).sum())} non-zero)")
ax_hist.axvline(torch.sigmoid(torch.tensor(-1.0)).item(), color="black", ls="--", lw=1, label="σ(-1): ys = 1")
ax_hist.set_xscale("log")
ax_hist.set_xlabel("per-example |dL/ds| after training (log scale)")
ax_hist.set_ylabel("number of examples")
ax_hist.set_title("Non-zero gradients: hinge's are all exactly 1, logistic's spread down to 1e-13")
ax_hist.legend()
plt.show()

# %% [markdown]
# The measurement confirms the chapter on this data:
#
# - **Hinge**: every example with $ys \geq 1$ (92% of the training set) has gradient *exactly* 0, and every
#   other one has $|\partial L/\partial s| = 1$ exactly. Training is driven by the few examples near or
#   across the boundary, the future "support vectors".
# - **Logistic**: all examples have a non-zero gradient, but for correctly classified examples with
#   $ys \geq 1$ it is small (at most $\sigma(-1) \approx 0.27$, median about $0.007$, some as small as $10^{-13}$).
#   These many tiny pulls keep increasing the margins of already well-classified examples, which is why
#   logistic training never "finishes" on separable data.
#
# A numerical caveat: "never exactly zero" is a statement about real numbers. In floating point
# $\sigma(-ys)$ underflows to 0 once $ys$ is large enough, about 104 in float32 and 745 in float64:

# %%
for dtype in (torch.float32, torch.float64):
    big = torch.tensor([50.0, 120.0, 800.0], dtype=dtype)
    grads = logistic_grad(big, torch.ones_like(big)).abs()
    print(f"{str(dtype):14s} |dL/ds| of logistic loss at ys = 50, 120, 800:", [f"{g:.1e}" for g in grads.tolist()])

# %% [markdown]
# ## Takeaways
#
# - Hinge loss: $\partial L/\partial s = -y$ inside the margin ($ys < 1$) and $0$ outside; at $ys = 1$ any
#   value between $-y$ and $0$ is a subgradient, and libraries disagree on which one they return:
#   `clamp` gives $-y$, `relu` and `multi_margin_loss` give $0$, `torch.maximum` gives $-y/2$, scikit-learn's SGD
#   counts the kink as active ($-y$). `utils.hinge_loss` documents and returns $-y$.
# - `gradcheck` cannot validate a kink (finite differences average the two slopes): check gradients away
#   from kinks and assert the documented subgradient at the kink.
# - On breast cancer, after 200 epochs only 8% of training examples still get a hinge gradient; under logistic
#   loss 100% do, but the gradients of examples with $ys \geq 1$ are small (median about $0.007$).
#   Hinge gradients are all-or-nothing; logistic gradients fade smoothly.
#
# **Exercises:** `exercises/03_gradient_behaviour.ipynb`
