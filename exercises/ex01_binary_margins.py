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
# [Chapter 01 — Binary classification margins](../chapters/01_binary_margins.ipynb)
#
# # 01 · Exercises: binary classification margins
#
# Companion exercises to [chapter 01](../chapters/01_binary_margins.ipynb) (section "Binary
# Classification Margins"). Write each function where it says `# YOUR CODE HERE`, then run the check
# cell below it: it prints one line when your function is right, and otherwise tells you the likely
# mistake. Check the whole notebook with `pytest --nbval-lax exercises/ex01_binary_margins.ipynb`.
#
# | exercise | points |
# |---|---|
# | 1 · `geometric_margin` | 1 |
# | 2 · `margin_report` | 2 |

# %%
import torch

import utils
from utils.checks import check

utils.seed_everything(0)


# %% [markdown]
# ## Exercise 1 · The geometric margin (1 point)
#
# Section 5 of the chapter shows that the margin size only sets the **scale** of the weights: the scorer
# $(2w, 2b)$ has the same boundary as $(w, b)$ but twice the margins $y s$. The quantity that does not
# change is the **geometric margin**, the signed distance of a point to the boundary $w \cdot x + b = 0$:
#
# $$\gamma_i = \frac{y_i\,(w \cdot x_i + b)}{\lVert w \rVert}.$$
#
# Write `geometric_margin(x, targets, weight, bias)`: `x` of shape `(N, D)`, `targets` in $\{-1, +1\}$ of
# shape `(N,)`, `weight` of shape `(D,)`, `bias` a Python float; return a float tensor of shape `(N,)`.
# It is positive for a correctly classified point, negative for a misclassified one, and does not
# change when $(w, b)$ is multiplied by any $c > 0$ (the check tests that).

# %% tags=["exercise:geometric_margin"]
def geometric_margin(x, targets, weight, bias):
    # YOUR CODE HERE
    raise NotImplementedError()


# %%
x = torch.tensor([[1.0, 2.0], [-1.0, 1.0]])
w, b, y = torch.tensor([3.0, 4.0]), 1.0, torch.tensor([1.0, -1.0])
print(geometric_margin(x, y, w, b).tolist(), geometric_margin(x, y, 10 * w, 10 * b).tolist())

# %% tags=["check:geometric_margin"]
check("geometric_margin", geometric_margin)


# %% [markdown]
# ## Exercise 2 · Wrong, inside the margin, or safe? (2 points)
#
# Write `margin_report(scores, targets, margin=1.0)`: `scores` of shape `(N,)`, `targets` in
# $\{-1,+1\}$ of shape `(N,)`, `margin` a float $\ge 0$. With the margin $ys$ of each example, return a
# `dict` of three Python `int`s that add up to $N$:
#
# | key | condition |
# |---|---|
# | `"misclassified"` | $ys < 0$ |
# | `"inside_margin"` | $0 \le ys < \text{margin}$ |
# | `"with_margin"` | $ys \ge \text{margin}$ |
#
# Both boundaries are exact: $ys = 0$ (on the decision boundary) counts as inside the margin, and
# $ys = \text{margin}$ counts as with margin, as in the chapter's experiment.

# %% tags=["exercise:margin_report"]
def margin_report(scores, targets, margin=1.0):
    # YOUR CODE HERE
    raise NotImplementedError()


# %%
scores = torch.tensor([2.0, 0.3, -0.5, -2.0, 0.0, 1.0])
targets = torch.tensor([1.0, 1.0, -1.0, 1.0, -1.0, 1.0])
print(margin_report(scores, targets))

# %% tags=["check:margin_report"]
check("margin_report", margin_report)
