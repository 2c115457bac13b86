"""The shared catalogue of slips: mistakes that are not specific to one function.

Each slip has one name (the sentence the feedback shows after "This looks like:") defined here
once, and, where it is arithmetic on values, one function that computes what the slip gives.
Every check of 01-03 whose function could make a slip offers it from here (its reference
computes the variant, its judge passes it to ``expect_close`` / ``expect_sequence``), so a
student meets the same words for the same slip in every assignment.
``tests/test_slips.py`` lists which check offers which slip and runs each one through it;
``tests/test_mistake_visibility.py`` proves each offered slip lies outside the check's
tolerance at the check's inputs.

Plain Python floats in double precision (the grader's side): nothing here runs student code.
"""

from __future__ import annotations

import math

# --- optimisers -------------------------------------------------------------------------------

ADAM = "another optimiser: this is what torch.optim.Adam does; use plain torch.optim.SGD"
MOMENTUM = "another optimiser: this is what SGD with momentum=0.9 does; use plain torch.optim.SGD (no momentum)"
# The momentum students copy from tutorials (torch's SGD has no default): the variants use it.
MOMENTUM_BETA = 0.9
# Weight decay: torch's SGD adds weight_decay * parameter to each gradient before the step. The
# variants use 0.01 (AdamW's default, the rate tutorials copy). A rate is visible only where a check
# trains long enough (measured, as a multiple of the check's tolerance): 01's public run of 6 epochs
# at lr 0.01 moved the losses by 0.30 for 0.01, so 01 now trains 10 epochs at lr 0.03, where 0.01
# gives 1.4 (500 epochs at lr 0.004 gave 16, but cost every submission 50-80 ms of grading: issue 21);
# 01's hidden runs see 0.01 in 78-95 % of draws (draw keeps a visible one). 03's public run (lr 0.004,
# 5 epochs of 3 batches) gives 0.41 for 0.01, so 03 does not offer it (its public inputs would have to
# change).
WEIGHT_DECAY_RATE = 0.01
WEIGHT_DECAY = ("weight decay: this is what SGD(..., weight_decay=0.01) does (each gradient gets 0.01 times "
                "its parameter added); use plain torch.optim.SGD, without weight_decay")

# --- dtypes -----------------------------------------------------------------------------------

# Offered where a check reads a tensor's dtype (01's columns): a value computed in float64 instead of
# float32 differs only by rounding, which every tolerance of the course accepts, so no check of a
# number can see it (and none should: float64 is the more precise answer).
FLOAT64 = ("float64 (double) where the course uses float32: torch.tensor of a NumPy array or of "
           "dtype=torch.float64 keeps float64, and nn.Linear's float32 weights refuse it; "
           "give dtype=torch.float32 (or call .float())")

# --- the order of a training step, and what is recorded ----------------------------------------

NO_ZERO_GRAD = "the gradients accumulate: optimizer.zero_grad() is missing"
FROZEN = ("the parameters never change: optimizer.step() is missing, runs before loss.backward(), "
          "or zero_grad() runs between backward() and step()")
LOSS_AFTER_UPDATE = "each loss is recorded after the update instead of before it"

# --- batches ----------------------------------------------------------------------------------

DROP_LAST = ("the last, smaller batch is dropped (DataLoader(..., drop_last=True)): keep every row, "
             "drop_last=False is the default")
LAST_BATCH_ONLY = "each epoch's loss is its last batch's loss only: record the mean of the epoch's batch losses"

# --- reductions of the squared errors ------------------------------------------------------------

SUM = "the sum of squared errors instead of their mean"
HALF = "half the mean squared error (a factor 1/2, as some texts define the loss): use the plain mean"
ABSOLUTE = "the mean absolute error instead of the squared error"
ROOT = "the root mean squared error (an extra square root)"
SQUARE_OF_MEAN = ("the square of the mean error instead of the mean of the squared errors: square each "
                  "difference first, then take the mean")


def reduction_variants(errors) -> dict[str, float]:
    """What each reduction slip gives for the residuals ``errors`` (prediction minus truth)."""
    errors = list(errors)
    n = len(errors)
    squares = math.fsum(e * e for e in errors)
    mse = squares / n
    return {
        SUM: squares,
        HALF: mse / 2,
        ABSOLUTE: math.fsum(abs(e) for e in errors) / n,
        ROOT: math.sqrt(mse),
        SQUARE_OF_MEAN: (math.fsum(errors) / n) ** 2,
    }


# --- shapes -----------------------------------------------------------------------------------

BROADCAST = ("an (N, 1) column minus an (N,) flat tensor broadcasts to an (N, N) table of every pair: "
             "give both the same shape first (.view(-1) or .squeeze(1) on the column)")


def broadcast_mse(y_true, y_pred) -> float:
    """The MSE over all pairs, as ``(N, 1) - (N,)`` silently broadcasts to ``(N, N)``."""
    return math.fsum((t - p) ** 2 for t in y_true for p in y_pred) / (len(y_true) * len(y_pred))


NO_BIAS = "the bias is missing: the prediction is m * x, without + b"

# --- factors of the gradient and the curvature ----------------------------------------------------

MISSING_TWO = "the factor 2 is missing (d/dm of (error)^2 is 2 * error * x)"
MISSING_ONE_OVER_N = "summed instead of averaged over the points (the factor 1/N is missing)"
HESSIAN_WITHOUT_TWO_OVER_N = ("the Hessian without its factor 2/N: the eigenvalues of [[Σx², Σx], [Σx, N]] "
                              "instead of 2/N times them")
