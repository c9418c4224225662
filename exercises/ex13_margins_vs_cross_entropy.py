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
# [Chapter 13 — Margin losses versus cross-entropy](../chapters/13_margins_vs_cross_entropy.ipynb)
#
# # 13 · Exercises: margin losses versus cross-entropy — measuring calibration
#
# Companion exercise to [chapter 13](../chapters/13_margins_vs_cross_entropy.ipynb). The chapter's table
# says cross-entropy is "usually better" calibrated than margin losses. To check a claim like that you need
# a measure of calibration: the **expected calibration error** (ECE, Guo et al. 2017). Write the function
# where it says `# YOUR CODE HERE`, then run the check cell below it. Check the whole notebook with
# `pytest --nbval-lax exercises/ex13_margins_vs_cross_entropy.ipynb`.
#
# | exercise | points |
# |---|---|
# | 1 · `expected_calibration_error` | 3 |

# %%
import torch

import utils
from utils.checks import check

utils.seed_everything(0)


# %% [markdown]
# ## Exercise 1 · Expected calibration error (3 points)
#
# A classifier is calibrated when, among the examples it predicts with confidence 0.8, 80 % are right.
# For each example $i$, its **confidence** is its largest probability $\hat p_i = \max_j p_{ij}$, its
# **prediction** $\hat y_i = \arg\max_j p_{ij}$, and it is **correct** when $\hat y_i = y_i$. Split $[0, 1]$
# into `n_bins` equal-width bins, **right-closed**: bin $b$ holds the confidences in
# $\big(\tfrac{b}{n}, \tfrac{b+1}{n}\big]$ (a confidence of exactly 0, impossible for a probability row,
# would go to the first bin). Then
#
# $$\mathrm{ECE} = \sum_{b:\,|B_b| > 0} \frac{|B_b|}{N}\,\Big|\operatorname{acc}(B_b) - \operatorname{conf}(B_b)\Big|,$$
#
# with $\operatorname{acc}(B_b)$ the fraction of correct examples in bin $b$ and $\operatorname{conf}(B_b)$
# their mean confidence; empty bins contribute nothing.
#
# Write `expected_calibration_error(probs, targets, n_bins=10)`: `probs` float tensor `(N, C)` whose rows
# sum to 1, `targets` int64 tensor `(N,)` of class indices. Return the ECE as a Python float (not a
# 0-dim tensor: use `.item()`). The check has batches with more classes than bins. The check's probability rows have a unique maximum. No `utils.calibration`.
#
# **Not allowed here** (each raises an error while the check runs your function): anything from
# `utils.calibration`.

# %% tags=["exercise:expected_calibration_error"]
def expected_calibration_error(probs, targets, n_bins=10):
    # YOUR CODE HERE
    raise NotImplementedError()


# %% [markdown]
# Six predictions on four bins: three at confidence 0.5 (two right), two at 0.75 (both right) and one at
# 1.0 (wrong). Work out the three non-empty bins' gaps by hand before you run it.

# %%
probs = torch.tensor([[0.5, 0.25, 0.25], [0.75, 0.25, 0.0], [0.0, 1.0, 0.0], [0.5, 0.3, 0.2],
                      [0.2, 0.3, 0.5], [0.1, 0.15, 0.75]], dtype=torch.float64)
targets = torch.tensor([0, 0, 0, 1, 2, 2])
print(f"ECE = {expected_calibration_error(probs, targets, n_bins=4):.4f}")

# %% tags=["check:expected_calibration_error"]
check("expected_calibration_error", expected_calibration_error)
