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
# [Chapter 11 — Margin size](../chapters/11_margin_size.ipynb)
#
# # 11 · Exercises: margin size
#
# Companion exercises to [chapter 11](../chapters/11_margin_size.ipynb). "The margin is a hyperparameter
# ... In practice, the margin is tuned using validation performance", and "if embeddings are normalized to
# unit length, the feasible distance range is limited". One exercise for each sentence. Write each function
# where it says `# YOUR CODE HERE`, then run the check cell below it. Check the whole notebook with
# `pytest --nbval-lax exercises/ex11_margin_size.ipynb`.
#
# | exercise | points |
# |---|---|
# | 1 · `choose_margin` | 2 |
# | 2 · `unit_sphere_triplet_feasible` | 2 |

# %%
import torch

import utils
from utils.checks import check

utils.seed_everything(0)


# %% [markdown]
# ## Exercise 1 · Choose a margin from validation results (2 points)
#
# A margin sweep trained one model per margin and measured Recall@1 on the training, validation and test
# splits. Write `choose_margin(results)`:
#
# - `results`: a non-empty **list of dicts**, one per run, each with keys `"margin"` (float), `"train"`,
#   `"val"` and `"test"` (Recall@1, floats); the list is in **no particular order**;
# - choose the run with the highest **validation** score; on a tie, the **smaller margin** wins (the
#   weaker constraint that does as well).
#
# Return that run's margin, a Python float. The training score rewards fitting, not generalising; the test
# score must not be looked at to choose anything (it is reported once, for the chosen margin).

# %% tags=["exercise:choose_margin"]
def choose_margin(results):
    ### BEGIN SOLUTION
    best = min(results, key=lambda run: (-run["val"], run["margin"]))
    return float(best["margin"])
    ### END SOLUTION


# %%
sweep = [
    {"margin": 0.1, "train": 0.90, "val": 0.71, "test": 0.70},
    {"margin": 0.2, "train": 0.93, "val": 0.78, "test": 0.74},
    {"margin": 0.4, "train": 0.96, "val": 0.76, "test": 0.77},
    {"margin": 0.8, "train": 0.98, "val": 0.60, "test": 0.58},
]
chosen = choose_margin(sweep)
print("chosen margin:", chosen, "— its test Recall@1:", next(r["test"] for r in sweep if r["margin"] == chosen))

# %% tags=["check:choose_margin"]
check("choose_margin", choose_margin)


# %% [markdown]
# ## Exercise 2 · Which margins the unit sphere allows (2 points)
#
# On the unit sphere, two embeddings are at most 2 apart (antipodal points, $\|a - (-a)\| = 2$), so
# $d(a, n) \le 2$, and $d(a,n)^2 \le 4$ for squared distances. A triplet with anchor–positive distance
# $d(a,p)$ can satisfy the margin, $d(a,n) \ge d(a,p) + m$, only if a negative that far away exists —
# and the antipode of the anchor always does. Write
# `unit_sphere_triplet_feasible(d_ap, margin, squared=False)`:
#
# - `d_ap`: float tensor `(T,)` of anchor–positive distances (squared Euclidean when `squared=True`);
# - `margin`: float $m \ge 0$ in the same unit;
# - return a **bool** tensor `(T,)`, True where $d(a,p) + m$ does not exceed the largest possible distance
#   (2, or 4 when `squared=True`); reaching it exactly is feasible.

# %% tags=["exercise:unit_sphere_triplet_feasible"]
def unit_sphere_triplet_feasible(d_ap, margin, squared=False):
    ### BEGIN SOLUTION
    largest = 4.0 if squared else 2.0
    return d_ap + margin <= largest
    ### END SOLUTION


# %%
d_ap = torch.tensor([0.0, 0.5, 1.0, 1.5, 1.75])
print("margin 0.5:", unit_sphere_triplet_feasible(d_ap, 0.5).tolist())
print("margin 2.0:", unit_sphere_triplet_feasible(d_ap, 2.0).tolist())

# %% tags=["check:unit_sphere_triplet_feasible"]
check("unit_sphere_triplet_feasible", unit_sphere_triplet_feasible)
