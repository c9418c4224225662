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
#
# ## The chapter's claims, measured
#
# Every claim the chapter makes (the eleven of `ORACLES.md`, and five more found in its text), the
# notebook and section whose stored output shows the measurement, and the result in one line. A claim the
# data did not confirm says so.
#
# | # | claim of the chapter | where it is measured | measured result (digits / breast cancer, CPU, one seed unless said) | verdict |
# |---|---|---|---|---|
# | 1 | Examples outside the margin give zero gradient under hinge loss; logistic / cross-entropy still give small gradients | [03](03_gradient_behaviour.ipynb) §Experiment; [13](13_margins_vs_cross_entropy.ipynb) §5a | fraction of training examples with non-zero gradient after training: hinge 0.080, logistic 1.000 (breast cancer); hinge 0.126, cross-entropy 1.000 (digits) | confirmed |
# | 2 | Squared hinge penalises large violations more, has a continuous gradient, and is more affected by outliers | [04](04_squared_hinge.ipynb) §Continuity, §Experiments (a), (b) | at $ys=-3$: loss 16 vs 4, gradient 8 vs 1; gradient jump at the kink 0 vs 1; with flipped deep points the weights rotate more in 22 of 22 labellings (cos 0.284 vs 0.378 at 20 flips); test-accuracy effect small (−1.2 vs +0.5 points) | confirmed (accuracy effect small) |
# | 3 | Multiclass hinge is zero exactly when every wrong class is at least Δ below the correct one | [05](05_multiclass_margin.ipynb) §8 | zero-loss set = {min_j(s_c − s_j) ≥ Δ} in 18 model/Δ/variant combinations and on random scores with exact ties | confirmed |
# | 4 | Cross-entropy is usually better calibrated than margin losses | [13](13_margins_vs_cross_entropy.ipynb) §5c | test ECE: cross-entropy 0.039, hinge with softmax of raw scores 0.236; one temperature fitted on held-out data brings hinge to 0.028 | confirmed for raw scores; a calibration map closes most of the gap |
# | 5 | A learned distance generalises to classes never seen in training | [09](09_embedding_geometry.ipynb) §5 | MAP@R on unseen digits 7–9: triplet 0.30/0.36, contrastive 0.30/0.35, cross-entropy 0.36/0.35 (2 seeds), untrained net 0.42/0.40, raw pixels 0.55, chance 0.12 | **not confirmed** on digits (above chance, below raw pixels) |
# | 6 | Easy negatives give zero loss and little signal; the fraction of active triplets shows it | [10](10_hard_negative_mining.ipynb) §8.1 | active triplets, first 10 → last 20 steps: random 0.384 → 0.044, in-batch 0.337 → 0.025, batch-hard 0.993 → 0.596 | confirmed |
# | 7 | The hardest negatives, early in training, can destabilise or collapse training; semi-hard is gentler | [10](10_hard_negative_mining.ipynb) §8.2 | main setup: batch-hard shrinks distances (0.809 → 0.397) and lags (Recall@1 0.789 vs 0.846 at step 5) but recovers (0.950 vs 0.961); squared distances with lr 1e-2: batch-hard collapses (mean distance 0.025, loss stuck at m), semi-hard does not | partly confirmed (collapse only in the FaceNet-style setting) |
# | 8 | Aggressive mining amplifies label noise | [10](10_hard_negative_mining.ipynb) §8.3 | 20 % labels flipped, Recall@1 drop: batch-hard 0.191, semi-hard 0.022, random 0.028, in-batch 0.030 | confirmed for batch-hard |
# | 9 | Too small a margin separates poorly, too large makes constraints unsatisfiable; on the unit sphere distances lie in [0, 2] | [11](11_margin_size.ipynb) §5–7 | val MAP@R 0.79 (m=0.02) → 0.89 (m=1) → 0.77 (m=2.5, violation 1.000 every step); chosen m=1.0 → test MAP@R 0.909; unnormalised: the norm grows 26× for a 100× margin | confirmed ("too large" slows training; no instability seen) |
# | 10 | Angular margins (CosFace/ArcFace) make classes more compact and separated than plain softmax | [12](12_normalized_embeddings.ipynb) §6–7 | 16-D test: spread 24.4° (softmax) vs 23.3° / 21.6°, min gap 61.4° vs 80.7° / 81.9°; 2-D: spread −0.6° / −0.7° (3/3 seeds), gap larger for CosFace 3/3, ArcFace 1/3 | confirmed in 16-D, weakly in 2-D |
# | 11 | Monitoring the fraction of margin violations tells whether the margin is too small or too large | [14](14_practical_guidelines.ipynb) §3, §5 | Δ=1 healthy; Δ=50 and a 1-unit bottleneck: ≥ 0.9 violating on 100 % of steps; Δ=0.01: ≤ 0.02 on 59 % of steps | confirmed for "too large"; "too small" weaker; cannot tell a large margin from a small model |
# | 12 | Hinge scores need no sigmoid; a sigmoid output never reaches zero hinge loss | [02](02_hinge_loss.ipynb) §2 | smallest hinge loss of sigmoid outputs over s ∈ [−20, 20]: 2.1e-9 (y=+1), ≥ 1 (y=−1) | confirmed |
# | 13 | The margin 1 is a convention | [01](01_binary_margins.ipynb) §5 | margin 2 with half the weight decay: weights exactly 2×, identical predictions | confirmed |
# | 14 | Label conventions fail silently ({0,1} instead of {−1,+1}) | [02](02_hinge_loss.ipynb) §6; [14](14_practical_guidelines.ipynb) §2 | torch hinge on {0,1} labels: loss stuck at 0.373, test accuracy 0.918 vs 0.959; `utils` raises instead | confirmed |
# | 15 | Pairwise margin loss targets ranking (AUC) | [06](06_ranking_margin.ipynb) §6 | test AUC 0.9937 vs logistic 0.9898; better on 4 of 5 splits, largest gap 0.004 | not shown on this easy dataset |
# | 16 | Cross-entropy is usually the best default for classification | [05](05_multiclass_margin.ipynb) §7 | digits test accuracy: cross-entropy 0.959, Crammer–Singer 0.952, Weston–Watkins 0.948 | consistent (differences within a few examples) |

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
