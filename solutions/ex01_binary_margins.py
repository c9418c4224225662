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
# | 1 · `predict_labels` | 1 |
# | 2 · `margin_report` | 2 |

# %%
import torch

import utils
from utils.checks import check

utils.seed_everything(0)


# %% [markdown]
# ## Exercise 1 · The sign rule (1 point)
#
# Write `predict_labels(scores)`: `scores` is a float tensor of shape `(N,)` of raw scores $s$; return
# a **float** tensor of shape `(N,)` holding the predicted classes in $\{-1, +1\}$ with the chapter's
# rule: $\hat y = +1$ where $s \ge 0$ (**the tie $s = 0$ goes to $+1$**) and $\hat y = -1$ where $s < 0$.
# Careful: `torch.sign(0)` is `0`, which is no class.

# %% tags=["exercise:predict_labels"]
def predict_labels(scores):
    ### BEGIN SOLUTION
    return torch.where(scores >= 0, 1.0, -1.0).to(scores.dtype)
    ### END SOLUTION


# %%
print(predict_labels(torch.tensor([2.0, 0.3, 0.0, -0.5])).tolist())

# %% tags=["check:predict_labels"]
check("predict_labels", predict_labels)


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
    ### BEGIN SOLUTION
    ys = targets * scores
    return {
        "misclassified": int((ys < 0).sum()),
        "inside_margin": int(((ys >= 0) & (ys < margin)).sum()),
        "with_margin": int((ys >= margin).sum()),
    }
    ### END SOLUTION


# %%
scores = torch.tensor([2.0, 0.3, -0.5, -2.0, 0.0, 1.0])
targets = torch.tensor([1.0, 1.0, -1.0, 1.0, -1.0, 1.0])
print(margin_report(scores, targets))

# %% tags=["check:margin_report"]
check("margin_report", margin_report)
