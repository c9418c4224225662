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
# [Chapter 04 — Squared hinge loss](../chapters/04_squared_hinge.ipynb)
#
# # 04 · Exercises: squared hinge loss
#
# Companion exercises to [chapter 04](../chapters/04_squared_hinge.ipynb) (section "Squared Hinge
# Loss"). Write each function where it says `# YOUR CODE HERE`, then run the check cell below it: it
# prints one line when your function is right, and otherwise tells you the likely mistake. Check the
# whole notebook with `pytest --nbval-lax exercises/ex04_squared_hinge.ipynb`.
#
# | exercise | points |
# |---|---|
# | 1 · `squared_hinge_loss` | 1 |
# | 2 · `squared_hinge_gradient` (by hand, compared with autograd) | 2 |

# %%
import torch

import utils
from utils.checks import check

utils.seed_everything(0)


# %% [markdown]
# ## Exercise 1 · Implement the squared hinge loss (1 point)
#
# Write `squared_hinge_loss(scores, targets, margin=1.0)`: `scores` of shape `(N,)`, `targets` in
# $\{-1,+1\}$ of shape `(N,)`, `margin` a float $\ge 0$; return the **mean** over the batch of
# $\max(0, \text{margin} - ys)^2$ as a 0-dim tensor that autograd can differentiate. Use only tensor
# operations (not `utils.squared_hinge_loss`).
#
# **Not allowed here** (each raises an error while the check runs your function): `utils.squared_hinge_loss`,
# anything from `utils.losses`, `F.multi_margin_loss`.

# %% tags=["exercise:squared_hinge_loss"]
def squared_hinge_loss(scores, targets, margin=1.0):
    # YOUR CODE HERE
    raise NotImplementedError()


# %% tags=["check:squared_hinge_loss"]
check("squared_hinge_loss", squared_hinge_loss)


# %% [markdown]
# ## Exercise 2 · The gradient by hand (2 points for the function, checked; 1 point for the derivation, graded by hand)
#
# Derive $\partial L / \partial s_i$ for the **mean** squared hinge loss
# $L = \frac1N \sum_i \max(0, m - y_i s_i)^2$ (write your derivation in the cell below), then implement
# `squared_hinge_gradient(scores, targets, margin=1.0)` returning a tensor of shape `(N,)` **without
# autograd** (no `.backward()`, no `torch.autograd`). Then run the comparison cell: your gradient
# against autograd through your `squared_hinge_loss`, on random scores.
#
# **Not allowed here** (each raises an error while the check runs your function): autograd
# (`torch.autograd.grad`, `.backward()`), `utils.squared_hinge_loss`, anything from `utils.losses`,
# `F.multi_margin_loss`.
#
# Write your derivation in the next cell: it is graded by hand.

# %% [markdown] tags=["written:squared_hinge_gradient_derivation"]
# *Your derivation (1 point, graded by hand):*
#
# YOUR ANSWER HERE

# %% tags=["exercise:squared_hinge_gradient"]
def squared_hinge_gradient(scores, targets, margin=1.0):
    # YOUR CODE HERE
    raise NotImplementedError()


# %%
scores = 2 * torch.randn(8, dtype=torch.float64)
targets = torch.randint(0, 2, (8,), dtype=torch.float64) * 2 - 1
s = scores.clone().requires_grad_(True)
(autograd_grad,) = torch.autograd.grad(squared_hinge_loss(s, targets), s)
by_hand = squared_hinge_gradient(scores, targets)
print("autograd:", [round(g + 0.0, 4) for g in autograd_grad.tolist()])
print("by hand: ", [round(g + 0.0, 4) for g in by_hand.tolist()])
print(f"largest difference: {(autograd_grad - by_hand).abs().max().item():.1e}")

# %% tags=["check:squared_hinge_gradient"]
check("squared_hinge_gradient", squared_hinge_gradient)
