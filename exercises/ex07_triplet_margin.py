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
# [Chapter 07 — Triplet margin loss](../chapters/07_triplet_margin.ipynb)
#
# # 07 · Exercises: triplet margin loss
#
# Companion exercises to [chapter 07](../chapters/07_triplet_margin.ipynb) (section "Triplet Margin
# Loss"). Write each function where it says `# YOUR CODE HERE`, then run the check cell below it: it
# prints one line when your function is right, and otherwise tells you the likely mistake. Check the
# whole notebook with `pytest --nbval-lax exercises/ex07_triplet_margin.ipynb`.
#
# | exercise | points |
# |---|---|
# | 1 · `triplet_loss` | 2 |
# | 2 · `exact_triplet_loss` (find and fix the bug: torch's eps at zero distance) | 3 |
#
# In both, `anchor`, `positive` and `negative` are float tensors of the same shape `(N, D)` (row $i$ is
# one triplet), $d$ is the Euclidean distance $d(x, y) = \lVert x - y \rVert_2$, and `margin` is $m \ge 0$.

# %%
import torch
import torch.nn as nn

import utils
from utils.checks import check

utils.seed_everything(0)


# %% [markdown]
# ## Exercise 1 · The triplet loss, exactly (2 points)
#
# Write `triplet_loss(anchor, positive, negative, margin=1.0)` returning, as a 0-dim tensor, the mean
# over the $N$ triplets of
#
# $$ \max\big(0,\; d(a_i, p_i) - d(a_i, n_i) + m\big) $$
#
# with the **exact** Euclidean distance: not squared, and with no `eps` added (so $d(x, x) = 0$).
# Note that `F.pairwise_distance` and `nn.TripletMarginLoss` add `eps=1e-6` by default.
#
# **Not allowed here** (each raises an error while the check runs your function): `F.triplet_margin_loss`,
# `F.triplet_margin_with_distance_loss`, `utils.triplet_margin_loss`, anything from `utils.losses`.

# %% tags=["exercise:triplet_loss"]
def triplet_loss(anchor, positive, negative, margin=1.0):
    # YOUR CODE HERE
    raise NotImplementedError()


# %% tags=["check:triplet_loss"]
check("triplet_loss", triplet_loss)


# %% [markdown]
# ## Exercise 2 · Find and fix the bug: torch's eps at zero distance (3 points)
#
# A batch built from a data set with repeated examples contains triplets whose positive is an exact copy
# of the anchor. The training code uses the chapter's snippet, with PyTorch's defaults:
#
# **Not allowed here** (each raises an error while the check runs your function): `F.triplet_margin_loss`,
# `F.triplet_margin_with_distance_loss`, `utils.triplet_margin_loss`, anything from `utils.losses`.

# %%
def buggy_triplet_loss(anchor, positive, negative, margin=1.0):
    return nn.TripletMarginLoss(margin=margin, p=2)(anchor, positive, negative)


anchor = torch.tensor([[0.0, 0.0, 0.0, 0.0]], dtype=torch.float64, requires_grad=True)
positive = anchor.detach().clone()  # a duplicate: d(a, p) = 0
negative = torch.tensor([[0.6, 0.0, 0.0, 0.0]], dtype=torch.float64)
loss = buggy_triplet_loss(anchor, positive, negative)
(grad,) = torch.autograd.grad(loss, anchor)
print(f"buggy loss: {loss.item():.7f} (exact: {1 - 0.6:.7f})")
print("buggy gradient w.r.t. the anchor:", [round(g, 3) for g in grad[0].tolist()])


# %% [markdown]
# The value is off by about `eps * sqrt(D)`, and, worse, the gradient has a spurious term
# $(1, 1, 1, 1)/2$: at $a = p$ the distance $\lVert a - p + \epsilon\mathbf{1} \rVert$ has gradient
# $\epsilon\mathbf{1}/\lVert\epsilon\mathbf{1}\rVert = \mathbf{1}/\sqrt{D}$, a unit vector, so every
# descent step moves a duplicated anchor along the arbitrary direction $-\mathbf{1}$. (Computing
# $\sqrt{\sum (a - p)^2}$ by hand is no better: its gradient at $a = p$ is NaN.)
#
# Write `exact_triplet_loss(anchor, positive, negative, margin=1.0)` returning the mean triplet loss whose
# **value** and **gradients** (with respect to `anchor`, `positive` and `negative`) are exact, with the
# convention that the gradient of $d(a, p)$ at $a = p$ is $0$ (the minimum-norm subgradient of the norm,
# what `torch.linalg.vector_norm` returns). On this example the gradient w.r.t. the anchor must then be
# that of $-d(a, n)$ alone: $(1, 0, 0, 0)$.

# %% tags=["exercise:exact_triplet_loss"]
def exact_triplet_loss(anchor, positive, negative, margin=1.0):
    # YOUR CODE HERE
    raise NotImplementedError()


# %%
loss = exact_triplet_loss(anchor, positive, negative)
(grad,) = torch.autograd.grad(loss, anchor)
print(f"fixed loss: {loss.item():.7f}")
print("fixed gradient w.r.t. the anchor:", [round(g + 0.0, 3) for g in grad[0].tolist()])

# %% tags=["check:exact_triplet_loss"]
check("exact_triplet_loss", exact_triplet_loss)
