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
# # 01 · Binary classification margins
#
# *Follows the section "Binary Classification Margins" of the chapter "Margin-Based Losses".*
#
# The chapter opens with one idea: a prediction counts as good only when the correct output is
# separated from the competing one **by at least some positive amount**. For binary classification
# that amount is a single number, the margin $ys$.
#
# **What you will learn**
#
# - the label convention $y \in \{-1, +1\}$, the real-valued score $s = f_\theta(x)$ and the sign rule
#   that turns a score into a class, including what happens at the tie $s = 0$;
# - the margin $ys$: $ys > 0$ means correct, $ys < 0$ means wrong, and $ys \ge 1$ means *correct with
#   a margin*;
# - why the margin size $1$ is a convention (any other positive value gives the same classifier, rescaled);
# - how many examples of a real data set (breast cancer) are wrong, correct but inside the margin,
#   and correct with a margin;
# - why $\{0, 1\}$ labels make $ys$ meaningless, and how the book's losses refuse them.

# %%
import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F
from sklearn.svm import LinearSVC
from torch.testing import assert_close

import utils
from utils.data import breast_cancer
from utils.plotting import PALETTE, plot_loss_and_gradient
from utils.reproducibility import seed_everything
from utils.training import LinearScorer, accuracy, fit

seed_everything(0)  # seeds Python, NumPy and torch; torch runs on one thread (bit-identical sums)
MARGIN = 1.0  # the required margin: ys >= MARGIN. Every figure and count below uses it; change it and re-run.


# %% [markdown]
# ## 1. Labels, scores and the sign rule
#
# Binary labels are written $y \in \{-1, +1\}$ (not $\{0, 1\}$: we will see why at the end). The model
# outputs one real number per example, the **score**
#
# $$ s = f_\theta(x) \in \mathbb{R}, $$
#
# not a probability: it can be any real number. Its sign gives the predicted class,
#
# $$
# \hat y =
# \begin{cases}
# +1, & s \ge 0, \\
# -1, & s < 0.
# \end{cases}
# $$
#
# Note the tie: the chapter sends $s = 0$ to $+1$. The **margin** of an example is the product
#
# $$ ys. $$
#
# Step by step: if $y = +1$, then $ys = s$, and the prediction is right exactly when $s \ge 0$; if
# $y = -1$, then $ys = -s$, and the prediction is right exactly when $s < 0$, i.e. $ys > 0$. So
#
# - $ys > 0 \;\Rightarrow\;$ correct (whatever the label),
# - $ys < 0 \;\Rightarrow\;$ wrong (whatever the label),
# - $ys = 0$ means $s = 0$: the tie rule decides, correct for $y = +1$ and wrong for $y = -1$.
#
# The absolute value $|s|$ says how *confidently* the model decided; the sign of $ys$ says whether the
# decision was right. One number carries both.

# %%
def predict(scores: torch.Tensor) -> torch.Tensor:
    """The chapter's sign rule: +1 where s >= 0 (the tie s = 0 included), -1 where s < 0. (N,) -> (N,)."""
    return torch.where(scores >= 0, 1.0, -1.0).to(scores.dtype)


def margins(scores: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """The margin y * s of each example, for targets in {-1, +1}. (N,), (N,) -> (N,)."""
    return targets * scores


# Six hand-made examples that visit every case, the two ties s = 0 included.
s = torch.tensor([2.0, 0.3, 0.0, 0.0, -0.5, -2.0], dtype=torch.float64)
y = torch.tensor([1.0, 1.0, 1.0, -1.0, -1.0, 1.0], dtype=torch.float64)
y_hat, ys = predict(s), margins(s, y)
correct = y_hat == y


def region(m: float) -> str:
    if m < 0:
        return "wrong side"
    if m == 0:
        return "on the boundary"
    return "inside margin" if m < MARGIN else "margin satisfied"


print(f"{'s':>6} {'y':>4} {'y_hat':>6} {'ys':>6}  correct  region of ys")
for row in zip(s.tolist(), y.tolist(), y_hat.tolist(), ys.tolist(), correct.tolist()):
    s_k, y_k, yhat_k, ys_k, ok = row
    print(f"{s_k:6.1f} {y_k:+4.0f} {yhat_k:+6.0f} {ys_k + 0.0:6.1f}  {str(ok):7}  {region(ys_k)}")

# %% [markdown]
# Check the claims of the derivation on this table: $ys > 0$ implies correct, $ys < 0$ implies wrong,
# and at $ys = 0$ correctness is exactly "$y = +1$". The book's `utils.training.accuracy` uses the same
# tie rule.

# %%
assert bool(correct[ys > 0].all()) and not bool(correct[ys < 0].any())
assert torch.equal(correct[ys == 0], y[ys == 0] == 1)  # the tie: right for y = +1, wrong for y = -1
assert_close(accuracy(s, y), correct.double().mean().item())
print(f"accuracy of the six examples: {accuracy(s, y):.3f}  (4 of 6 correct, one of them a tie)")

# %% [markdown]
# Libraries do not agree on the tie. `torch.sign(0)` is $0$, which is no class at all, and
# scikit-learn's linear classifiers predict the **negative** class when the decision function is
# exactly $0$ (they test `score > 0`). With real-valued scores an exact tie is rare, so the
# convention seldom matters in practice; we will count the ties of the real data below.

# %%
tiny = LinearSVC(random_state=0).fit(np.array([[0.0], [1.0], [2.0], [3.0]]), np.array([-1, -1, 1, 1]))
tiny.coef_[:], tiny.intercept_[:] = 0.0, 0.0  # force the decision function to be exactly 0
print("torch.sign(0.0)              =", torch.sign(torch.tensor(0.0)).item())
print("scikit-learn predict at s = 0 =", int(tiny.predict(np.array([[5.0]]))[0]))
print("the chapter's rule at s = 0   =", int(predict(torch.tensor([0.0]))[0]))

# %% [markdown]
# ## 2. Correct is not enough: correct *with a margin*
#
# Margin-based learning asks for more than $ys > 0$. It asks for
#
# $$ ys \ge 1. $$
#
# This splits the margin axis into three regions:
#
# | region | condition | meaning |
# |---|---|---|
# | wrong side | $ys < 0$ | misclassified |
# | inside the margin | $0 \le ys < 1$ | correct (or a tie), but by too little |
# | margin satisfied | $ys \ge 1$ | correct with room to spare |
#
# An example with $s = 0.3$ and $y = +1$ is classified correctly, yet a small change of the input or of
# the weights could flip it; an example with $ys = 2$ could not be flipped as easily. The figure puts
# the six examples on the margin axis.

# %%
REGIONS = [  # (label, lower, upper, colour) on the margin axis
    ("wrong side  $ys<0$", -np.inf, 0.0, PALETTE[1]),
    (f"inside the margin  $0\\leq ys<{MARGIN:g}$", 0.0, 1.0, PALETTE[4]),
    (f"margin satisfied  $ys\\geq {MARGIN:g}$", 1.0, np.inf, PALETTE[2]),
]


def shade_regions(ax, lo, hi, *, margin=MARGIN):
    """Shade the three regions of the margin axis between lo and hi (margin at `margin`)."""
    for label, a, b, colour in REGIONS:
        a, b = max(a * margin, lo), min(b * margin, hi)
        ax.axvspan(a, b, color=colour, alpha=0.15, lw=0, label=label)
    ax.axvline(0, color="black", lw=1)
    ax.axvline(margin, color="black", ls="--", lw=1)


fig, ax = plt.subplots(figsize=(8.0, 2.6))
shade_regions(ax, -2.6, 2.6, margin=MARGIN)
ROW = {1.0: 0.4, -1.0: -0.4}  # one row per label: the two ties at ys = 0 sit one above the other
for label, marker in [(1.0, "o"), (-1.0, "x")]:
    keep = y == label
    ax.scatter(ys[keep], torch.full((int(keep.sum()),), ROW[label]), marker=marker, s=60, color="black",
               label=f"$y={label:+.0f}$")
for k, m in enumerate(ys.tolist()):  # labels above the y = +1 row, below the y = -1 row
    up = bool(y[k] > 0)
    text = f"s={s[k].item():+.1f}" + ("" if bool(correct[k]) else " (wrong)")
    ha = "right" if m == 0 else "left" if 0 < m < 1 else "center"  # neighbours 0 and 0.3 / 0.5 apart
    dx = {"right": -5, "left": 5, "center": 0}[ha]
    ax.annotate(text, (m, ROW[float(y[k])]), textcoords="offset points", xytext=(dx, 9 if up else -16),
                ha=ha, fontsize=8)
ax.set_xlim(-2.6, 2.6)
ax.set_ylim(-1.0, 1.0)
ax.set_yticks([ROW[1.0], ROW[-1.0]], ["$y=+1$", "$y=-1$"])
ax.set_xlabel("margin $ys$ (score units)")
ax.set_title(f"The six examples on the margin axis: only $ys \\geq {MARGIN:g}$ satisfies the margin")
ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8)
plt.show()

# %% [markdown]
# ### Counting correctness gives no gradient
#
# The only "losses" this section defines are two indicators: the 0-1 error $\mathbb{1}[ys < 0]$ and the
# margin violation $\mathbb{1}[ys < 1]$. Both are step functions of $ys$: their derivative is $0$
# everywhere except at the steps, where it does not exist, so counting errors tells a gradient-based
# learner nothing about which way to move. The next notebook replaces the count by the **hinge loss**.
# (The 0-1 error is drawn with the $y = +1$ tie convention, correct at $ys = 0$.)

# %%
plot = plot_loss_and_gradient(
    {
        "0-1 error $1[ys<0]$": lambda m: (m < 0).to(m.dtype) + 0 * m,  # `+ 0 * m` keeps autograd's graph
        "margin violation $1[ys<m]$": lambda m: (m < MARGIN).to(m.dtype) + 0 * m,
    },
    {
        "0-1 error $1[ys<0]$": lambda m: torch.zeros_like(m),
        "margin violation $1[ys<m]$": lambda m: torch.zeros_like(m),
    },
    kinks=[0.0, MARGIN],
    margin=MARGIN,
    title="Counting errors or violations: a step in the loss, zero gradient everywhere else",
)
ax_loss, ax_grad = plot.axes
for ax in plot.axes:  # the curves coincide in places: the first wide, the second's dots hollow
    ax.lines[0].set(lw=6, alpha=0.3)
    for line in ax.lines[2:4]:
        line.set(markerfacecolor="none", ms=6)
    ax.get_legend().remove()
ax_grad.set_ylim(-0.5, 0.5)
plot.fig.legend(*ax_grad.get_legend_handles_labels(), loc="outside lower center", ncol=3, fontsize=8)
plt.show()
assert all(gap == 0 for gap in plot.max_gradient_gap.values())

# %% [markdown]
# ## 3. A linear scorer on real data, in 2-D
#
# Take the Wisconsin breast cancer data (569 tumours, 30 features, standardised on the training split;
# $y = +1$ benign, $y = -1$ malignant) and keep two features so the picture fits on a page. A linear
# scorer $s = w_1 x_1 + w_2 x_2 + b$ has three lines of interest: the decision boundary $s = 0$ and
# the two margin lines $s = \pm 1$. Between them lies the **margin band**: every example inside it,
# on its correct side or not, has $ys < 1$.
#
# To get a scorer we train with the hinge loss of the next notebook (`utils.hinge_loss`, with
# weight decay, margin 1), used here as a black box. `MARGIN` (set at the top) only moves the line the
# figures and counts measure against: set it to 2 and re-run to ask how many examples clear a wider
# margin.

# %%
data = breast_cancer()
print(data)
FEATURES = {"worst area": 23, "worst concave points": 27}  # column indices in load_breast_cancer
cols = list(FEATURES.values())
X2_train, X2_test = data.X_train[:, cols], data.X_test[:, cols]

scorer_2d = LinearScorer(2)
fit(scorer_2d, X2_train, data.y_train, utils.hinge_loss, epochs=500, lr=0.1, weight_decay=0.01)
w2, b2 = scorer_2d.linear.weight.detach()[0], scorer_2d.linear.bias.detach()[0]
print(f"s = {w2[0]:.3f} * x1 + {w2[1]:.3f} * x2 + {b2:.3f}")

# %%
fig, ax = plt.subplots(figsize=(6.0, 4.6))
grid = torch.linspace(-2.5, 4.5, 200, dtype=torch.float64)
g1, g2 = torch.meshgrid(grid, grid, indexing="xy")
with torch.no_grad():
    s_grid = scorer_2d(torch.stack([g1.ravel(), g2.ravel()], 1)).reshape(g1.shape)
ax.contourf(g1, g2, s_grid, levels=[-MARGIN, MARGIN], colors=["grey"], alpha=0.2)
ax.contour(g1, g2, s_grid, levels=[-MARGIN, 0, MARGIN], colors="black", linestyles=["--", "-", "--"],
           linewidths=1)
for label, marker, colour in [(1.0, "o", PALETTE[0]), (-1.0, "^", PALETTE[1])]:
    keep = data.y_train == label
    name = "benign ($y=+1$)" if label > 0 else "malignant ($y=-1$)"
    ax.scatter(X2_train[keep, 0], X2_train[keep, 1], s=12, marker=marker, color=colour, alpha=0.7, label=name)
ax.plot([], [], color="black", lw=1, label="$s=0$ (decision boundary)")
ax.plot([], [], color="black", ls="--", lw=1, label=f"$s=\\pm {MARGIN:g}$ (margin band, grey)")
ax.set_xlim(-2.5, 4.5)
ax.set_ylim(-2.5, 4.5)
names = list(FEATURES)
ax.set_xlabel(f"{names[0]} (standardised, sd units)")
ax.set_ylabel(f"{names[1]} (standardised, sd units)")
ax.set_title(f"Two features, one linear score: points in the grey band have $ys<{MARGIN:g}$")
ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8)  # outside the data
plt.show()

with torch.no_grad():
    ys2 = data.y_test * scorer_2d(X2_test)
print(f"2 features, test set: {(ys2 < 0).double().mean():.3f} wrong, "
      f"{((ys2 >= 0) & (ys2 < MARGIN)).double().mean():.3f} inside the margin, "
      f"{(ys2 >= MARGIN).double().mean():.3f} margin satisfied")

# %% [markdown]
# ## 4. Experiment: how many test examples are wrong, inside the margin, or safe?
#
# Now all 30 features. The claim to measure: *correctness and margin are different things*: a
# classifier that gets most examples right still leaves some of them correct but inside the
# margin. We train the same linear scorer as above on all 30 features and, as an independent
# reference, scikit-learn's `LinearSVC` (the classic margin classifier; its `C` is matched to our
# weight decay as explained in notebook 02), then count the test examples in each region.
#
# The counts are cross-checked against an oracle: `F.margin_ranking_loss(s, 0, y, margin=m)` is
# $\max(0, m - ys)$, positive exactly when $ys < m$.

# %%
LAMBDA, EPOCHS, LR = 0.01, 500, 0.1
scorer = LinearScorer(data.X_train.shape[1])
history = fit(scorer, data.X_train, data.y_train, utils.hinge_loss, epochs=EPOCHS, lr=LR, weight_decay=LAMBDA)
with torch.no_grad():
    s_test = scorer(data.X_test)

n_train = data.X_train.shape[0]
svc = LinearSVC(loss="hinge", C=1 / (LAMBDA * n_train), dual=True, tol=1e-6, max_iter=100_000, random_state=0)
svc.fit(data.X_train.numpy(), data.y_train.numpy())
s_test_svc = torch.as_tensor(svc.decision_function(data.X_test.numpy()))


def count_regions(scores, targets, *, margin=MARGIN):
    """Counts of (wrong, inside the margin, margin satisfied) for scores and {-1,+1} targets."""
    ys = targets * scores
    return int((ys < 0).sum()), int(((ys >= 0) & (ys < margin)).sum()), int((ys >= margin).sum())


n_test = data.X_test.shape[0]
print(f"test examples: {n_test}; exact ties s == 0: {int((s_test == 0).sum())} (ours), "
      f"{int((s_test_svc == 0).sum())} (LinearSVC)")
inside_head, safe_head = f"inside 0<=ys<{MARGIN:g}", f"ys>={MARGIN:g}"
print(f"{'model':<22} {'wrong ys<0':>11} {inside_head:>15} {safe_head:>7} {'accuracy':>9}")
counts = {}
for name, scores in [("hinge + weight decay", s_test), ("LinearSVC (reference)", s_test_svc)]:
    counts[name] = count_regions(scores, data.y_test)
    wrong, inside, safe = counts[name]
    print(f"{name:<22} {wrong:>11} {inside:>15} {safe:>7} {accuracy(scores, data.y_test):>9.3f}")

# %% [markdown]
# The cross-check against the oracle, then the claim itself: `F.margin_ranking_loss` must be positive
# for exactly the examples we call wrong ($m = 0$) and for exactly those with $ys < 1$ ($m = 1$); and
# for both models some correctly classified test examples must sit inside the margin.

# %%
zeros = torch.zeros_like(s_test)
for name, scores in [("hinge + weight decay", s_test), ("LinearSVC (reference)", s_test_svc)]:
    wrong, inside, safe = counts[name]
    rank0 = F.margin_ranking_loss(scores, zeros, data.y_test, margin=0.0, reduction="none")
    rank1 = F.margin_ranking_loss(scores, zeros, data.y_test, margin=MARGIN, reduction="none")
    assert int((rank0 > 0).sum()) == wrong and int((rank1 > 0).sum()) == wrong + inside
    print(f"{name}: {inside / (inside + safe):.3f} of the correctly classified test examples are inside "
          "the margin")
    assert wrong / n_test < 0.1  # both are good classifiers ...
    assert inside >= 5  # ... yet several correct test examples lack the margin

# %% [markdown]
# The histogram shows where the test margins fall. Most examples are far on the safe side, a handful
# are on the wrong side, and a band of correct examples sits between $0$ and $1$: these are the ones a
# margin-based loss keeps working on (notebook 02).

# %%
fig, axes = plt.subplots(1, 2, figsize=(9.0, 3.2), sharey=True)
bins = np.arange(-4.0, 10.5, 0.5)
panels = [("hinge + weight decay", s_test), ("LinearSVC (reference)", s_test_svc)]
for ax, (name, scores) in zip(axes, panels):
    m = (data.y_test * scores).clamp(bins[0], bins[-1] - 1e-9).numpy()  # outliers into the end bins
    shade_regions(ax, bins[0], bins[-1])
    ax.hist(m, bins=bins, color="black", alpha=0.7)
    wrong, inside, safe = counts[name]
    ax.set_title(f"{name}\nwrong {wrong}, inside {inside}, safe {safe}")
    ax.set_xlabel("test margin $ys$ (score units)")
axes[0].set_ylabel("test examples")
fig.legend(*axes[0].get_legend_handles_labels(), loc="outside lower center", ncol=3, fontsize=8)
fig.suptitle("Most test examples are safe; a band of correct ones sits inside the margin")
plt.show()

# %% [markdown]
# ## 5. The margin size 1 is a convention
#
# "The value $1$ is a conventional margin size. Other values can be used." For a linear scorer the
# choice does not change the classifier, only the **scale** of the weights. Asking for $ys \ge m$ with
# weights $w$ is asking for $y(w/m)\cdot x \ge 1$: the constraint with margin $m$ is the margin-1
# constraint on weights divided by $m$. With an L2 penalty the two problems match exactly:
#
# $$
# \frac{\lambda}{2 m}\lVert w\rVert^2 + \frac1N\sum_i \max(0,\, m - y_i w\cdot x_i)
# \;\overset{w = m w'}{=}\;
# m\Big[\frac{\lambda}{2}\lVert w'\rVert^2 + \frac1N\sum_i \max(0,\, 1 - y_i w'\cdot x_i)\Big],
# $$
#
# so margin $m$ with weight decay $\lambda/m$ gives $m$ times the margin-1 solution; with the learning
# rate also times $m$, even the gradient-descent path matches step for step (the subgradient $-y x$ does
# not depend on the scale). We check it with $m = 2$ (a power of two: exact in floating point).

# %%
M = 2.0
scorer_m = LinearScorer(data.X_train.shape[1])
fit(scorer_m, data.X_train, data.y_train, utils.hinge_loss,
    epochs=EPOCHS, lr=LR * M, weight_decay=LAMBDA / M, margin=M)
with torch.no_grad():
    s_test_m = scorer_m(data.X_test)
assert_close(scorer_m.linear.weight, M * scorer.linear.weight, rtol=1e-12, atol=1e-12)
assert_close(s_test_m, M * s_test, rtol=1e-12, atol=1e-12)
assert count_regions(s_test_m, data.y_test, margin=M) == count_regions(s_test, data.y_test, margin=1.0)
print(f"margin {M:.0f}: weights = {M:.0f} x the margin-1 weights; "
      f"test regions {count_regions(s_test_m, data.y_test, margin=M)}")
print("same predictions:", bool(torch.equal(predict(s_test_m), predict(s_test))))

# %% [markdown]
# What *does* change the classifier is the margin **relative to the penalty**: margin $m$ with the
# same $\lambda$ is margin 1 with penalty $\lambda m$. Notebook 11 (section "Margin Size") measures that
# trade-off.
#
# ## 6. Pitfall: $\{0, 1\}$ labels make $ys$ meaningless
#
# Many data sets (and `BCELoss`) encode the classes as $0$ and $1$. Plug those into the margin and
# every negative example gets $ys = 0 \cdot s = 0$, whatever its score: a malignant tumour scored
# $-8$ (confidently right) and one scored $+8$ (confidently wrong) look the same, and both land "on
# the boundary". The region counts silently become nonsense:

# %%
y01 = (data.y_test + 1) / 2  # the same labels, encoded {0, 1}
print("labels {-1,+1}: wrong, inside, safe =", count_regions(s_test, data.y_test))
print("labels { 0, 1}: wrong, inside, safe =", count_regions(s_test, y01),
      "<- every negative counted 'inside'")
assert bool(((y01 * s_test)[y01 == 0] == 0).all())  # every negative sits at ys = 0, whatever its score
wrong_negatives = int(((data.y_test < 0) & (s_test >= 0)).sum())
print(f"misclassified negatives: {wrong_negatives}, of which counted wrong with {{0, 1}} labels: 0")
assert count_regions(s_test, y01)[0] == count_regions(s_test, data.y_test)[0] - wrong_negatives
try:  # the book's losses refuse such labels with a clear error instead of returning a number
    utils.hinge_loss(s_test, y01)
except ValueError as err:
    print("utils.hinge_loss raises ValueError:", err)
else:
    raise AssertionError("utils.hinge_loss accepted {0, 1} labels")

# %% [markdown]
# The fix the message suggests, `2 * y - 1`, maps $\{0, 1\}$ to $\{-1, +1\}$ (the next notebook's
# PyTorch snippet does the same).
#
# ## Takeaways
#
# - Binary labels are $y \in \{-1, +1\}$; the model outputs a real score $s$; the prediction is the
#   sign of $s$, with $s = 0$ sent to $+1$ by the chapter (scikit-learn sends it to the negative class,
#   `torch.sign` to $0$). The margin $ys$ is positive when the example is correct, negative when wrong.
# - Margin-based learning asks for $ys \ge 1$. On breast cancer, both our hinge-trained scorer and
#   `LinearSVC` classify about 95 % of the test set correctly, yet 5–7 % of those correct examples
#   (8 to 11 of 171 test examples) sit inside the margin: correct, but without room to spare.
# - The margin $1$ is a convention: for a linear scorer, margin $m$ with penalty $\lambda/m$ is the
#   margin-1 solution times $m$.
# - Counting errors gives no gradient; the hinge loss (next notebook) makes the margin trainable.
# - Check the label convention: with $\{0, 1\}$ labels $ys$ is meaningless; `utils` raises.
#
# [Exercises for this section](../exercises/ex01_binary_margins.ipynb): the sign rule and a margin report
# (wrong, inside the margin, margin satisfied), checked on cases with exact ties.
