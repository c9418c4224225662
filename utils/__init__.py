"""Library of the "Margin-Based Losses" companion: ``import utils`` stays fast (torch only)."""

from utils.losses import (
    contrastive_margin_loss,
    hinge_loss,
    logistic_loss,
    multiclass_hinge_loss,
    ranking_margin_loss,
    squared_hinge_loss,
    triplet_margin_loss,
)
from utils.reproducibility import seed_everything

__all__ = [
    "contrastive_margin_loss",
    "hinge_loss",
    "logistic_loss",
    "multiclass_hinge_loss",
    "ranking_margin_loss",
    "seed_everything",
    "squared_hinge_loss",
    "triplet_margin_loss",
]
