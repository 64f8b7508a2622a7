import pytest
from optim_helpers import scripted_client

from dlpo.optim.optimizer import TextualGradientDescent
from dlpo.optim.schedules import Constant, CosineDecay, Geometric, LinearDecay, LRScheduler, StepDecay
from dlpo.optim.variable import Prompt


def test_linear_is_reference_tlrd():
    assert [LinearDecay(4)(t) for t in range(6)] == [4, 3, 2, 1, 1, 1]
    assert LinearDecay(10, floor=2, rate=3)(5) == 2


def test_step_cosine_geometric_constant():
    assert [StepDecay(8, factor=0.5, every=2)(t) for t in range(7)] == [8, 8, 4, 4, 2, 2, 1]
    c = CosineDecay(9, total=4, floor=1)
    assert c(0) == 9 and c(2) == pytest.approx(5) and c(4) == pytest.approx(1) and c(10) == pytest.approx(1)
    assert [Geometric(64, 2)(k) for k in range(4)] == [64, 32, 16, 8]
    assert Constant(3)(100) == 3


async def test_lr_scheduler_counts_accepted_steps_only():
    client, _ = scripted_client(lambda r: "")
    opt = TextualGradientDescent(Prompt("x"), client, lr=None)
    sched = LRScheduler(opt, LinearDecay(4))
    assert opt.lr == 4
    opt.step_count, opt.accepted_count = 3, 1
    assert sched.step() == 3
    every = LRScheduler(opt, LinearDecay(4), on="every")
    assert every.step() == 1
    state = sched.state_dict()
    opt.lr = 99
    sched.load_state_dict(state)
    assert opt.lr == 3
    with pytest.raises(ValueError):
        LRScheduler(opt, LinearDecay(4), on="sometimes")
