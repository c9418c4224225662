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
# [Chapter 06 — Margin loss for ranking](../chapters/06_ranking_margin.ipynb)
#
# # 06 · Exercises: margin loss for ranking
#
# Companion exercises to [chapter 06](../chapters/06_ranking_margin.ipynb) (section "Margin Loss for
# Ranking"). Write each function where it says `# YOUR CODE HERE`, then run the check cell below it: it
# prints one line when your function is right, and otherwise tells you the likely mistake. Check the
# whole notebook with `pytest --nbval-lax exercises/ex06_ranking_margin.ipynb`.
#
# | exercise | points |
# |---|---|
# | 1 · `ranking_loss` | 1 |
# | 2 · `fixed_ranking_loss` (find and fix the bug) | 2 |
# | 3 · `all_pairs_ranking_loss` | 2 |

# %%
import torch
import torch.nn as nn

import utils
from utils.checks import check

utils.seed_everything(0)


# %% [markdown]
# ## Exercise 1 · The pairwise ranking loss (1 point)
#
# Write `ranking_loss(pos_scores, neg_scores, margin=1.0)`: `pos_scores` and `neg_scores` are float
# tensors of the same shape `(N,)`, pair $i$ being (positive $s^+_i$, negative $s^-_i$); return the
# **mean** over the pairs of $\max(0, m - s^+_i + s^-_i)$ as a 0-dim tensor that autograd can
# differentiate.
#
# **Not allowed here** (each raises an error while the check runs your function): `F.margin_ranking_loss`,
# `utils.ranking_margin_loss`, anything from `utils.losses`, anything from `utils.ranking`.

# %% tags=["exercise:ranking_loss"]
def ranking_loss(pos_scores, neg_scores, margin=1.0):
    # YOUR CODE HERE
    raise NotImplementedError()


# %% tags=["check:ranking_loss"]
check("ranking_loss", ranking_loss)


# %% [markdown]
# ## Exercise 2 · Find and fix the bug: `nn.MarginRankingLoss` (2 points)
#
# `nn.MarginRankingLoss()(x1, x2, y)` computes the mean of $\max(0, -y\,(x_1 - x_2) + \text{margin})$,
# where $y = +1$ means "$x_1$ should rank higher" and $y = -1$ means "$x_2$ should". A colleague wanted
# the chapter's ranking loss with margin 1, presenting every pair in both orders, and wrote:

# %%
def buggy_ranking_loss(pos_scores, neg_scores):
    loss_fn = nn.MarginRankingLoss()
    x1 = torch.cat([pos_scores, neg_scores])
    x2 = torch.cat([neg_scores, pos_scores])
    target = torch.cat([torch.ones_like(pos_scores), torch.zeros_like(neg_scores)])  # 1: x1 first, 0: x2 first
    return loss_fn(x1, x2, target)


pos = torch.tensor([2.0, 0.5, 1.2])
neg = torch.tensor([0.5, 0.0, 1.5])
print(f"buggy: {buggy_ranking_loss(pos, neg).item():.3f}   chapter's loss: {ranking_loss(pos, neg).item():.3f}")


# %% [markdown]
# It has **two** bugs (look up the defaults of `nn.MarginRankingLoss` and the values its target may
# take). Write `fixed_ranking_loss(pos_scores, neg_scores)`, same inputs as in exercise 1, that still uses
# `nn.MarginRankingLoss` but correctly, and returns the mean over the pairs of
# $\max(0, 1 - s^+_i + s^-_i)$ as a differentiable 0-dim tensor.

# %% tags=["exercise:fixed_ranking_loss"]
def fixed_ranking_loss(pos_scores, neg_scores):
    # YOUR CODE HERE
    raise NotImplementedError()


# %%
print(f"fixed: {fixed_ranking_loss(pos, neg).item():.3f}   chapter's loss: {ranking_loss(pos, neg).item():.3f}")

# %% tags=["check:fixed_ranking_loss"]
check("fixed_ranking_loss", fixed_ranking_loss)


# %% [markdown]
# ## Exercise 3 · Every positive against every negative (2 points)
#
# For one query there are usually several relevant items and many irrelevant ones. Write
# `all_pairs_ranking_loss(pos_scores, neg_scores, margin=1.0)`: `pos_scores` of shape `(P,)`,
# `neg_scores` of shape `(Q,)` ($P$ and $Q$ may differ); return, as a differentiable 0-dim tensor, the mean
# over **all** $P \cdot Q$ pairs
#
# $$ L = \frac{1}{PQ} \sum_{i=1}^{P} \sum_{j=1}^{Q} \max(0,\; m - s^+_i + s^-_j). $$
#
# No Python loop: broadcast to a `(P, Q)` matrix.
#
# **Not allowed here** (each raises an error while the check runs your function): `F.margin_ranking_loss`,
# `utils.ranking_margin_loss`, anything from `utils.losses`, anything from `utils.ranking`.

# %% tags=["exercise:all_pairs_ranking_loss"]
def all_pairs_ranking_loss(pos_scores, neg_scores, margin=1.0):
    # YOUR CODE HERE
    raise NotImplementedError()


# %%
print(f"{all_pairs_ranking_loss(torch.tensor([2.0, 0.5]), torch.tensor([0.5, 0.0, 1.8])).item():.3f}")

# %% tags=["check:all_pairs_ranking_loss"]
check("all_pairs_ranking_loss", all_pairs_ranking_loss)
