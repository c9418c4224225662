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
# [Chapter 14 — Practical guidelines](../chapters/14_practical_guidelines.ipynb)
#
# # 14 · Exercises: practical guidelines — monitor the margin, guard the labels
#
# Companion exercises to [chapter 14](../chapters/14_practical_guidelines.ipynb). Two of the chapter's
# guidelines as code: "Monitor how many examples violate the margin", and "Check label conventions
# carefully. Binary hinge loss usually expects targets in $\{-1,+1\}$, while binary cross-entropy expects
# targets in $\{0,1\}$." Write each function where it says `# YOUR CODE HERE`, then run the check cell below
# it. Check the whole notebook with `pytest --nbval-lax exercises/ex14_practical_guidelines.ipynb`.
#
# | exercise | points |
# |---|---|
# | 1 · `violation_fraction` | 2 |
# | 2 · `to_plus_minus_one` | 2 |

# %%
import torch

import utils
from utils.checks import check

utils.seed_everything(0)


# %% [markdown]
# ## Exercise 1 · The fraction of margin violations (2 points)
#
# An example **violates the margin** when $y\,s < m$: it is misclassified ($y s < 0$) or correctly
# classified without room to spare ($0 \le y s < m$). Exactly these examples have a positive hinge loss
# and a non-zero gradient; an example with $y s = m$ exactly does not violate it.
#
# Write `violation_fraction(scores, targets, margin=1.0)`: `scores` float tensor `(N,)`, `targets` float
# tensor `(N,)` in $\{-1, +1\}$. Return the fraction of the $N$ examples that violate the margin, a Python
# float in $[0, 1]$ (not a 0-dim tensor: use `.item()`).
#
# **Not allowed here** (each raises an error while the check runs your function):
# `utils.ranking.violation_fraction`.

# %% tags=["exercise:violation_fraction"]
def violation_fraction(scores, targets, margin=1.0):
    ### BEGIN SOLUTION
    return (targets * scores < margin).double().mean().item()
    ### END SOLUTION


# %%
scores = torch.tensor([2.0, 0.5, -0.25, 1.0, -3.0])
targets = torch.tensor([1.0, 1.0, 1.0, 1.0, -1.0])
print("violating:", violation_fraction(scores, targets))  # 0.5 inside, -0.25 misclassified

# %% tags=["check:violation_fraction"]
check("violation_fraction", violation_fraction)


# %% [markdown]
# ## Exercise 2 · A label guard (2 points)
#
# PyTorch's margin losses fail **silently** on the wrong label convention: with $\{0,1\}$ targets
# `F.soft_margin_loss` gives $\log 2$ for every 0 label whatever the score, `F.margin_ranking_loss` returns
# the margin. A guard turns that silence into either a correct conversion or an error. Write
# `to_plus_minus_one(labels)`:
#
# - `labels`: a tensor `(N,)` of any integer or floating dtype;
# - if every value is in $\{0, 1\}$: return $2y - 1$ (0 → −1, 1 → +1);
# - else if every value is in $\{-1, +1\}$: return the labels unchanged in value;
# - the result is a **floating-point** tensor `(N,)` (float32 or the input's float dtype);
# - otherwise (e.g. class indices $\{0, 1, 2\}$, or $\{-1, 0, 1\}$, or $0.5$) **raise `ValueError`** with a
#   message naming the values found and the two accepted conventions.
#
# A batch may hold one class only: all 1 is +1, all 0 is −1, all −1 is −1 (the conversion is unambiguous
# even then). The library's `utils.labels.convert_labels` is stricter: it refuses a single distinct value,
# because its detector also considers class indices, where {1} could be class 1 of ten.
#
# The check compares returned values only, so it grades the small wrapper below your function (given —
# do not change it), which turns your `ValueError` into the string `"ValueError"`.
#
# **Not allowed here** (each raises an error while the check runs your function): anything from
# `utils.labels`.

# %% tags=["exercise:to_plus_minus_one"]
def to_plus_minus_one(labels):
    ### BEGIN SOLUTION
    values = torch.unique(labels)
    if bool(torch.isin(values, torch.tensor([0, 1], dtype=labels.dtype)).all()):
        result = 2 * labels - 1
    elif bool(torch.isin(values, torch.tensor([-1, 1], dtype=labels.dtype)).all()):
        result = labels
    else:
        raise ValueError(f"labels must be in {{0, 1}} or in {{-1, +1}}; found the values {values.tolist()}. "
                         "Fix: for class indices pick a positive class k and pass (labels == k).")
    return result.float() if not result.is_floating_point() else result.clone()
    ### END SOLUTION


def to_plus_minus_one_or_error(labels):
    """What the check grades: your function, with a ValueError turned into the string "ValueError"."""
    try:
        return to_plus_minus_one(labels)
    except ValueError:
        return "ValueError"


# %%
print(to_plus_minus_one(torch.tensor([0, 1, 1])).tolist(), to_plus_minus_one(torch.tensor([-1.0, 1.0])).tolist())
try:
    to_plus_minus_one(torch.tensor([0, 1, 2]))
except ValueError as error:
    print("ValueError:", error)

# %% tags=["check:to_plus_minus_one"]
check("to_plus_minus_one", to_plus_minus_one_or_error)
