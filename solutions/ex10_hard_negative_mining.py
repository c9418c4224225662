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
# [Chapter 10 — Hard negative mining](../chapters/10_hard_negative_mining.ipynb)
#
# # 10 · Exercises: hard negative mining
#
# Companion exercises to [chapter 10](../chapters/10_hard_negative_mining.ipynb). Which triplets a batch
# yields decides whether a margin loss learns anything: easy negatives give zero loss, the hardest ones
# can destabilise training. You will write the two miners the chapter compares. Write each function where
# it says `# YOUR CODE HERE`, then run the check cell below it. Check the whole notebook with
# `pytest --nbval-lax exercises/ex10_hard_negative_mining.ipynb`.
#
# | exercise | points |
# |---|---|
# | 1 · `batch_hard_triplets` | 3 |
# | 2 · `semi_hard_mask` | 2 |

# %%
import torch

import utils
from utils.checks import check

utils.seed_everything(0)


# %% [markdown]
# ## Exercise 1 · A batch-hard miner (3 points)
#
# Batch-hard mining (Hermans et al. 2017) builds one triplet per anchor from the batch itself: the
# **hardest positive** (the sample of the anchor's class **farthest** from it) and the **hardest negative**
# (the sample of another class **nearest** to it). Write `batch_hard_triplets(embeddings, labels)`:
#
# - `embeddings`: float tensor `(N, D)`; `labels`: int64 tensor `(N,)`; Euclidean distances;
# - every index $i$ is an anchor, **in increasing order**, provided it has at least one positive
#   ($j \ne i$ with the same label — the anchor is never its own positive) and at least one negative
#   (another label); other anchors are skipped;
# - a tie between distances goes to the smallest index (what `argmax`/`argmin` return): the check has
#   duplicated points, where the anchor and its copy are at distance 0 — the copy, not the anchor, is
#   then the positive;
# - labels may have any integer dtype (uint8 included); a batch may hold singleton classes (no positive)
#   or a single class (no negative).
#
# Return `(anchors, positives, negatives)`: three int64 tensors of the same shape `(T,)`, $T \le N$
# (possibly empty). Vectorise with a distance matrix and masks (`torch.where(mask, d, ±inf)` then
# `argmax`/`argmin`); no `utils.miners`.
#
# **Not allowed here** (each raises an error while the check runs your function): anything from
# `utils.miners`.

# %% tags=["exercise:batch_hard_triplets"]
def batch_hard_triplets(embeddings, labels):
    ### BEGIN SOLUTION
    distances = torch.cdist(embeddings, embeddings)
    same = labels[:, None] == labels[None, :]
    itself = torch.eye(len(labels), dtype=torch.bool)
    positive = same & ~itself
    negative = ~same
    hardest_positive = torch.where(positive, distances, -torch.inf).argmax(dim=1)
    hardest_negative = torch.where(negative, distances, torch.inf).argmin(dim=1)
    keep = positive.any(dim=1) & negative.any(dim=1)
    anchors = torch.arange(len(labels))[keep]
    return anchors, hardest_positive[keep], hardest_negative[keep]
    ### END SOLUTION


# %% [markdown]
# Five points in the plane: class 0 at $x = 0, 1, 4$, class 1 at $(0, 2)$, class 2 at $(3, 3)$.
# Points 3 and 4 are alone in their class, so they are not anchors.

# %%
points = torch.tensor([[0.0, 0.0], [1.0, 0.0], [4.0, 0.0], [0.0, 2.0], [3.0, 3.0]])
a, p, n = batch_hard_triplets(points, torch.tensor([0, 0, 0, 1, 2]))
print("anchors:", a.tolist(), "positives:", p.tolist(), "negatives:", n.tolist())

# %% tags=["check:batch_hard_triplets"]
check("batch_hard_triplets", batch_hard_triplets)


# %% [markdown]
# ## Exercise 2 · FaceNet's semi-hard negatives (2 points)
#
# A negative is **semi-hard** (Schroff et al. 2015) when it is farther from the anchor than the positive
# but still inside the margin:
#
# $$d(a, p) < d(a, n) < d(a, p) + m .$$
#
# Both inequalities are **strict**: at $d(a,n) = d(a,p)$ the negative is hard, at
# $d(a,n) = d(a,p) + m$ the triplet's loss is already zero. Write `semi_hard_mask(d_ap, d_an, margin)`:
# `d_ap` and `d_an` are float tensors of shape `(T,)` (the two distances of each triplet), `margin` a
# float; return a **bool** tensor of shape `(T,)`, True for the semi-hard triplets.
#
# **Not allowed here** (each raises an error while the check runs your function): anything from
# `utils.miners`.

# %% tags=["exercise:semi_hard_mask"]
def semi_hard_mask(d_ap, d_an, margin):
    ### BEGIN SOLUTION
    return (d_ap < d_an) & (d_an < d_ap + margin)
    ### END SOLUTION


# %%
d_an = torch.tensor([0.25, 0.5, 0.625, 0.75, 1.0])
print(semi_hard_mask(torch.full((5,), 0.5), d_an, margin=0.25).tolist())

# %% tags=["check:semi_hard_mask"]
check("semi_hard_mask", semi_hard_mask)
