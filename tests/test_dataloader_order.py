"""The grader's reproduction of a shuffled DataLoader is torch's own order, and the generator argument works.

03-making-training-converge checks ``train_minibatch`` against a reference computed in the
grader's process, without torch: it reproduces the rows of every batch of every epoch of
``DataLoader(TensorDataset(x, y), batch_size, shuffle=True, generator=g)`` from g's seed
(``reference.shuffled_batches``). That reproduction rests on torch internals (MT19937 seeding,
randperm, the draws a DataLoader iterator makes per epoch); this test compares it with torch
for many sizes, batch sizes, seeds and epochs, so a torch upgrade that changes them fails here
instead of failing every student.
"""

from __future__ import annotations

import pytest

from autograder.checks import ASSIGNMENTS
from autograder.selfcheck.protocol import decode_arg, encode, generator

ASSIGNMENT = "03-making-training-converge"
pytestmark = pytest.mark.skipif(ASSIGNMENT not in ASSIGNMENTS, reason=f"{ASSIGNMENT} is not in this kit")

SEEDS = [0, 1, 7, 20260, 2**31 - 1, 2**32 + 5, 2**63 + 11]


def torch_batches(n: int, batch_size: int, epochs: int, seed: int) -> list[list[list[int]]]:
    import torch
    from torch.utils.data import DataLoader, TensorDataset

    rows = torch.arange(n)
    loader = DataLoader(TensorDataset(rows), batch_size=batch_size, shuffle=True,
                        generator=torch.Generator().manual_seed(seed))
    return [[batch.tolist() for (batch,) in loader] for _ in range(epochs)]


@pytest.mark.parametrize("seed", SEEDS)
def test_reference_reproduces_the_dataloader_order(seed):
    ref = ASSIGNMENTS[ASSIGNMENT].reference_module()
    for n in (1, 2, 5, 8, 11, 12):
        for batch_size in (1, 2, 3, 8, 20):
            assert ref.shuffled_batches(n, batch_size, 4, seed) == torch_batches(n, batch_size, 4, seed), \
                (n, batch_size, seed)


def test_a_loader_rebuilt_every_epoch_sees_the_same_order():
    """Students build the DataLoader once or once per epoch: the generator's draws are the same."""
    import torch
    from torch.utils.data import DataLoader, TensorDataset

    ref = ASSIGNMENTS[ASSIGNMENT].reference_module()
    g = torch.Generator().manual_seed(99)
    rebuilt = [[b.tolist() for (b,) in DataLoader(TensorDataset(torch.arange(10)), batch_size=3, shuffle=True,
                                                  generator=g)] for _ in range(3)]
    assert rebuilt == ref.shuffled_batches(10, 3, 3, 99)


def test_the_generator_argument_is_a_seeded_torch_generator():
    import torch

    made = decode_arg(generator(12345))
    assert isinstance(made, torch.Generator) and made.initial_seed() == 12345
    same = torch.Generator().manual_seed(12345)
    assert torch.equal(torch.randperm(9, generator=made), torch.randperm(9, generator=same))
    # Encoded back (as an argument after the call), it carries no memory address: two replies are equal.
    assert encode(made) == encode(decode_arg(generator(12345))) == {"t": "object", "type": "Generator",
                                                                     "repr": "(a torch.Generator)"}


@pytest.mark.parametrize("seed", [-1, 2**64, 1.5, "7", True, None])
def test_a_generator_seed_out_of_range_is_refused(seed):
    with pytest.raises(ValueError, match="seed"):
        generator(seed)
    with pytest.raises(ValueError, match="seed"):
        decode_arg({"t": "generator", "seed": seed})
