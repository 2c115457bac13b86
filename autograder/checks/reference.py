"""Reference arithmetic every assignment shares; each folder's reference.py holds its own.

Plain Python floats in double precision: the grader computes every expected value here,
in its own process, without importing torch (start-up cost) and without ever showing
this code to the sandbox or to students. Inputs that the student receives as float32
tensors are first rounded with :func:`f32`, so both sides start from the same numbers.
"""

from __future__ import annotations

import math
import random
import struct


def f32(x: float) -> float:
    """``x`` rounded to the nearest float32, as ``torch.tensor(x)`` would store it."""
    return struct.unpack("f", struct.pack("f", x))[0]


def f32s(values) -> list[float]:
    return [f32(v) for v in values]


def mean(values) -> float:
    values = list(values)
    return math.fsum(values) / len(values)


def predict(x: float, m: float, b: float) -> float:
    return m * x + b


def mse(y_true, y_pred) -> float:
    return mean((t - p) ** 2 for t, p in zip(y_true, y_pred))


class Adam:
    """``torch.optim.Adam``'s update with its defaults (betas 0.9, 0.999; eps 1e-8)."""

    def __init__(self):
        self.t = 0
        self.m = [0.0, 0.0]
        self.v = [0.0, 0.0]

    def step(self, *grads_and_lr):
        *grads, lr = grads_and_lr
        self.t += 1
        steps = []
        for i, g in enumerate(grads):
            self.m[i] = 0.9 * self.m[i] + 0.1 * g
            self.v[i] = 0.999 * self.v[i] + 0.001 * g * g
            m_hat = self.m[i] / (1 - 0.9 ** self.t)
            v_hat = self.v[i] / (1 - 0.999 ** self.t)
            steps.append(lr * m_hat / (math.sqrt(v_hat) + 1e-8))
        return steps


def mt19937(seed: int) -> random.Random:
    """Python's Mersenne Twister in the state ``torch.Generator().manual_seed(seed)`` starts from.

    Both are the reference MT19937; torch seeds it with ``init_genrand`` on the seed's low 32
    bits, which Python's ``random.seed`` does not do, so the state is set directly. Then
    ``getrandbits(32)`` is exactly torch's ``generator->random()``.
    """
    state = [seed & 0xFFFFFFFF]
    for i in range(1, 624):
        state.append((1812433253 * (state[-1] ^ (state[-1] >> 30)) + i) & 0xFFFFFFFF)
    generator = random.Random()
    generator.setstate((3, (*state, 624), None))
    return generator


def randperm(generator: random.Random, n: int) -> list[int]:
    """``torch.randperm(n, generator=g)`` on the CPU for small n: a Fisher-Yates shuffle from the front."""
    order = list(range(n))
    for i in range(n - 1):
        j = i + generator.getrandbits(32) % (n - i)
        order[i], order[j] = order[j], order[i]
    return order
