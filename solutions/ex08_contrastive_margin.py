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
# [Chapter 08 — Contrastive margin loss](../chapters/08_contrastive_margin.ipynb)
#
# # 08 · Exercises: contrastive margin loss
#
# Companion exercises to [chapter 08](../chapters/08_contrastive_margin.ipynb). Write each function where
# it says `# YOUR CODE HERE`, then run the check cell below it: it prints one line when your function is
# right, and otherwise tells you the likely mistake. Check the whole notebook with
# `pytest --nbval-lax exercises/ex08_contrastive_margin.ipynb`.
#
# | exercise | points |
# |---|---|
# | 1 · `contrastive_loss` | 3 |
# | 2 · `safe_distance` | 2 |

# %%
import torch

import utils
from utils.checks import check

utils.seed_everything(0)


# %% [markdown]
# ## Exercise 1 · Implement the contrastive loss (3 points)
#
# Write `contrastive_loss(z1, z2, similar, margin=1.0)` in the chapter's form
#
# $$L = \frac1N \sum_{i=1}^N \Big[\, y_i\, d_i^2 + (1 - y_i) \max(0, m - d_i)^2 \Big], \qquad d_i = \|z_{1,i} - z_{2,i}\|_2 .$$
#
# - `z1`, `z2`: embeddings of shape `(N, D)`, row $i$ of each forming pair $i$;
# - `similar`: float tensor of shape `(N,)` with **1 for a similar pair and 0 for a dissimilar one** (the
#   chapter's convention — Hadsell et al. 2006 use the opposite, and a factor ½ the chapter does not have);
# - `margin`: the distance $m$ a dissimilar pair must reach.
#
# Return the **mean** over the $N$ pairs as a 0-dim tensor that autograd can differentiate with respect to
# `z1` and `z2`. The check never gives two identical rows, so any way of computing $d$ works here
# (exercise 2 is about $d = 0$).
#
# **Not allowed here** (each raises an error while the check runs your function):
# `utils.contrastive_margin_loss`, anything from `utils.losses`.

# %% tags=["exercise:contrastive_loss"]
def contrastive_loss(z1, z2, similar, margin=1.0):
    ### BEGIN SOLUTION
    d = torch.linalg.vector_norm(z1 - z2, dim=1)
    pull = similar * d.pow(2)
    push = (1 - similar) * torch.clamp(margin - d, min=0.0).pow(2)
    return (pull + push).mean()
    ### END SOLUTION


# %% tags=["check:contrastive_loss"]
check("contrastive_loss", contrastive_loss)

# %% [markdown]
# A similar pair at distance 0.5 costs $0.5^2 = 0.25$; a dissimilar pair at 0.5 with margin 1 costs
# $(1 - 0.5)^2 = 0.25$ too, and at distance 2 it costs nothing:

# %%
z1 = torch.zeros(3, 2)
z2 = torch.tensor([[0.3, 0.4], [0.3, 0.4], [1.2, 1.6]])
print([round(contrastive_loss(z1[i:i + 1], z2[i:i + 1], torch.tensor([y])).item(), 3)
       for i, y in enumerate([1.0, 0.0, 0.0])])


# %% [markdown]
# ## Exercise 2 · A distance that is safe at zero (2 points)
#
# Write `safe_distance(x, y)`: for `x` and `y` of shape `(N, D)`, return the row-wise Euclidean distances
# $d_i = \|x_i - y_i\|_2$, a tensor of shape `(N,)`, such that
#
# - the values are exact (a point is at distance exactly 0 from itself);
# - the gradient with respect to `x` and `y` is the exact one where $d_i > 0$, and **0 (finite)** where
#   $x_i = y_i$.
#
# `torch.sqrt((x - y).pow(2).sum(1))` has the right values but a NaN gradient at $d = 0$: the derivative
# of $\sqrt{u}$ at 0 is infinite, and autograd multiplies it by 0. Do not use
# `F.pairwise_distance` with its default `eps` either (see chapter 08): find a way to take the square root
# only where it is safe.
#
# **Not allowed here** (each raises an error while the check runs your function): anything from
# `utils.distances`.

# %% tags=["exercise:safe_distance"]
def safe_distance(x, y):
    ### BEGIN SOLUTION
    squared = (x - y).pow(2).sum(dim=1)
    positive = squared > 0
    # sqrt of a harmless 1 where the distance is 0, so that no infinite derivative is ever formed
    root = torch.sqrt(torch.where(positive, squared, torch.ones_like(squared)))
    return torch.where(positive, root, torch.zeros_like(squared))
    ### END SOLUTION


# %%
x = torch.tensor([[1.0, 2.0], [0.0, 0.0]], requires_grad=True)
y = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
safe_distance(x, y).sum().backward()
def rounded(t):
    return [[round(v, 3) for v in row] for row in t.tolist()]


print("distances:", safe_distance(x, y).tolist(), "gradient:", rounded(x.grad))

x.grad = None
torch.sqrt((x - y).pow(2).sum(1)).sum().backward()
print("sqrt(sum) gradient:", rounded(x.grad))

# %% tags=["check:safe_distance"]
check("safe_distance", safe_distance)
