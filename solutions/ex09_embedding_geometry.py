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
# [Chapter 09 — Margin losses and embedding geometry](../chapters/09_embedding_geometry.ipynb)
#
# # 09 · Exercises: embedding geometry — retrieval and verification
#
# Companion exercises to [chapter 09](../chapters/09_embedding_geometry.ipynb). A margin loss is trained
# for its geometry: same identity close, different identities at least a margin apart. These exercises
# measure that geometry the two ways the chapter names — **retrieval** (is my nearest neighbour of my
# class?) and **verification** (are these two the same?). Write each function where it says
# `# YOUR CODE HERE`, then run the check cell below it. Check the whole notebook with
# `pytest --nbval-lax exercises/ex09_embedding_geometry.ipynb`.
#
# | exercise | points |
# |---|---|
# | 1 · `recall_at_1` | 3 |
# | 2 · `verification_accuracy` | 2 |

# %%
import torch

import utils
from utils.checks import check

utils.seed_everything(0)


# %% [markdown]
# ## Exercise 1 · Leave-one-out Recall@1 (3 points)
#
# Write `recall_at_1(embeddings, labels)`:
#
# - `embeddings`: float tensor of shape `(N, D)`, `labels`: int64 tensor of shape `(N,)`, $N \ge 2$;
# - each point in turn is a **query**; its nearest neighbour is the **other** point (never itself) with the
#   smallest **Euclidean** distance to it, using the embeddings as given (no normalisation);
# - the query is a hit when that neighbour has the query's label;
# - a point **alone in its class** cannot be a hit whatever the embedding: it is **not a query** and is
#   left out of the average (it still serves as a possible neighbour of the others). This is the
#   convention of `utils.retrieval.recall_at_k` and of Musgrave et al. (2020).
#
# Return the fraction of hits among the queries, a Python float in $[0, 1]$ (not a 0-dim
# tensor: use `.item()`). The check always has at least one class with two members, and its embeddings are random, so there
# are no ties between distances. Use tensor operations (`torch.cdist` is fine); no `utils.retrieval`.
#
# **Not allowed here** (each raises an error while the check runs your function): anything from
# `utils.retrieval`.

# %% tags=["exercise:recall_at_1"]
def recall_at_1(embeddings, labels):
    ### BEGIN SOLUTION
    distances = torch.cdist(embeddings, embeddings)
    distances.fill_diagonal_(float("inf"))  # leave the query itself out
    nearest = distances.argmin(dim=1)
    hits = labels[nearest] == labels
    has_classmate = (labels[:, None] == labels[None, :]).sum(dim=1) > 1  # the diagonal counts once
    return hits[has_classmate].double().mean().item()
    ### END SOLUTION


# %% [markdown]
# Points 0 and 1 (class 0) find each other; point 2 (class 1) finds point 1, and point 3 (class 1) finds
# point 0: two misses. Point 4 is alone in class 2 and is not a query: Recall@1 = 2/4.

# %%
example = torch.tensor([[1.0, 1.0], [1.0, 2.0], [1.0, 3.2], [6.0, 1.0], [10.0, 10.0]])
print("Recall@1 =", recall_at_1(example, torch.tensor([0, 0, 1, 1, 2])))

# %% tags=["check:recall_at_1"]
check("recall_at_1", recall_at_1)


# %% [markdown]
# ## Exercise 2 · Verification accuracy at a threshold (2 points)
#
# Verification decides for a pair whether both items are the same identity, by thresholding their distance.
# Write `verification_accuracy(distances, same, threshold)`:
#
# - `distances`: float tensor of shape `(P,)`, the distance of each pair;
# - `same`: bool tensor of shape `(P,)`, True when the pair really is the same identity;
# - a pair is **declared same when its distance is strictly below `threshold`**, and different otherwise
#   (a pair exactly at the threshold is declared different — as the chapter's constraint
#   $d(\text{different}) \ge m$ reads).
#
# Return the fraction of the $P$ pairs whose decision is right (same pairs declared same, different pairs
# declared different), a Python float in $[0, 1]$.

# %% tags=["exercise:verification_accuracy"]
def verification_accuracy(distances, same, threshold):
    ### BEGIN SOLUTION
    declared_same = distances < threshold
    return (declared_same == same).double().mean().item()
    ### END SOLUTION


# %% [markdown]
# Five pairs at threshold 0.75: the same pair exactly at 0.75 is declared different, a mistake; the other
# four decisions are right.

# %%
d = torch.tensor([0.25, 0.5, 1.0, 1.5, 0.75])
print("accuracy:", verification_accuracy(d, torch.tensor([True, True, False, False, True]), threshold=0.75))

# %% tags=["check:verification_accuracy"]
check("verification_accuracy", verification_accuracy)
