"""03's lessons (issue 24, item 3): every number its new cells print, and every number in its written
questions' model answers and rubrics, computed a second, independent way.

The notebook computes with torch (``eigvalsh``, autograd, a float32 ``nn.Linear`` trained through the
reference ``train_minibatch`` and a shuffled ``DataLoader``); this file recomputes in plain Python floats:
the Hessian's eigenvalues in closed form, and mini-batch SGD written out by hand over the rows in the
order the ``DataLoader`` hands them out (``reference.shuffled_batches``, itself compared with torch's
``DataLoader`` in ``tests/test_dataloader_order.py``). Then the model answers may quote only numbers the
notebook printed, and the notebook's text keeps each written question's answer after the point where
the student has answered it.
"""

from __future__ import annotations

import math
import re

import nbformat
import pytest

from autograder.checks import ASSIGNMENTS, KIT_ROOT
from autograder.notebook.execute import execute_notebook
from autograder.notebook.fill import written_guides

pytestmark = pytest.mark.slow

ASSIGNMENT = ASSIGNMENTS["03-making-training-converge"]
HOURS = [10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 70.0, 80.0]
SCORES = [480.0, 520.0, 710.0, 680.0, 830.0, 890.0, 920.0, 980.0]
STOP = "once you have answered the question above"
NUMBER = re.compile(r"\d+(?:\.\d+)?(?:e[+-]\d+)?")
# Numbers a model answer or rubric may use without the notebook printing them: the 2 of the
# Hessian's 2/N and of 2I, the 1 and 0 of "condition number 1" and "sum is 0", 60 minutes an hour,
# section 4.
STRUCTURAL = {"0", "1", "2", "4", "60"}


def _text(cell) -> str:
    return "".join(o.get("text", "") + o.get("data", {}).get("text/plain", "") for o in cell.get("outputs", []))


@pytest.fixture(scope="module")
def printed() -> dict[str, str]:
    """The solution notebook, executed: each cell's printed text by grade id."""
    notebook, _ = execute_notebook(ASSIGNMENT.solution, KIT_ROOT / "assignments" / ASSIGNMENT.id / "selfcheck")
    return {cell.metadata["nbgrader"]["grade_id"]: _text(cell) for cell in notebook.cells
            if "nbgrader" in cell.metadata}


@pytest.fixture(scope="module")
def cells():
    return nbformat.read(ASSIGNMENT.solution, as_version=4).cells


# --- the Hessian in closed form -----------------------------------------------------------

def _mean(values) -> float:
    return math.fsum(values) / len(values)


def _hessian(xs) -> tuple[float, float, float]:
    """(a, b, d) of the MSE's Hessian [[a, b], [b, d]] = 2/N [[Σx², Σx], [Σx, N]]."""
    return 2 * _mean([x * x for x in xs]), 2 * _mean(xs), 2.0


def _eigenvalues(xs) -> tuple[float, float]:
    """(smallest, largest): the roots of λ² - (a + d) λ + (ad - b²), the small one from the product
    (no cancellation)."""
    a, b, d = _hessian(xs)
    largest = (a + d) / 2 + math.hypot((a - d) / 2, b)
    return (a * d - b * b) / largest, largest


def _population_std(xs) -> float:
    mean = _mean(xs)
    return math.sqrt(_mean([(x - mean) ** 2 for x in xs]))


def _cases() -> dict[str, list[float]]:
    mean, std = _mean(HOURS), _population_std(HOURS)
    minutes = [60 * x for x in HOURS]
    m_mean, m_std = _mean(minutes), _population_std(minutes)
    return {"raw hours": HOURS, "centred only, x - mean": [x - mean for x in HOURS],
            "scaled only, x / std": [x / std for x in HOURS], "standardised": [(x - mean) / std for x in HOURS],
            "minutes, 60 x": minutes, "standardised minutes": [(x - m_mean) / m_std for x in minutes]}


def _entry(value: float, largest: float) -> str:
    return f"{value:.4g}" if abs(value) > 1e-12 * largest else "0"


def _expected_hessian_lines() -> dict[str, str]:
    lines = {}
    for name, xs in _cases().items():
        a, b, d = _hessian(xs)
        low, high = _eigenvalues(xs)
        h = [_entry(v, high) for v in (a, b, b, d)]
        lines[name] = (f"{name:>22}: H = [[{h[0]}, {h[1]}], [{h[2]}, {h[3]}]], eigenvalues {low:.4g} and "
                       f"{high:.4g}, condition number {high / low:.4g}, largest stable rate {2 / high:.3g}")
    return lines


def _rate_ratio() -> float:
    cases = _cases()
    return _eigenvalues(cases["minutes, 60 x"])[1] / _eigenvalues(cases["raw hours"])[1]


def test_centring_scaling_and_units_print_the_closed_form_numbers(printed):
    text = printed["story_centre_scale_units"]
    for name, line in _expected_hessian_lines().items():
        assert line in text.splitlines(), f"{name}: expected\n{line}\nin\n{text}"
    assert f"in minutes the largest stable rate is {_rate_ratio():.0f} times smaller than in hours" in text


def _numbers(text: str) -> set[str]:
    return set(NUMBER.findall(text))


def test_the_centring_question_quotes_only_computed_numbers():
    """Every number of the model answer and rubric of written_stable_rate is one of the closed form's,
    formatted as the notebook prints it, and the key ones are there."""
    model, rubric = written_guides(ASSIGNMENT)["written_stable_rate"]
    cases = _cases()
    std = _population_std(HOURS)
    centred_rate = 2 / _eigenvalues(cases["centred only, x - mean"])[1]
    computed = {}
    for name, xs in cases.items():
        low, high = _eigenvalues(xs)
        a, b, _ = _hessian(xs)
        computed[name] = {"a": f"{a:.4g}", "b": f"{b:.4g}", "low": f"{low:.4g}", "high": f"{high:.4g}",
                          "condition": f"{high / low:.4g}", "rate": f"{2 / high:.3g}"}
    needed = {
        computed["centred only, x - mean"]["a"],  # 2 s² = 1050
        computed["centred only, x - mean"]["condition"], computed["centred only, x - mean"]["rate"],
        computed["raw hours"]["rate"], computed["raw hours"]["condition"],
        f"{1 - float(f'{centred_rate:.3g}') * 2:.4f}",  # the intercept's factor per step at that rate
        computed["scaled only, x / std"]["a"], computed["scaled only, x / std"]["b"],
        computed["scaled only, x / std"]["low"], computed["scaled only, x / std"]["high"],
        computed["scaled only, x / std"]["condition"], computed["scaled only, x / std"]["rate"],
        computed["minutes, 60 x"]["rate"], computed["minutes, 60 x"]["condition"], f"{_rate_ratio():.0f}", "3600",
    }
    assert computed["standardised"]["condition"] == "1" and computed["standardised minutes"]["rate"] == "1"
    # In words in the model answer: centring alone allows "about five times" the raw rate, and the
    # intercept's direction then needs "hundreds of steps" (to shrink tenfold at that rate).
    raw_rate = 2 / _eigenvalues(cases["raw hours"])[1]
    words = " ".join(model.split())
    assert f"about five times the raw hours' {raw_rate:.3g}" in words and "hundreds of steps" in words
    assert round(centred_rate / raw_rate) == 5
    assert 100 <= math.log(0.1) / math.log(1 - centred_rate * 2) < 1000
    assert f"{2 * std ** 2:.4g}" == computed["centred only, x - mean"]["a"]  # the 2s² of the model answer
    assert needed <= _numbers(model), needed - _numbers(model)
    for text in (model, rubric):
        assert _numbers(text) <= needed | STRUCTURAL, _numbers(text) - needed - STRUCTURAL


# --- mini-batch SGD written out -------------------------------------------------------------

LR, EPOCHS, LAST, T, SEEDS = 0.1, 100, 50, 10, (1, 2, 3)
# The notebook trains a float32 nn.Linear; this recomputation runs in float64 on the same float32
# inputs and start. SGD at these rates contracts towards the least-squares point, so the two
# trajectories stay within a few float32 roundings of each other (measured with torch 2.13 against
# a float32 DataLoader loop: under 5e-5 in the excess MSE, 2e-6 in the slope and 1e-4 in the
# intercept), and the notebook prints 4 decimals (5e-5 more): the tolerances below are several
# times that, and far below any difference a wrong schedule, batch size or average makes (the
# floors differ by factors of ten; one epoch fewer in the average moves the first by 0.18).
FLOOR_ABS, FLOOR_REL = 5e-4, 1e-3
SLOPE_ABS, INTERCEPT_ABS = 2e-4, 2e-3


def _f32s(values) -> list[float]:
    """Each value rounded to float32, as torch.tensor(..., dtype=torch.float32) stores it."""
    import struct

    return [struct.unpack("f", struct.pack("f", v))[0] for v in values]


def _start() -> tuple[float, float]:
    """The weight and bias nn.Linear(1, 1) starts from after torch.manual_seed(0), as in the notebook."""
    import torch

    torch.manual_seed(0)
    model = torch.nn.Linear(1, 1)
    return model.weight.item(), model.bias.item()


def _sgd(zs, ys, batch_size: int, seed: int, rate) -> list[tuple[float, float]]:
    """(w, c) after each epoch of SGD on the MSE of w z + c: one step per batch, at rate(epoch)."""
    batches = ASSIGNMENT.reference_module().shuffled_batches(len(zs), batch_size, EPOCHS, seed)
    w, c = _start()
    after = []
    for epoch, rows_of_epoch in enumerate(batches):
        for rows in rows_of_epoch:
            residuals = [w * zs[i] + c - ys[i] for i in rows]
            grad_w = 2 * math.fsum(r * zs[i] for r, i in zip(residuals, rows)) / len(rows)
            grad_c = 2 * math.fsum(residuals) / len(rows)
            w, c = w - rate(epoch) * grad_w, c - rate(epoch) * grad_c
        after.append((w, c))
    return after


def _least_squares(zs, ys) -> tuple[float, float]:
    z_bar, y_bar = _mean(zs), _mean(ys)
    w = math.fsum((z - z_bar) * (y - y_bar) for z, y in zip(zs, ys)) / math.fsum((z - z_bar) ** 2 for z in zs)
    return w, y_bar - w * z_bar


def _mse(w, c, zs, ys) -> float:
    return _mean([(w * z + c - y) ** 2 for z, y in zip(zs, ys)])


CONSTANT, DECAYING = "batches of 2, lr 0.1", "batches of 2, lr 0.1 / (1 + epoch / 10)"
SETTINGS = {  # name as printed -> (batch size, rate of epoch e)
    "batches of 2, lr 0.1": (2, lambda e: LR),
    "batches of 2, lr 0.05": (2, lambda e: LR / 2),
    "batches of 4, lr 0.1": (4, lambda e: LR),
    "full batch (8), lr 0.1": (8, lambda e: LR),
    "batches of 2, lr 0.1 / (1 + epoch / 10)": (2, lambda e: LR / (1 + e / T)),
}


@pytest.fixture(scope="module")
def noise_floor():
    """Seed 1's floor of each setting; the final lines in hours of three seeds at the constant and the
    decaying rate; the least-squares line: recomputed."""
    mean, std = _mean(HOURS), _population_std(HOURS)
    zs = _f32s((x - mean) / std for x in HOURS)  # the notebook's z is float32
    w_ls, c_ls = _least_squares(zs, SCORES)
    floors = {}
    for name, (batch_size, rate) in SETTINGS.items():
        run = _sgd(zs, SCORES, batch_size, SEEDS[0], rate)
        floors[name] = _mean([_mse(w, c, zs, SCORES) - _mse(w_ls, c_ls, zs, SCORES) for w, c in run[-LAST:]])
    lines = {}
    for name in (CONSTANT, DECAYING):
        finals = [_sgd(zs, SCORES, 2, seed, SETTINGS[name][1])[-1] for seed in SEEDS]
        lines[name] = [(w / std, c - w * mean / std) for w, c in finals]
    return floors, lines, (w_ls / std, c_ls - w_ls * mean / std)


def _steps() -> dict[int, int]:
    """Steps per epoch: the batches the DataLoader hands out in one epoch, counted."""
    batches = ASSIGNMENT.reference_module().shuffled_batches
    return {size: len(batches(len(HOURS), size, 1, 0)[0]) for size in (2, 4, len(HOURS))}


def _close(printed_line: tuple[str, str], line: tuple[float, float]) -> bool:
    return (float(printed_line[0]) == pytest.approx(line[0], abs=SLOPE_ABS)
            and float(printed_line[1]) == pytest.approx(line[1], abs=INTERCEPT_ABS))


LINE = r"(\S+) \* hours \+ (\S+)"


def test_the_noise_floor_cell_prints_the_recomputed_numbers(printed, noise_floor):
    text = printed["story_noise_floor"]
    steps = _steps()
    assert steps == {2: 4, 4: 2, 8: 1}
    assert (f"one epoch over N = 8 rows: {steps[2]} steps with batches of 2, {steps[4]} with batches of 4, "
            f"{steps[8]} with the full batch (batches of 2 take {steps[2] / steps[8]:g} times as many steps)") in text
    floors, lines, (m_ls, b_ls) = noise_floor
    assert "mean over epochs 51-100, seed 1:" in text
    for name, floor in floors.items():
        found = re.search(rf"^  {re.escape(name)} +(\S+)$", text, re.MULTILINE)
        assert found, f"{name} not printed in\n{text}"
        assert float(found.group(1)) == pytest.approx(floor, rel=FLOOR_REL, abs=FLOOR_ABS), name
    # What the section claims: the floor grows with the rate, shrinks with the batch size and with a
    # decaying rate, and is 0 (to rounding) with the full batch.
    assert floors[CONSTANT] > 3 * floors["batches of 2, lr 0.05"]
    assert floors[CONSTANT] > 3 * floors["batches of 4, lr 0.1"] > 3 * floors["full batch (8), lr 0.1"]
    assert floors[CONSTANT] > 100 * floors[DECAYING]
    decayed = re.findall(rf"^  seed (\d): {LINE}$", text, re.MULTILINE)
    assert [int(seed) for seed, *_ in decayed] == list(SEEDS)
    for (_, *shown), line in zip(decayed, lines[DECAYING]):
        assert _close(shown, line), (shown, line)
    assert f"least squares: {m_ls:.4f} * hours + {b_ls:.4f}" in text


def test_the_three_constant_rate_lines_are_the_recomputed_ones(printed, noise_floor):
    """The lines the written question asks about, printed by the cell before the noise floor."""
    _, lines, _ = noise_floor
    shown = re.findall(rf"batches of 2, seed (\d): score = {LINE}, last", printed["story_stochastic"])
    assert [int(seed) for seed, *_ in shown] == list(SEEDS)
    for (_, *numbers), line in zip(shown, lines[CONSTANT]):
        assert _close(numbers, line), (numbers, line)


def test_lambdalr_stepped_once_per_epoch_gives_the_cells_decaying_rates(cells):
    """The text says torch's LambdaLR(optimizer, lambda e: 1 / (1 + e / T)), stepped once at the end of
    every epoch, gives the rates the cell uses: the rate of each epoch, read from the optimizer."""
    import torch

    intro = next(_source(c) for c in cells if c.metadata["nbgrader"]["grade_id"] == "md_noise_floor_intro")
    assert "`torch.optim.lr_scheduler.LambdaLR(optimizer, lambda e: 1 / (1 + e / T))`" in intro
    optimizer = torch.optim.SGD(torch.nn.Linear(1, 1).parameters(), lr=LR)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda e: 1 / (1 + e / T))
    rates = []
    for _ in range(EPOCHS):
        rates.append(optimizer.param_groups[0]["lr"])
        optimizer.step()  # the epoch's steps (no gradients here: the rate is what is read)
        scheduler.step()
    assert rates == pytest.approx([SETTINGS[DECAYING][1](e) for e in range(EPOCHS)], rel=1e-12)


def test_one_epoch_per_call_keeps_the_order_of_one_call(printed):
    """The noise-floor cell calls train_minibatch one epoch at a time with one generator: seed 1's line at
    the constant rate is the one the cell above printed from one call with every epoch."""
    one_call = re.search(r"batches of 2, seed 1: score = (.+?), last", printed["story_stochastic"])
    per_epoch = re.search(r"seed 1, batches of 2, lr 0.1, ended on (.+?) \(", printed["story_noise_floor"])
    assert one_call and per_epoch and one_call.group(1) == per_epoch.group(1)


def test_the_noise_floor_question_quotes_only_printed_numbers(printed):
    model, rubric = written_guides(ASSIGNMENT)["written_noise_floor"]
    text = printed["story_noise_floor"]
    floors = set(re.findall(r"^  (?:batches of|full batch) .+? +(\d+\.\d{4})$", text, re.MULTILINE))
    lines = set(re.findall(r"(\d+\.\d+) \* hours \+ (\d+\.\d+)", text + printed["story_stochastic"]))
    quoted_lines = set(re.findall(r"(\d+\.\d+) \* hours \+ (\d+\.\d+)", model))
    assert len(quoted_lines) == 7 and quoted_lines <= lines  # three constant, three decaying, least squares
    assert len(floors) == 5 and floors <= _numbers(model)  # each setting's floor
    allowed = floors | {n for line in lines for n in line} | {"0.1", "0.05"} | STRUCTURAL
    for words in (model, rubric):
        assert _numbers(words) <= allowed, _numbers(words) - allowed


# --- where the answers are --------------------------------------------------------------------

def _source(cell) -> str:
    return cell.source if isinstance(cell.source, str) else "".join(cell.source)


def _is_written(cell) -> bool:
    meta = cell.metadata.get("nbgrader", {})
    return cell.cell_type == "markdown" and meta.get("solution") and meta.get("grade")


# For each written question, words of its answer that no cell before its stop may hold.
GIVEAWAYS = {"written_stable_rate": ["tilt", "diagonal", "60^2", "60 ** 2"],
             "written_noise_floor": ["gradient is zero", "zero only", "identical"]}


def test_each_written_question_is_followed_by_a_stop_and_nothing_before_it_answers(cells):
    written = [i for i, cell in enumerate(cells) if _is_written(cell)]
    assert [cells[i].metadata["nbgrader"]["grade_id"] for i in written] == list(GIVEAWAYS)
    for i in written:
        grade_id = cells[i].metadata["nbgrader"]["grade_id"]
        assert len(written_guides(ASSIGNMENT)[grade_id][1]) > 100, f"{grade_id}: no rubric"
        assert STOP in _source(cells[i + 1]).lower(), f"{grade_id}: no stop right after the answer cell"
        before = "\n".join(_source(c) for c in cells[:i] if not _is_written(c)).lower()
        for words in GIVEAWAYS[grade_id]:
            assert words.lower() not in before, f"{grade_id}: {words!r} is in a cell before the answer"
    summary = next(i for i, cell in enumerate(cells) if _source(cell).startswith("## Summary"))
    assert summary > written[-1]


def test_overshoot_means_passing_the_minimum_and_diverging_is_named_apart(cells):
    """03 keeps "overshoot" for a step that passes the minimum (harmless while |1 - ηλ| < 1) and calls
    growth without bound "diverge"; no sentence uses overshoot for growth."""
    section4 = next(_source(c) for c in cells if c.metadata.get("nbgrader", {}).get("grade_id") == "md_rate_intro")
    assert "**overshoots**" in section4 and "**diverges**" in section4
    everything = "\n".join(_source(c) + c.metadata.get("dlbasics", {}).get("rubric", "") for c in cells)
    sentences = re.split(r"(?<=[.;:!?])\s+", everything)
    uses = [s for s in sentences if "overshoot" in s.lower()]
    assert uses
    for sentence in uses:
        assert not re.search(r"diverg|blow|grows|more each|exponential|farther", sentence.lower()), sentence
