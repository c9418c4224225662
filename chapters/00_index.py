# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
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
# # 00 · Margin-Based Losses: a companion
#
# This book follows the chapter *Margin-Based Losses* section by section. Each notebook derives one
# loss, implements it from scratch in PyTorch, checks it against independent references (PyTorch's
# built-ins, scikit-learn, pytorch-metric-learning), plots the loss and its gradient, and **measures the
# section's claims on real data** that ships with scikit-learn — no downloads, CPU only, seconds per notebook.
#
# > Margin-based losses do not only ask the model to be correct. They ask it to be correct with room to spare.
#
# ## Map of the book
#
# | # | notebook | section of the chapter | what it measures |
# |---|---|---|---|
# | 01 | [Binary classification margins](01_binary_margins.ipynb) | Binary Classification Margins | how many examples are wrong, correct, correct with margin |
# | 02 | [Hinge loss](02_hinge_loss.ipynb) | Hinge Loss; Hinge Loss in PyTorch | our hinge vs four oracles; a linear SVM vs scikit-learn's |
# | 03 | [Gradient behaviour](03_gradient_behaviour.ipynb) | Gradient Behavior | which examples still get gradient: hinge vs logistic |
# | 04 | [Squared hinge](04_squared_hinge.ipynb) | Squared Hinge Loss | penalty on large violations, outlier sensitivity |
# | 05 | [Multiclass margin loss](05_multiclass_margin.ipynb) | Multiclass Margin Loss (and in PyTorch) | Weston–Watkins vs Crammer–Singer vs cross-entropy on digits |
# | 06 | [Ranking](06_ranking_margin.ipynb) | Margin Loss for Ranking | pairwise margin loss and AUC |
# | 07 | [Triplet margin loss](07_triplet_margin.ipynb) | Triplet Margin Loss | an embedding of digits from triplets |
# | 08 | [Contrastive margin loss](08_contrastive_margin.ipynb) | Contrastive Margin Loss | an embedding of digits from pairs |
# | 09 | [Embedding geometry](09_embedding_geometry.ipynb) | Margin Losses and Embedding Geometry | retrieval on digit classes never seen in training |
# | 10 | [Hard negative mining](10_hard_negative_mining.ipynb) | Hard Negative Mining | active triplets, collapse, label noise per mining strategy |
# | 11 | [Margin size](11_margin_size.ipynb) | Margin Size | a margin sweep on the unit sphere |
# | 12 | [Normalised embeddings](12_normalized_embeddings.ipynb) | Margins with Normalized Embeddings | CosFace and ArcFace vs softmax |
# | 13 | [Margins vs cross-entropy](13_margins_vs_cross_entropy.ipynb) | Margin Losses Versus Cross-Entropy | the comparison table, measured |
# | 14 | [Practical guidelines](14_practical_guidelines.ipynb) | Practical Guidelines | a label guard and a margin-violation monitor |
#
# Each chapter ends with a pointer to its exercises in `exercises/` (solutions in `solutions/`).

# %% [markdown]
# ## Notation
#
# | symbol | meaning | in code |
# |---|---|---|
# | $y \in \{-1,+1\}$ | binary label (**not** $\{0,1\}$) | `targets` |
# | $s = f_\theta(x)$ | real-valued score, not a probability | `scores` |
# | $ys$ | the (functional) margin: $>0$ correct, $\ge 1$ correct with margin | `targets * scores` |
# | $s \in \mathbb{R}^K$, $c$ | class scores and the correct class index | `scores` (N, C), `targets` (N,) int64 |
# | $\Delta$, $m$ | the required margin | `margin=` |
# | $a, p, n$ | anchor, positive, negative embeddings | `anchor`, `positive`, `negative` (N, D) |
# | $d(\cdot,\cdot)$ | Euclidean distance unless said otherwise | `torch.linalg.vector_norm` |
# | $N$, $C$, $D$ | batch size, number of classes, embedding dimension | shapes `(N, C)`, `(N, D)` |
#
# ## How to use this book
#
# * Read a notebook top to bottom, run it (*Run ▸ Run All Cells*), then change a margin and run it again.
# * Everything a notebook needs is in `utils` (`import utils`): the losses, data, plots and training
#   loops, each documented with the section that introduced it.
# * Every number you see was produced by running the notebook, and the test suite re-runs every notebook
#   and compares: if you change code, the stored outputs will no longer match until the book is rebuilt
#   (`python -m utils.book build`).

# %%
# The book as it is on disk: every chapter notebook and its title, read from the files themselves.
from pathlib import Path

import jupytext

for path in sorted(Path(".").glob("[0-9][0-9]_*.py")):
    title = jupytext.read(path).cells[0].source.splitlines()[0].lstrip("# ")
    print(f"{path.with_suffix('.ipynb').name:36s} {title}")
