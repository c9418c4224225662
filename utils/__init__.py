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
from utils.validation import set_validate_args, validate_args

__all__ = [
    "contrastive_margin_loss",
    "hinge_loss",
    "logistic_loss",
    "multiclass_hinge_loss",
    "ranking_margin_loss",
    "seed_everything",
    "set_validate_args",
    "squared_hinge_loss",
    "triplet_margin_loss",
    "validate_args",
]
