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
# [Chapter 03 — Gradient behaviour](../chapters/03_gradient_behaviour.ipynb)
#
# # 03 · Exercises: gradient behaviour and the {0,1} label bug
#
# Companion exercises to [chapter 03](../chapters/03_gradient_behaviour.ipynb) (section "Gradient
# Behavior"; the label conventions are those of [chapter 02](../chapters/02_hinge_loss.ipynb)). Write
# each function where it says `# YOUR CODE HERE`, then run the check cell below it: it prints one line
# when your function is right, and otherwise tells you the likely mistake. Check the whole notebook with
# `pytest --nbval-lax exercises/ex03_gradient_behaviour.ipynb`.
#
# | exercise | points |
# |---|---|
# | 1 · `active_examples` | 2 |
# | 2 · `hinge_from_01_labels` (find and fix the bug) | 2 |

# %%
import torch

import utils
from utils.checks import check

utils.seed_everything(0)


# %% [markdown]
# ## Exercise 1 · Which examples still get gradient? (2 points)
#
# The hinge loss $\max(0, m - ys)$ gives an example the gradient $-y$ while it violates the margin and
# $0$ once $ys > m$. At the kink $ys = m$ the derivative does not exist, and each implementation picks a
# subgradient: `utils.hinge_loss` (read its docstring, section *Notes*) uses `torch.clamp(..., min=0)`,
# which returns the **active** piece there, $-y$, as scikit-learn's SGD does.
#
# Write `active_examples(scores, targets, margin=1.0)`: `scores` of shape `(N,)`, `targets` in
# $\{-1,+1\}$ of shape `(N,)`, `margin` a float $\ge 0$; return a **bool** tensor of shape `(N,)`, `True`
# for the examples whose gradient under `utils.hinge_loss(scores, targets, margin=margin)` is nonzero.
# Convention: an example exactly at the kink, $ys = m$, **is active** (so the mask is $ys \le m$).
#
# **Not allowed here** (each raises an error while the check runs your function): autograd
# (`torch.autograd.grad`, `.backward()`), `utils.hinge_loss`, anything from `utils.losses`,
# `F.margin_ranking_loss`, `F.multi_margin_loss`, `F.hinge_embedding_loss`.

# %% tags=["exercise:active_examples"]
def active_examples(scores, targets, margin=1.0):
    ### BEGIN SOLUTION
    return targets * scores <= margin
    ### END SOLUTION


# %% [markdown]
# Compare your mask with the gradient autograd returns through `utils.hinge_loss`, the kink included:

# %%
scores = torch.tensor([2.0, 1.0, 0.3, -0.5, -1.0], requires_grad=True)
targets = torch.tensor([1.0, 1.0, 1.0, -1.0, -1.0])
(grad,) = torch.autograd.grad(utils.hinge_loss(scores, targets, reduction="sum"), scores)
print("y*s          :", [round(v, 3) for v in (targets * scores).tolist()])
print("gradient     :", [g + 0.0 for g in grad.tolist()])
print("active (you) :", active_examples(scores.detach(), targets).tolist())

# %% tags=["check:active_examples"]
check("active_examples", active_examples)


# %% [markdown]
# ## Exercise 2 · Find and fix the bug: {0,1} labels (2 points)
#
# A colleague trains a linear SVM on a data set whose labels are stored as $\{0, 1\}$ (1 = positive
# class) and wrote:
#
# ```python
# def hinge_from_01_labels(scores, labels01):
#     return torch.clamp(1.0 - labels01 * scores, min=0.0).mean()
# ```
#
# Run it below and look at the examples with label 0: their loss is 1 whatever the score, and their
# gradient is 0, so the model never learns to push them down. Write the fixed
# `hinge_from_01_labels(scores, labels01)`: `scores` float of shape `(N,)`, `labels01` of shape `(N,)`
# with values in $\{0, 1\}$ (float, bool or any integer dtype, `uint8` included: convert before
# doing arithmetic, since `2 * labels01 - 1` wraps around in `uint8`); return the **mean** hinge loss with margin 1 as a
# 0-dim tensor that autograd can differentiate, after converting the labels to $y = 2\,\text{labels01} - 1$.
#
# **Not allowed here** (each raises an error while the check runs your function): `utils.hinge_loss`, anything
# from `utils.losses`, `F.margin_ranking_loss`, `F.multi_margin_loss`, `F.hinge_embedding_loss`.

# %%
def buggy_hinge_from_01_labels(scores, labels01):
    return torch.clamp(1.0 - labels01 * scores, min=0.0).mean()


scores = torch.tensor([-3.0, 0.0, 3.0], requires_grad=True)
labels01 = torch.tensor([0.0, 0.0, 0.0])
loss = buggy_hinge_from_01_labels(scores, labels01)
(grad,) = torch.autograd.grad(loss, scores)
print(f"buggy loss of three label-0 examples: {loss.item():.3f}; gradient: {[g + 0.0 for g in grad.tolist()]}")


# %% tags=["exercise:hinge_from_01_labels"]
def hinge_from_01_labels(scores, labels01):
    ### BEGIN SOLUTION
    y = 2 * labels01.to(scores.dtype) - 1
    return torch.clamp(1.0 - y * scores, min=0.0).mean()
    ### END SOLUTION


# %%
loss = hinge_from_01_labels(scores, labels01)
(grad,) = torch.autograd.grad(loss, scores)
print(f"fixed loss of the same examples: {loss.item():.3f}; gradient: {[round(g, 3) for g in grad.tolist()]}")

# %% tags=["check:hinge_from_01_labels"]
check("hinge_from_01_labels", hinge_from_01_labels)
