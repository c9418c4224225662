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
# [Chapter 05 — Multiclass margin loss](../chapters/05_multiclass_margin.ipynb)
#
# # 05 · Exercises: multiclass margin loss
#
# Companion exercises to [chapter 05](../chapters/05_multiclass_margin.ipynb) (sections "Multiclass
# Margin Loss" and "Multiclass Margin Loss in PyTorch"). Write each function where it says
# `# YOUR CODE HERE`, then run the check cell below it: it prints one line when your function is right,
# and otherwise tells you the likely mistake. Check the whole notebook with
# `pytest --nbval-lax exercises/ex05_multiclass_margin.ipynb`.
#
# | exercise | points |
# |---|---|
# | 1 · `multiclass_hinge_loss` (Weston–Watkins) | 3 |
# | 2 · `crammer_singer_loss` | 2 |
# | 3 · `multiclass_hinge_vectorised` (vectorise a loop) | 2 |
#
# In all three, `scores` is a float tensor of shape `(N, C)` (one row per example, one column per class,
# $C \ge 2$), `targets` an int64 tensor of shape `(N,)` of class indices in $[0, C-1]$, and `margin` the
# margin $\Delta \ge 0$.

# %%
import time

import torch
import torch.nn.functional as F

import utils
from utils.checks import check

utils.seed_everything(0)


# %% [markdown]
# ## Exercise 1 · Weston–Watkins multiclass hinge loss (3 points)
#
# Write `multiclass_hinge_loss(scores, targets, margin=1.0)` returning, as a 0-dim tensor that autograd
# can differentiate, the chapter's loss averaged over the batch:
#
# $$ L = \frac1N \sum_{i=1}^N \sum_{j \ne c_i} \max(0,\; s_{ij} - s_{i c_i} + \Delta). $$
#
# The sum runs over the **wrong** classes only, and is **not** divided by $C$ (unlike
# `nn.MultiMarginLoss`). Never modify `scores` in place, and do not modify in place a tensor autograd
# still needs.
#
# **Not allowed here** (each raises an error while the check runs your function):
# `utils.multiclass_hinge_loss`, anything from `utils.losses`, `F.multi_margin_loss`.

# %% tags=["exercise:multiclass_hinge_loss"]
def multiclass_hinge_loss(scores, targets, margin=1.0):
    ### BEGIN SOLUTION
    correct = scores.gather(1, targets.unsqueeze(1))  # (N, 1)
    terms = torch.clamp(scores - correct + margin, min=0.0)  # (N, C); the j = c term equals margin
    is_target = F.one_hot(targets, scores.shape[1]).bool()
    return terms.masked_fill(is_target, 0.0).sum(dim=1).mean()
    ### END SOLUTION


# %% tags=["check:multiclass_hinge_loss"]
check("multiclass_hinge_loss", multiclass_hinge_loss)


# %% [markdown]
# ## Exercise 2 · Crammer–Singer: the max form (2 points)
#
# Crammer and Singer keep only the most violating wrong class. Write
# `crammer_singer_loss(scores, targets, margin=1.0)` returning, as a 0-dim differentiable tensor,
#
# $$ L = \frac1N \sum_{i=1}^N \max\Big(0,\; \Delta - s_{i c_i} + \max_{j \ne c_i} s_{ij}\Big), $$
#
# the max running over the wrong classes only. (With $\Delta = 1$ this is what
# `sklearn.metrics.hinge_loss` computes for more than two classes.)
#
# **Not allowed here** (each raises an error while the check runs your function):
# `utils.multiclass_hinge_loss`, anything from `utils.losses`, `F.multi_margin_loss`.

# %% tags=["exercise:crammer_singer_loss"]
def crammer_singer_loss(scores, targets, margin=1.0):
    ### BEGIN SOLUTION
    is_target = F.one_hot(targets, scores.shape[1]).bool()
    correct = scores.gather(1, targets.unsqueeze(1)).squeeze(1)
    best_wrong = scores.masked_fill(is_target, float("-inf")).amax(dim=1)
    return torch.clamp(margin - correct + best_wrong, min=0.0).mean()
    ### END SOLUTION


# %% tags=["check:crammer_singer_loss"]
check("crammer_singer_loss", crammer_singer_loss)


# %% [markdown]
# ## Exercise 3 · Vectorise this loop (2 points)
#
# This double loop computes the Weston–Watkins loss of **each** example:

# %%
def multiclass_hinge_loop(scores, targets, margin=1.0):
    n, num_classes = scores.shape
    losses = torch.zeros(n, dtype=scores.dtype)
    for i in range(n):
        c = int(targets[i])
        for j in range(num_classes):
            if j != c:
                losses[i] += torch.clamp(scores[i, j] - scores[i, c] + margin, min=0.0)
    return losses


# %% [markdown]
# It is correct, and slow: $N \cdot C$ Python iterations, each launching small tensor operations. Write
# `multiclass_hinge_vectorised(scores, targets, margin=1.0)` that returns **the same tensor of shape
# `(N,)`** (one loss per example, not reduced) with no Python loop. **Vectorised** means: a fixed
# number of tensor operations on the whole `(N, C)` batch, however large $N$ and $C$ are — no `for` over
# rows or classes, no list comprehension, no `torch.stack` of per-row results. The check also times one
# large case ($N = 30\,000$, $C = 20$) in CPU time: a vectorised answer takes about 0.01–0.03 s, a loop over
# the rows about 0.8 s, and the budget is 0.2 s. At grading, this time is measured from outside your process.
#
# **Not allowed here** (each raises an error while the check runs your function):
# `utils.multiclass_hinge_loss`, anything from `utils.losses`, `F.multi_margin_loss`.

# %% tags=["exercise:multiclass_hinge_vectorised"]
def multiclass_hinge_vectorised(scores, targets, margin=1.0):
    ### BEGIN SOLUTION
    correct = scores.gather(1, targets.unsqueeze(1))
    terms = torch.clamp(scores - correct + margin, min=0.0)
    return torch.where(F.one_hot(targets, scores.shape[1]).bool(), 0.0, terms).sum(dim=1)
    ### END SOLUTION


# %% [markdown]
# Same values, far less time (timings vary between runs and machines):

# %%
scores = 2 * torch.randn(300, 10, dtype=torch.float64)
targets = torch.randint(0, 10, (300,))
start = time.perf_counter()
looped = multiclass_hinge_loop(scores, targets)
loop_seconds = time.perf_counter() - start
start = time.perf_counter()
vectorised = multiclass_hinge_vectorised(scores, targets)
vector_seconds = time.perf_counter() - start
torch.testing.assert_close(vectorised, looped)
print(f"loop: {loop_seconds * 1e3:.1f} ms, vectorised: {vector_seconds * 1e3:.3f} ms")

# %% tags=["check:multiclass_hinge_vectorised"]
check("multiclass_hinge_vectorised", multiclass_hinge_vectorised)
