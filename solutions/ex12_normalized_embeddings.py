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
# [Chapter 12 — Margins with normalized embeddings](../chapters/12_normalized_embeddings.ipynb)
#
# # 12 · Exercises: margins with normalised embeddings — CosFace and ArcFace
#
# Companion exercises to [chapter 12](../chapters/12_normalized_embeddings.ipynb). With unit-length
# features $\hat z$ and unit-length class weights $\hat w_j$, the logit of class $j$ is the cosine
# $\cos\theta_j = \hat z^\top \hat w_j \in [-1, 1]$. Angular-margin losses take a margin from the
# **target** class only, then multiply every logit by a scale $s$ before softmax cross-entropy. You write
# the logits; `F.cross_entropy(logits, targets)` does the rest. Write each function where it says
# `# YOUR CODE HERE`, then run the check cell below it. Check the whole notebook with
# `pytest --nbval-lax exercises/ex12_normalized_embeddings.ipynb`.
#
# | exercise | points |
# |---|---|
# | 1 · `cosface_logits` | 2 |
# | 2 · `arcface_logits` | 3 |

# %%
import math

import torch
import torch.nn.functional as F

import utils
from utils.checks import check

utils.seed_everything(0)


# %% [markdown]
# ## Exercise 1 · CosFace logits (2 points)
#
# CosFace (Wang et al. 2018) subtracts an additive **cosine** margin $m$ from the target class:
#
# $$\text{logit}_{ij} = s\,\big(\cos\theta_{ij} - m\,[j = y_i]\big).$$
#
# Write `cosface_logits(cosines, targets, margin=0.35, scale=64.0)`: `cosines` is a float tensor `(N, C)`
# with entries in $[-1, 1]$, `targets` an int64 tensor `(N,)` of class indices. Return the logits, a tensor
# `(N, C)` differentiable with respect to `cosines`. Do not modify `cosines` in place.
#
# **Not allowed here** (each raises an error while the check runs your function): anything from
# `utils.angular`.

# %% tags=["exercise:cosface_logits"]
def cosface_logits(cosines, targets, margin=0.35, scale=64.0):
    ### BEGIN SOLUTION
    onehot = F.one_hot(targets, cosines.shape[1]).to(cosines.dtype)
    return scale * (cosines - margin * onehot)
    ### END SOLUTION


# %% tags=["check:cosface_logits"]
check("cosface_logits", cosface_logits)


# %% [markdown]
# ## Exercise 2 · ArcFace logits (3 points)
#
# ArcFace (Deng et al. 2019) adds an additive **angular** margin $m$ (in radians) to the target angle:
# the target logit becomes $s\cos(\theta_{y} + m)$, the others stay $s\cos\theta_j$. Two details make it
# work:
#
# 1. **The branch.** $\cos(\theta + m)$ decreases in $\theta$ only while $\theta + m \le \pi$; beyond, it
#    would rise again and reward a worse angle. There ArcFace uses $\cos\theta - m \sin m$ instead.
# 2. **The clamp.** $\frac{d}{dc}\arccos c = -1/\sqrt{1 - c^2}$ is infinite at $c = \pm 1$. Compute
#    $\theta = \arccos(\mathrm{clamp}(c, -1 + \varepsilon, 1 - \varepsilon))$ with $\varepsilon = 10^{-6}$ (the
#    value of chapter 12 and `utils.angular`).
#
# Write `arcface_logits(cosines, targets, margin=0.5, scale=64.0)` with `cosines` `(N, C)` and `targets`
# `(N,)` as above, where for each row $i$ with target cosine $c = $ `cosines[i, targets[i]]`:
#
# - $\theta = \arccos(\mathrm{clamp}(c, -1 + 10^{-6}, 1 - 10^{-6}))$;
# - target logit $= s \cos(\theta + m)$ if $\theta + m \le \pi$, else $s\,(c - m \sin m)$ (with the
#   **unclamped** $c$); exactly at $\theta + m = \pi$ (the check has such rows, $c = -\cos m$) the first
#   branch applies: $s \cos \pi = -s$. Compute in the inputs' dtype (float64 in the check): in float32
#   that boundary is not exact;
# - every other logit $= s \cdot$ `cosines[i, j]`.
#
# Return the `(N, C)` logits, differentiable with respect to `cosines`, with **finite gradients even where
# a target cosine is exactly ±1**. Do not modify `cosines` in place.
#
# **Not allowed here** (each raises an error while the check runs your function): anything from
# `utils.angular`.

# %% tags=["exercise:arcface_logits"]
def arcface_logits(cosines, targets, margin=0.5, scale=64.0):
    ### BEGIN SOLUTION
    eps = 1e-6
    onehot = F.one_hot(targets, cosines.shape[1]).bool()
    theta = torch.acos(cosines.clamp(-1 + eps, 1 - eps))
    with_margin = torch.where(theta + margin <= math.pi, torch.cos(theta + margin), cosines - margin * math.sin(margin))
    return scale * torch.where(onehot, with_margin, cosines)
    ### END SOLUTION


# %% [markdown]
# The target logit against the angle, with and without the branch ($m = 0.5$, $s = 1$): without it the
# curve turns back up after $\theta = \pi - m$.

# %%
angles = torch.linspace(0.0, math.pi, 9)
c = torch.cos(angles)[:, None]
with_branch = arcface_logits(c, torch.zeros(9, dtype=torch.int64), scale=1.0)[:, 0]
print("θ / π:            ", [round(a, 3) for a in (angles / math.pi).tolist()])
print("with the branch:  ", [round(v, 3) for v in with_branch.tolist()])
print("cos(θ + m) alone: ", [round(v, 3) for v in torch.cos(angles + 0.5).tolist()])

# %% tags=["check:arcface_logits"]
check("arcface_logits", arcface_logits)
