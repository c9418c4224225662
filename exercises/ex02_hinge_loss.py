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
# [Chapter 02 — Hinge loss](../chapters/02_hinge_loss.ipynb)
#
# # 02 · Exercises: hinge loss and its gradient
#
# Companion exercises to [chapter 02](../chapters/02_hinge_loss.ipynb) and
# [chapter 03](../chapters/03_gradient_behaviour.ipynb). Write each function where it says
# `# YOUR CODE HERE`, then run the check cell below it: it prints one line when your function is right,
# and otherwise tells you the likely mistake. Check the whole notebook with
# `pytest --nbval-lax exercises/ex02_hinge_loss.ipynb`.
#
# | exercise | points |
# |---|---|
# | 1 · `hinge_loss` | 2 |
# | 2 · `hinge_gradient` | 2 |

# %%
import torch

import utils
from utils.checks import check

utils.seed_everything(0)


# %% [markdown]
# ## Exercise 1 · Implement the hinge loss (2 points)
#
# Write `hinge_loss(scores, targets, margin=1.0)`: scores of shape `(N,)`, targets in $\{-1,+1\}$ of
# shape `(N,)`, returning the **mean** over the batch of $\max(0, \text{margin} - y s)$ as a 0-dim
# tensor that autograd can differentiate. Use only tensor operations.
#
# **Not allowed here** (each raises an error while the check runs your function): `utils.hinge_loss`, anything
# from `utils.losses`, `F.margin_ranking_loss`, `F.multi_margin_loss`, `F.hinge_embedding_loss`.

# %% tags=["exercise:hinge_loss"]
def hinge_loss(scores, targets, margin=1.0):
    # YOUR CODE HERE
    raise NotImplementedError()


# %% tags=["check:hinge_loss"]
check("hinge_loss", hinge_loss)


# %% [markdown]
# ## Exercise 2 · The gradient by hand (2 points for the function, checked; 1 point for the derivation, graded by hand)
#
# Derive $\partial L / \partial s_i$ for the **mean** hinge loss $L = \frac1N \sum_i \max(0, m - y_i s_i)$,
# then implement `hinge_gradient(scores, targets, margin=1.0)` returning a tensor of shape `(N,)`
# **without autograd**. Compare it with autograd on the chapter's four scores before you run the check.
# At the kink $y_i s_i = m$ the loss has no derivative; use the subgradient autograd gives there (its
# `torch.clamp` passes the gradient at the bound), $-y_i/N$: the check has examples exactly at the margin.
#
# **Not allowed here** (each raises an error while the check runs your function): autograd
# (`torch.autograd.grad`, `.backward()`), `utils.hinge_loss`, anything from `utils.losses`,
# `F.margin_ranking_loss`, `F.multi_margin_loss`, `F.hinge_embedding_loss`.
#
# Write your derivation in the next cell: it is graded by hand.

# %% [markdown] tags=["written:hinge_gradient_derivation"]
# *Your derivation (1 point, graded by hand):*
#
# YOUR ANSWER HERE

# %% tags=["exercise:hinge_gradient"]
def hinge_gradient(scores, targets, margin=1.0):
    # YOUR CODE HERE
    raise NotImplementedError()


# %%
scores = torch.tensor([2.0, 0.3, -0.5, -2.0], requires_grad=True)
targets = torch.tensor([1.0, 1.0, -1.0, -1.0])
hinge_loss(scores, targets).backward()
print("autograd:", [round(g, 3) for g in scores.grad.tolist()])
print("by hand: ", [round(g, 3) for g in hinge_gradient(scores.detach(), targets).tolist()])

# %% tags=["check:hinge_gradient"]
check("hinge_gradient", hinge_gradient)
