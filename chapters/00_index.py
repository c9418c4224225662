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
# # 00 · Margin-Based Losses: a companion
#
# **What this book is.** A companion in notebooks to the textbook chapter *Margin-Based Losses*, one
# notebook per section, in the chapter's order. Each notebook derives one loss step by step, implements
# it from scratch in PyTorch, checks it against an independent reference (a PyTorch built-in,
# scikit-learn or pytorch-metric-learning), plots the loss and its gradient against the margin, and
# **measures the section's claims on real data** that ships with scikit-learn. CPU only, no downloads,
# seconds per notebook. Every chapter after this one ends with a link to its graded exercises.
#
# > Margin-based losses do not only ask the model to be correct. They ask it to be correct with room to spare.
#
# ## How to run it
#
# 1. Install once, as the README's "Read and run" says (a virtual environment and
#    `pip install -r requirements.txt`; nothing else is fetched later).
# 2. Start JupyterLab **from the book's root folder**, the one that holds `README.md`, with the command
#    of the README's "Read and run" (`jupyter lab`). The file browser then shows `chapters/` (the book) and
#    `exercises/` (your exercises) side by side; this page is `chapters/00_index.ipynb`.
# 3. Open a chapter from the map below, run it top to bottom (*Run ▸ Run All Cells*, a few seconds),
#    and read it with its outputs.
#
# **Then edit it.** The notebooks are meant to be changed. Most chapters set their margin once, in a
# `MARGIN` constant near the top: change it, run the chapter again and watch every figure that depends
# on it move. Change a loss, break it on purpose, and see which check complains. Chapters 02, 04,
# 07, 11 and 12 have sliders that redraw the loss, its gradient and the examples that still receive
# gradient as you drag the margin (and, in 12, the scale); they need a running kernel.
# Your edits only change your copy; the outputs stored with the book are a reference run, which the
# book's own tests compare against, so a saved, edited notebook simply differs from them. To get a
# chapter back as it was, take it again from the book's archive (or, in a git clone,
# `git checkout -- chapters/NN_slug.ipynb`).
#
# **Exercises.** Chapter NN's exercises are in `exercises/exNN_slug.ipynb`, linked in the last column
# of the map and at the end of each chapter. Write each function where it says `# YOUR CODE HERE` and
# run the check cell below it: one line when your answer is right, otherwise the likely mistake and a
# hint.
#
# ## The path through the book
#
# - **01 → 03, the foundation**, read in order: the margin $ys$, the hinge loss, and which examples
#   still receive gradient. Everything after builds on these three.
# - **04 → 06, other margin losses on scores**: squared hinge, multiclass (Weston–Watkins and
#   Crammer–Singer), pairwise ranking.
# - **07 → 11, margins between embeddings**: triplet and contrastive losses, what the learned geometry
#   transfers to, which negatives to train on, and how large the margin should be.
# - **12, angular margins** (CosFace, ArcFace) on normalised embeddings.
# - **13 → 14, in practice**: margin losses against cross-entropy, and guidelines with the tools to
#   follow them.
#
# ## Map of the book
#
# | # | notebook | section of the chapter | what it measures | exercises |
# |---|---|---|---|---|
# | 01 | [Binary classification margins](01_binary_margins.ipynb) | Binary Classification Margins | how many examples are wrong, correct, correct with margin | [ex01](../exercises/ex01_binary_margins.ipynb) |
# | 02 | [Hinge loss](02_hinge_loss.ipynb) | Hinge Loss; Hinge Loss in PyTorch | our hinge vs four independent references; a linear SVM vs scikit-learn's; a margin slider | [ex02](../exercises/ex02_hinge_loss.ipynb) |
# | 03 | [Gradient behaviour](03_gradient_behaviour.ipynb) | Gradient Behavior | which examples still get gradient: hinge vs logistic; the gradient with respect to the weights | [ex03](../exercises/ex03_gradient_behaviour.ipynb) |
# | 04 | [Squared hinge](04_squared_hinge.ipynb) | Squared Hinge Loss | penalty on large violations, outlier sensitivity | [ex04](../exercises/ex04_squared_hinge.ipynb) |
# | 05 | [Multiclass margin loss](05_multiclass_margin.ipynb) | Multiclass Margin Loss (and in PyTorch) | Weston–Watkins vs Crammer–Singer vs cross-entropy on digits | [ex05](../exercises/ex05_multiclass_margin.ipynb) |
# | 06 | [Ranking](06_ranking_margin.ipynb) | Margin Loss for Ranking | pairwise margin loss and AUC | [ex06](../exercises/ex06_ranking_margin.ipynb) |
# | 07 | [Triplet margin loss](07_triplet_margin.ipynb) | Triplet Margin Loss | an embedding of digits from triplets | [ex07](../exercises/ex07_triplet_margin.ipynb) |
# | 08 | [Contrastive margin loss](08_contrastive_margin.ipynb) | Contrastive Margin Loss | an embedding of digits from pairs | [ex08](../exercises/ex08_contrastive_margin.ipynb) |
# | 09 | [Embedding geometry](09_embedding_geometry.ipynb) | Margin Losses and Embedding Geometry | retrieval on digit classes never seen in training | [ex09](../exercises/ex09_embedding_geometry.ipynb) |
# | 10 | [Hard negative mining](10_hard_negative_mining.ipynb) | Hard Negative Mining | active triplets, collapse, label noise per mining strategy | [ex10](../exercises/ex10_hard_negative_mining.ipynb) |
# | 11 | [Margin size](11_margin_size.ipynb) | Margin Size | a margin sweep on the unit sphere | [ex11](../exercises/ex11_margin_size.ipynb) |
# | 12 | [Normalised embeddings](12_normalized_embeddings.ipynb) | Margins with Normalized Embeddings | CosFace and ArcFace vs softmax | [ex12](../exercises/ex12_normalized_embeddings.ipynb) |
# | 13 | [Margins vs cross-entropy](13_margins_vs_cross_entropy.ipynb) | Margin Losses Versus Cross-Entropy | the comparison table, measured | [ex13](../exercises/ex13_margins_vs_cross_entropy.ipynb) |
# | 14 | [Practical guidelines](14_practical_guidelines.ipynb) | Practical Guidelines | a label guard and a margin-violation monitor | [ex14](../exercises/ex14_practical_guidelines.ipynb) |
#
# ## Notation
#
# The chapter writes $K$ classes and a batch of $B$ examples; this book writes $C$ and $N$ everywhere,
# in formulas and in code, as PyTorch's documentation does.
#
# | symbol | meaning | in code |
# |---|---|---|
# | $y \in \{-1,+1\}$ | binary label (**not** $\{0,1\}$) | `targets` |
# | $s = f_\theta(x)$ | real-valued score, not a probability | `scores` |
# | $ys$ | the (functional) margin: $>0$ correct, $\ge 1$ correct with margin | `targets * scores` |
# | $s \in \mathbb{R}^C$, $c$ | class scores and the correct class index | `scores` (N, C), `targets` (N,) int64 |
# | $\Delta$, $m$ | the required margin | `margin=`, `MARGIN` in a chapter |
# | $a, p, n$ | anchor, positive, negative embeddings | `anchor`, `positive`, `negative` (N, D) |
# | $d(\cdot,\cdot)$ | Euclidean distance unless said otherwise | `torch.linalg.vector_norm` |
# | $N$, $C$, $D$ | batch size, number of classes, embedding dimension | shapes `(N, C)`, `(N, D)` |
#
# ## References and the chapter's claims
#
# The book's [references page](../REFERENCES.md) holds, in one place: the independent reference each
# loss is checked against and the pitfalls met on the way ([oracles](../REFERENCES.md#oracles)); every
# claim of the chapter, the notebook that measures it and the verdict, including the claims the data
# did not confirm ([claims](../REFERENCES.md#claims)); and the papers and documentation behind them
# ([sources](../REFERENCES.md#sources)). Everything a notebook needs is in `utils` (`import utils`):
# the losses, data, plots and training loops, each documented with the section that introduced it.

# %%
# The book as it is on disk: every chapter notebook and its title, read from the files themselves.
from pathlib import Path

import jupytext

for path in sorted(Path(".").glob("[0-9][0-9]_*.py")):
    title = jupytext.read(path).cells[0].source.splitlines()[0].lstrip("# ")
    print(f"{path.with_suffix('.ipynb').name:36s} {title}")
