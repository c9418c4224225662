"""The validation switch (issue 16): on by default, off globally or in a block; off means no read-back;
every loss, angular loss and miner traces with torch.compile(fullgraph=True) and agrees with eager."""

import pytest
import torch
import torch.nn.functional as F
from torch.utils._python_dispatch import TorchDispatchMode

import utils
from utils import angular, losses, miners, validation


class CountReadBacks(TorchDispatchMode):
    """Counts ``aten._local_scalar_dense``: what ``.item()``, ``bool(t)`` and ``int(t)`` dispatch to."""

    def __init__(self):
        super().__init__()
        self.count = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        if func is torch.ops.aten._local_scalar_dense.default:
            self.count += 1
        return func(*args, **(kwargs or {}))


def _inputs():
    g = torch.Generator().manual_seed(0)
    n, d, c = 16, 6, 5
    s = torch.randn(n, generator=g, dtype=torch.float64)
    y = torch.randint(0, 2, (n,), generator=g).double() * 2 - 1
    S = torch.randn(n, c, generator=g, dtype=torch.float64)
    t = torch.randint(0, c, (n,), generator=g)
    a, p, ng = torch.randn(3, n, d, generator=g, dtype=torch.float64).unbind(0)
    sim = torch.randint(0, 2, (n,), generator=g).double()
    W = torch.randn(c, d, generator=g, dtype=torch.float64)
    return s, y, S, t, a, p, ng, sim, W


def _losses():
    s, y, S, t, a, p, ng, sim, W = _inputs()
    return {
        "hinge": (losses.hinge_loss, (s, y)),
        "squared_hinge": (losses.squared_hinge_loss, (s, y)),
        "logistic": (losses.logistic_loss, (s, y)),
        "weston_watkins": (losses.multiclass_hinge_loss, (S, t)),
        "crammer_singer": (lambda S, t: losses.multiclass_hinge_loss(S, t, variant="crammer_singer"), (S, t)),
        "ranking": (losses.ranking_margin_loss, (s, s.flip(0))),
        "triplet": (losses.triplet_margin_loss, (a, p, ng)),
        "contrastive": (losses.contrastive_margin_loss, (a, p, sim)),
        "cosface": (angular.cosface_loss, (a, W, t)),
        "arcface": (angular.arcface_loss, (a, W, t)),
    }


LOSSES = sorted(_losses())


def test_on_by_default_and_restored_by_the_context_manager():
    assert validation.validation_enabled()
    with utils.validate_args(False):
        assert not validation.validation_enabled()
        with utils.validate_args(True):
            assert validation.validation_enabled()
        assert not validation.validation_enabled()
    assert validation.validation_enabled()
    with pytest.raises(RuntimeError):
        with utils.validate_args(False):
            raise RuntimeError("boom")
    assert validation.validation_enabled(), "an exception inside the block must not leave validation off"


def test_global_setter_and_bad_values():
    try:
        utils.set_validate_args(False)
        assert not validation.validation_enabled()
    finally:
        utils.set_validate_args(True)
    for bad in (0, 1, "no", None):
        with pytest.raises(TypeError, match="True or False"):
            utils.set_validate_args(bad)
        with pytest.raises(TypeError, match="True or False"):
            utils.validate_args(bad)


def test_off_means_silent_numbers_like_torch():
    s = torch.tensor([2.0, 0.3, -0.5, -2.0])
    y01 = torch.tensor([1.0, 1.0, 0.0, 0.0])  # the classic mistake: {0, 1} labels
    with pytest.raises(ValueError, match="2 \\* targets - 1"):
        utils.hinge_loss(s, y01)
    with utils.validate_args(False):
        got = utils.hinge_loss(s, y01, reduction="none")
    torch.testing.assert_close(got, F.margin_ranking_loss(s, torch.zeros(4), y01, margin=1.0, reduction="none"))
    # off means off (as in torch.distributions): not even shapes are checked, torch's own error is what remains
    with pytest.raises(ValueError, match="same shape"):
        utils.hinge_loss(s, (2 * y01 - 1)[:3])
    with utils.validate_args(False), pytest.raises(RuntimeError, match="size of tensor"):
        utils.hinge_loss(s, y01[:3])


@pytest.mark.parametrize("name", LOSSES)
def test_off_reads_nothing_back(name):
    fn, args = _losses()[name]
    with CountReadBacks() as on:
        fn(*args)
    with utils.validate_args(False), CountReadBacks() as off:
        fn(*args)
    assert off.count == 0, f"{name} read {off.count} value(s) back to Python with validation off"
    if name not in ("ranking", "triplet"):  # these have no value check to switch off
        assert on.count > 0, f"{name}: expected the value checks to read back with validation on"


@pytest.mark.slow
@pytest.mark.parametrize("validate", [False, True], ids=["validation off", "validation on"])
@pytest.mark.parametrize("name", LOSSES)
def test_losses_trace_without_graph_break(name, validate):
    torch._dynamo.reset()
    fn, args = _losses()[name]
    with utils.validate_args(validate):
        compiled = torch.compile(fn, backend="eager", fullgraph=True)  # raises on any graph break
        torch.testing.assert_close(compiled(*args), fn(*args))


@pytest.mark.slow
@pytest.mark.parametrize("strategy", ["batch_hard", "semi_hard", "all", "random"])
def test_miners_trace_without_graph_break(strategy):
    torch._dynamo.reset()
    g = torch.Generator().manual_seed(1)
    emb = torch.randn(24, 5, generator=g)
    labels = torch.arange(6).repeat_interleave(4)
    kwargs = {"margin": 0.5} if strategy == "semi_hard" else {}
    with utils.validate_args(False):
        compiled = torch.compile(lambda e, lab: miners.mine_triplets(e, lab, strategy=strategy, **kwargs),
                                 backend="eager", fullgraph=True)
        a, p, n = compiled(emb, labels)
        if strategy != "random":  # random samples differently when compiled (documented)
            for got, want in zip((a, p, n), miners.mine_triplets(emb, labels, strategy=strategy, **kwargs)):
                assert torch.equal(got, want)
    assert a.numel() > 0
    assert bool((labels[a] == labels[p]).all()) and bool((a != p).all()) and bool((labels[a] != labels[n]).all())


def test_miners_value_checks_follow_the_switch():
    emb = torch.randn(4, 3)
    one_class = torch.zeros(4, dtype=torch.long)
    with pytest.raises(ValueError, match="at least 2 classes"):
        miners.mine_triplets(emb, one_class, strategy="batch_hard")
    with utils.validate_args(False):
        a, _, _ = miners.mine_triplets(emb, one_class, strategy="batch_hard")
    assert a.shape == (4,)  # silently meaningless, as documented: no negative exists
