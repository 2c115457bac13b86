"""Reference arithmetic every assignment shares; each folder's reference.py holds its own.

Plain Python floats in double precision: the grader computes every expected value here,
in its own process, without importing torch (start-up cost) and without ever showing
this code to the sandbox or to students. Inputs that the student receives as float32
tensors are first rounded with :func:`f32`, so both sides start from the same numbers.
"""

from __future__ import annotations

import math
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
