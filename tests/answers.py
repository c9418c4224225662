"""Hand-written student answers, wrong and right, with the verdict each must get (issue 13).

Each :class:`Answer` is what a student could type into an exercise notebook: one or more code cells, in
notebook order (a helper may sit in its own cell before the function), run after the notebook's setup
cell (:data:`SETUP`). ``verdict`` is the status the student's check must give (``utils.checks.evaluate``):

* ``"pass"``      — a correct answer written differently from the solution (loops where no time budget
  applies, float32, relu instead of clamp, the chapter's own listing, helpers in other cells...);
* ``"fail"``      — a wrong answer; ``hint`` is a piece of text the diagnosis must contain;
* ``"forbidden"`` — a shortcut through a callable the exercise forbids; ``hint`` names the call.

The grading side (tests/test_grade.py) writes the same cells into a submitted notebook and expects the
same verdict from the grader; :func:`function_of` turns an answer into the student's function in-process.
"""

from __future__ import annotations

from dataclasses import dataclass

SETUP = """import math
import torch
import torch.nn as nn
import torch.nn.functional as F
import utils
"""


@dataclass(frozen=True)
class Answer:
    exercise: str            # the registered exercise name (``exercise:<name>`` tag)
    label: str               # a short id, unique per exercise
    cells: tuple[str, ...]   # the student's code cells, in notebook order; the last defines the function
    verdict: str             # "pass" | "fail" | "forbidden"
    hint: str = ""           # text the check's message must contain (for "fail" and "forbidden")

    @property
    def id(self) -> str:
        return f"{self.exercise}-{self.label}"


def function_of(answer: Answer, function: str):
    """Run :data:`SETUP` and the answer's cells in one namespace; return the function named ``function``."""
    namespace: dict = {"__name__": f"answer_{answer.label}"}
    exec(compile(SETUP, "setup", "exec"), namespace)
    for i, cell in enumerate(answer.cells):
        exec(compile(cell, f"{answer.id}:cell{i}", "exec"), namespace)
    return namespace[function]


def _a(exercise, label, verdict, *cells, hint=""):
    return Answer(exercise, label, tuple(cells), verdict, hint)


WRONG = [
    # --- inputs are read, never written (item 2)
    _a("hinge_loss", "mul_ into targets", "fail", """
def hinge_loss(scores, targets, margin=1.0):
    ys = targets.mul_(scores)
    return torch.clamp(margin - ys, min=0).mean()
""", hint="input `targets`"),
    _a("multiclass_hinge_vectorised", "writes into scores", "fail", """
def multiclass_hinge_vectorised(scores, targets, margin=1.0):
    rows = torch.arange(len(targets))
    correct = scores[rows, targets].clone()
    scores[rows, targets] = correct - margin
    return torch.clamp(scores - correct[:, None] + margin, min=0).sum(dim=1)
""", hint="input `scores`"),
    _a("semi_hard_mask", "sorts d_an in place", "fail", """
def semi_hard_mask(d_ap, d_an, margin):
    d_an.clamp_(min=0)
    return (d_ap < d_an) & (d_an < d_ap + margin)
""", hint="input `d_an`"),
    _a("verification_accuracy", "thresholds in place", "fail", """
def verification_accuracy(distances, same, threshold):
    declared = distances.sub_(threshold) < 0
    return (declared == same).double().mean().item()
""", hint="input `distances`"),
    # --- shortcuts (item 3)
    _a("hinge_loss", "utils.hinge_loss", "forbidden", """
def hinge_loss(scores, targets, margin=1.0):
    return utils.hinge_loss(scores, targets, margin=margin)
""", hint="utils.hinge_loss"),
    _a("hinge_loss", "imported alias of utils.hinge_loss", "forbidden", """
from utils import hinge_loss as library_hinge
""", """
def hinge_loss(scores, targets, margin=1.0):
    return library_hinge(scores, targets, margin=margin)
""", hint="utils.hinge_loss"),
    _a("ranking_loss", "F.margin_ranking_loss", "forbidden", """
def ranking_loss(pos_scores, neg_scores, margin=1.0):
    return F.margin_ranking_loss(pos_scores, neg_scores, torch.ones_like(pos_scores), margin=margin)
""", hint="margin_ranking_loss"),
    _a("multiclass_hinge_loss", "utils.multiclass_hinge_loss", "forbidden", """
def multiclass_hinge_loss(scores, targets, margin=1.0):
    return utils.multiclass_hinge_loss(scores, targets, margin=margin)
""", hint="utils.multiclass_hinge_loss"),
    _a("multiclass_hinge_loss", "C times F.multi_margin_loss", "forbidden", """
def multiclass_hinge_loss(scores, targets, margin=1.0):
    return scores.shape[1] * F.multi_margin_loss(scores, targets, margin=margin)
""", hint="multi_margin_loss"),
    _a("multiclass_hinge_vectorised", "nn.MultiMarginLoss module", "forbidden", """
def multiclass_hinge_vectorised(scores, targets, margin=1.0):
    return scores.shape[1] * nn.MultiMarginLoss(margin=margin, reduction="none")(scores, targets)
""", hint="multi_margin_loss"),
    _a("hinge_gradient", "autograd.grad", "forbidden", """
def hinge_gradient(scores, targets, margin=1.0):
    s = scores.detach().requires_grad_(True)
    loss = torch.clamp(margin - targets * s, min=0).mean()
    return torch.autograd.grad(loss, s)[0]
""", hint="torch.autograd.grad"),
    _a("squared_hinge_gradient", "backward", "forbidden", """
def squared_hinge_gradient(scores, targets, margin=1.0):
    s = scores.detach().clone().requires_grad_(True)
    (torch.clamp(margin - targets * s, min=0) ** 2).mean().backward()
    return s.grad
""", hint="backward"),
    _a("triplet_loss", "F.triplet_margin_loss", "forbidden", """
def triplet_loss(anchor, positive, negative, margin=1.0):
    return F.triplet_margin_loss(anchor, positive, negative, margin=margin)
""", hint="triplet_margin_loss"),
    _a("batch_hard_triplets", "utils.miners", "forbidden", """
def batch_hard_triplets(embeddings, labels):
    from utils import miners
    return miners.mine_triplets(embeddings, labels, strategy="batch_hard")
""", hint="utils.miners"),
    # --- types as the statement says (item 4)
    _a("margin_report", "0-dim tensors instead of ints", "fail", """
def margin_report(scores, targets, margin=1.0):
    ys = targets * scores
    return {"misclassified": (ys < 0).sum(), "inside_margin": ((ys >= 0) & (ys < margin)).sum(),
            "with_margin": (ys >= margin).sum()}
""", hint="Python int"),
    _a("verification_accuracy", "0-dim tensor instead of a float", "fail", """
def verification_accuracy(distances, same, threshold):
    return ((distances < threshold) == same).double().mean()
""", hint="Python float"),
    _a("semi_hard_mask", "float 0/1 mask", "fail", """
def semi_hard_mask(d_ap, d_an, margin):
    return ((d_ap < d_an) & (d_an < d_ap + margin)).float()
""", hint="bool"),
    _a("semi_hard_mask", "product of relus", "fail", """
def semi_hard_mask(d_ap, d_an, margin):
    return torch.relu(d_an - d_ap) * torch.relu(d_ap + margin - d_an)
""", hint="bool"),
    _a("batch_hard_triplets", "float index tensors", "fail", """
def batch_hard_triplets(embeddings, labels):
    d = torch.cdist(embeddings, embeddings)
    same = labels[:, None] == labels[None, :]
    pos = same & ~torch.eye(len(labels), dtype=torch.bool)
    keep = pos.any(1) & (~same).any(1)
    p = torch.where(pos, d, -torch.inf).argmax(1)
    n = torch.where(~same, d, torch.inf).argmin(1)
    a = torch.arange(len(labels))
    return a[keep].float(), p[keep].float(), n[keep].float()
""", hint="integer"),
    # --- boundaries the statement fixes (item 5)
    _a("batch_hard_triplets", "anchor in its own positive mask", "fail", """
def batch_hard_triplets(embeddings, labels):
    d = torch.cdist(embeddings, embeddings)
    same = labels[:, None] == labels[None, :]
    keep = (same.sum(1) > 1) & (~same).any(1)
    p = torch.where(same, d, -torch.inf).argmax(1)
    n = torch.where(~same, d, torch.inf).argmin(1)
    a = torch.arange(len(labels))
    return a[keep], p[keep], n[keep]
""", hint="own positive"),
    _a("hinge_gradient", "strict inequality at the kink", "fail", """
def hinge_gradient(scores, targets, margin=1.0):
    return torch.where(targets * scores < margin, -targets, torch.zeros_like(targets)) / scores.numel()
""", hint="kink"),
    _a("arcface_logits", "strict < at theta + m = pi", "fail", """
def arcface_logits(cosines, targets, margin=0.5, scale=64.0):
    onehot = F.one_hot(targets, cosines.shape[1]).bool()
    theta = torch.acos(cosines.clamp(-1 + 1e-6, 1 - 1e-6))
    shifted = torch.where(theta + margin < math.pi, torch.cos(theta + margin), cosines - margin * math.sin(margin))
    return scale * torch.where(onehot, shifted, cosines)
""", hint="π"),
    _a("hinge_from_01_labels", "2*labels-1 wraps on uint8", "fail", """
def hinge_from_01_labels(scores, labels01):
    y = 2 * labels01 - 1
    return torch.clamp(1.0 - y * scores, min=0.0).mean()
""", hint="uint8"),
    _a("crammer_singer_loss", "0-mask instead of -inf", "fail", """
def crammer_singer_loss(scores, targets, margin=1.0):
    is_target = F.one_hot(targets, scores.shape[1]).bool()
    correct = scores.gather(1, targets[:, None]).squeeze(1)
    best_wrong = scores.masked_fill(is_target, 0.0).amax(dim=1)
    return torch.clamp(margin - correct + best_wrong, min=0).mean()
""", hint="not -inf"),
    _a("expected_calibration_error", "bins start at 1/C", "fail", """
def expected_calibration_error(probs, targets, n_bins=10):
    confidence, predicted = probs.max(dim=1)
    correct = (predicted == targets).double()
    low = 1.0 / probs.shape[1]
    index = ((confidence - low) / (1 - low) * n_bins).ceil().long().clamp(1, n_bins) - 1
    total = 0.0
    for b in range(n_bins):
        inside = index == b
        if inside.any():
            total += inside.sum() / len(probs) * (correct[inside].mean() - confidence[inside].mean()).abs()
    return float(total)
"""),
    # --- classic mistakes, at the check
    _a("hinge_loss", "sum instead of mean", "fail", """
def hinge_loss(scores, targets, margin=1.0):
    return torch.clamp(margin - targets * scores, min=0).sum()
""", hint="sum instead of mean"),
    _a("hinge_loss", "margin ignored", "fail", """
def hinge_loss(scores, targets, margin=1.0):
    return torch.relu(1 - targets * scores).mean()
""", hint="margin ignored"),
    _a("multiclass_hinge_loss", "correct class counted", "fail", """
def multiclass_hinge_loss(scores, targets, margin=1.0):
    correct = scores[torch.arange(len(targets)), targets][:, None]
    return torch.clamp(scores - correct + margin, min=0).sum(1).mean()
""", hint="correct class counted"),
    _a("ranking_loss", "sign flipped", "fail", """
def ranking_loss(pos_scores, neg_scores, margin=1.0):
    return torch.clamp(margin + pos_scores - neg_scores, min=0).mean()
"""),
    _a("triplet_loss", "squared distances", "fail", """
def triplet_loss(anchor, positive, negative, margin=1.0):
    d_ap = ((anchor - positive) ** 2).sum(1)
    d_an = ((anchor - negative) ** 2).sum(1)
    return torch.clamp(d_ap - d_an + margin, min=0).mean()
"""),
    _a("contrastive_loss", "roles of similar swapped", "fail", """
def contrastive_loss(z1, z2, similar, margin=1.0):
    d = (z1 - z2).norm(dim=1)
    return ((1 - similar) * d ** 2 + similar * torch.clamp(margin - d, min=0) ** 2).mean()
"""),
    _a("cosface_logits", "margin on every class", "fail", """
def cosface_logits(cosines, targets, margin=0.35, scale=64.0):
    return scale * (cosines - margin)
""", hint="every class"),
    _a("violation_fraction", "count instead of fraction", "fail", """
def violation_fraction(scores, targets, margin=1.0):
    return float((targets * scores < margin).sum())
""", hint="count instead of fraction"),
    _a("recall_at_1", "query counted as its own neighbour", "fail", """
def recall_at_1(embeddings, labels):
    nearest = torch.cdist(embeddings, embeddings).argmin(dim=1)
    return (labels[nearest] == labels).double().mean().item()
"""),
    _a("choose_margin", "best on test, not validation", "fail", """
def choose_margin(results):
    return float(max(results, key=lambda run: run["test"])["margin"])
"""),
]

RIGHT = [
    _a("hinge_loss", "relu instead of clamp", "pass", """
def hinge_loss(scores, targets, margin=1.0):
    return torch.relu(margin - targets * scores).mean()
"""),
    _a("hinge_loss", "float32 arithmetic", "pass", """
def hinge_loss(scores, targets, margin=1.0):
    s, y = scores.float(), targets.float()
    return torch.clamp(margin - y * s, min=0).mean()
"""),
    _a("hinge_loss", "a Python loop (no time budget here)", "pass", """
def hinge_loss(scores, targets, margin=1.0):
    terms = [torch.clamp(margin - y * s, min=0) for s, y in zip(scores, targets)]
    return torch.stack(terms).mean()
"""),
    _a("hinge_gradient", "helper in another cell", "pass", """
def active(scores, targets, margin):
    return targets * scores <= margin
""", """
def hinge_gradient(scores, targets, margin=1.0):
    return -targets * active(scores, targets, margin) / len(scores)
"""),
    _a("multiclass_hinge_loss", "the chapter's listing", "pass", """
def multiclass_hinge_loss(scores, targets, margin=1.0):
    batch_size = scores.shape[0]
    correct_scores = scores[torch.arange(batch_size), targets].unsqueeze(1)
    margins = scores - correct_scores + margin
    margins[torch.arange(batch_size), targets] = 0.0
    return torch.clamp(margins, min=0.0).sum(dim=1).mean()
"""),
    _a("multiclass_hinge_vectorised", "subtract the margin of the j = c term", "pass", """
def multiclass_hinge_vectorised(scores, targets, margin=1.0):
    correct = scores.gather(1, targets[:, None])
    return torch.clamp(scores - correct + margin, min=0).sum(1) - margin
"""),
    _a("batch_hard_triplets", "pairwise() helper in another cell", "pass", """
def pairwise(x):
    return ((x[:, None, :] - x[None, :, :]) ** 2).sum(-1).sqrt()
""", """
def batch_hard_triplets(embeddings, labels):
    d = pairwise(embeddings)
    same = labels[:, None] == labels[None, :]
    pos = same & ~torch.eye(len(labels), dtype=torch.bool)
    keep = pos.any(1) & (~same).any(1)
    p = torch.where(pos, d, -torch.inf).argmax(1)
    n = torch.where(~same, d, torch.inf).argmin(1)
    a = torch.arange(len(labels))
    return a[keep], p[keep], n[keep]
"""),
    _a("semi_hard_mask", "logical_and", "pass", """
def semi_hard_mask(d_ap, d_an, margin):
    return torch.logical_and(d_an > d_ap, d_an < d_ap + margin)
"""),
    _a("cosface_logits", "float32 one-hot", "pass", """
def cosface_logits(cosines, targets, margin=0.35, scale=64.0):
    onehot = F.one_hot(targets, cosines.shape[1]).float()
    return scale * (cosines - margin * onehot)
"""),
    # float32 logits scaled by 64 (issue 13); at θ + m = π the float32 computation takes the same branch
    # under ATEN_CPU_CAPABILITY=default and avx2 (checked; no AVX512 machine was available)
    _a("arcface_logits", "float32 arithmetic", "pass", """
def arcface_logits(cosines, targets, margin=0.5, scale=64.0):
    c = cosines.float()
    onehot = F.one_hot(targets, c.shape[1]).bool()
    theta = torch.acos(c.clamp(-1 + 1e-6, 1 - 1e-6))
    shifted = torch.where(theta + margin <= math.pi, torch.cos(theta + margin), c - margin * math.sin(margin))
    return scale * torch.where(onehot, shifted, c)
"""),
    _a("arcface_logits", "cos(θ + m) expanded, θ <= π - m", "pass", """
def arcface_logits(cosines, targets, margin=0.5, scale=64.0):
    rows = torch.arange(len(targets))
    c = cosines[rows, targets]
    theta = torch.acos(c.clamp(-1 + 1e-6, 1 - 1e-6))
    sin_theta = torch.sin(theta)
    target = torch.where(theta <= math.pi - margin, torch.cos(theta) * math.cos(margin) - sin_theta * math.sin(margin),
                         c - margin * math.sin(margin))
    out = cosines * (1 - F.one_hot(targets, cosines.shape[1])) + F.one_hot(targets, cosines.shape[1]) * target[:, None]
    return scale * out
"""),
    _a("verification_accuracy", "float() of a mean", "pass", """
def verification_accuracy(distances, same, threshold):
    return float(((distances < threshold) == same).sum()) / len(distances)
"""),
    _a("expected_calibration_error", "a loop over the bins", "pass", """
def expected_calibration_error(probs, targets, n_bins=10):
    confidence, predicted = probs.max(dim=1)
    correct = (predicted == targets).double()
    index = (confidence * n_bins).ceil().long().clamp(1, n_bins) - 1
    total = 0.0
    for b in range(n_bins):
        inside = index == b
        if inside.any():
            total += float(inside.sum()) / len(probs) * abs(float(correct[inside].mean() - confidence[inside].mean()))
    return total
"""),
    _a("ranking_loss", "relu of the gap", "pass", """
def ranking_loss(pos_scores, neg_scores, margin=1.0):
    gap = pos_scores - neg_scores
    return F.relu(margin - gap).mean()
"""),
]

ANSWERS = WRONG + RIGHT
