"""The source posts' errors as the kit teaches them (issue 24, item 3).

Every number that notebooks 01 and 02 print about a claim of the posts, and every number of
docs/source-errata.md, is recomputed here independently of the notebooks: NumPy's closed forms
(``np.polyfit``, plain means) instead of the notebooks' tensor code, and the post's own training
loop (part 2, step 4, in its order: forward, loss, zero_grad, backward, step) instead of the
reference ``train_model``. A wrong number in a notebook or in the doc fails here.
"""

from __future__ import annotations

import functools
import re

import numpy as np
import pytest

from autograder.checks import ASSIGNMENTS, KIT_ROOT

ERRATA = KIT_ROOT / "docs" / "source-errata.md"

# The posts' data (part 2's code, part 3's worked example): inputs of the computation, not results.
HOURS = [10, 20, 30, 40, 50, 60, 70, 80]
SCORES = [480, 520, 710, 680, 830, 890, 920, 980]
X_EXAMPLE, Y_TRUE, Y_PRED = [10., 20., 30., 40.], [480., 520., 710., 680.], [440., 530., 620., 710.]
# The posts' claims that the kit checks (their words are in the doc, these are only compared there).
POST_LINE = (9.18, 338.15)


def _post_training_run(seed: int) -> tuple[float, float, float, float]:
    """Part 2's training code as the post writes it, seeded: (weight, bias, 35 h prediction, last loss)."""
    import torch

    study_hours = torch.tensor(HOURS, dtype=torch.float32)
    exam_scores = torch.tensor(SCORES, dtype=torch.float32)
    torch.manual_seed(seed)
    model = torch.nn.Linear(1, 1)
    loss_fn = torch.nn.MSELoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.0001)
    for _ in range(1000):
        predictions = model(study_hours.view(-1, 1))
        loss = loss_fn(predictions, exam_scores.view(-1, 1))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    with torch.no_grad():
        predicted = model(torch.tensor([35.0]).view(-1, 1)).item()
    return model.weight.item(), model.bias.item(), predicted, loss.item()


@functools.cache
def facts() -> dict:
    """Every number the kit states about the posts, computed here from the data alone."""
    x, y = np.array(HOURS, dtype=float), np.array(SCORES, dtype=float)

    def mse(m, b, xs=x, ys=y):
        return float(np.mean((m * xs + b - ys) ** 2))

    m_ls, b_ls = np.polyfit(x, y, 1)
    m_10, b_10 = np.polyfit(x / 10, y / 10, 1)
    residuals = m_ls * x + b_ls - y
    worst = int(np.argmax(np.abs(residuals)))
    # The worked example of part 3.
    xe, yt, yp = np.array(X_EXAMPLE), np.array(Y_TRUE), np.array(Y_PRED)
    m_guess, b_guess = np.polyfit(xe, yp, 1)
    m4, b4 = np.polyfit(xe, yt, 1)
    # The post's training run: seed 0 as the notebook runs it, seeds 0..4 for the spread.
    runs = [_post_training_run(seed) for seed in range(5)]
    w0, b0, pred_35, last_loss = runs[0]
    mse_trained = mse(w0, b0)
    return {
        "m_ls": m_ls, "b_ls": b_ls, "mse_ls": mse(m_ls, b_ls), "mse_post": mse(*POST_LINE),
        "post_at_45": POST_LINE[0] * 45 + POST_LINE[1], "ls_at_45": m_ls * 45 + b_ls,
        "m_10": m_10, "b_10": b_10,
        "residuals": residuals, "worst_residual": residuals[worst], "worst_hours": HOURS[worst],
        "rms": float(np.sqrt(np.mean(residuals ** 2))),
        "drops": [(HOURS[i], SCORES[i], HOURS[i - 1], SCORES[i - 1])
                  for i in range(1, len(HOURS)) if SCORES[i] < SCORES[i - 1]],
        "mean_hours": float(x.mean()), "mean_score": float(y.mean()), "mse_flat": float(np.var(y)),
        "example_squared_sum": float(np.sum((yp - yt) ** 2)), "example_mse": float(np.mean((yp - yt) ** 2)),
        "m_guess": m_guess, "b_guess": b_guess, "m4": m4, "b4": b4,
        "gap_to_ls4": float(np.mean((yp - (m4 * xe + b4)) ** 2)),
        "perpendicular": float(np.mean((yp - yt) ** 2 / (1 + m_guess ** 2))),
        "mse_ls4": mse(m4, b4, xe, yt),
        "w0": w0, "b0": b0, "pred_35": pred_35, "last_loss": last_loss, "mse_trained": mse_trained,
        "ratio": mse_trained / mse(m_ls, b_ls),
        "slopes": [run[0] for run in runs],
        # The least-squares slope for the intercept held at the trained one: mean(x (y - b)) / mean(x^2).
        "best_slope_for_b0": float(np.sum(x * (y - b0)) / np.sum(x * x)),
    }


def test_independent_computation_agrees_with_the_source_materials_own_list():
    """A guard on this file's own computation: the numbers the source material's README states."""
    f = facts()
    assert (round(f["m_ls"], 4), round(f["b_ls"], 4)) == (7.3690, 419.6429)
    assert (round(f["mse_ls"], 2), round(f["mse_post"], 2), f["example_mse"]) == (1501.93, 3223.70, 2675.0)
    assert 14.46 <= min(f["slopes"]) and max(f["slopes"]) <= 14.49  # "seeds 0..4 give slopes 14.46-14.49"


# --- the notebooks print these numbers ----------------------------------------------------------


@functools.cache
def _story(assignment_id: str) -> dict[str, str]:
    from autograder.notebook.execute import execute_notebook

    assignment = ASSIGNMENTS[assignment_id]
    notebook, _ = execute_notebook(assignment.solution, KIT_ROOT / "assignments" / assignment.id / "selfcheck")
    texts = {}
    for cell in notebook.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        texts[grade_id] = "\n".join(o.get("text", "") + o.get("data", {}).get("text/plain", "")
                                    for o in cell.get("outputs", []))
    return texts


@pytest.mark.slow
def test_01_first_picture_is_a_least_squares_fit_and_the_data_are_no_straight_line():
    f, text = facts(), _story("01-linear-regression")["story_first_picture"]
    assert f"regplot's fitted line:  score = {f['m_ls']:.4f} * hours + {f['b_ls']:.4f}" in text
    for hours, score, residual in zip(HOURS, SCORES, f["residuals"]):
        assert f"{hours:3d} hours, score {score}: residual {residual:+7.2f}" in text
    assert (f"largest residual: {f['worst_residual']:+.2f} points, at {f['worst_hours']} hours; "
            f"root of the mean squared residual: {f['rms']:.2f} points") in text
    assert f["drops"]
    for hours, score, before_hours, before_score in f["drops"]:
        assert f"{hours} hours scored {score}: less than {before_hours} hours ({before_score})" in text


@pytest.mark.slow
def test_01_no_student_studied_45_hours_and_every_line_through_the_mean_point_predicts_the_mean_score():
    f, text = facts(), _story("01-linear-regression")["story_post_line"]
    assert f"MSE {f['mse_ls']:8.2f},  at 45 hours {f['ls_at_45']:.2f}" in text
    assert f"MSE {f['mse_post']:8.2f},  at 45 hours {f['post_at_45']:.2f}" in text
    assert f"flat at the mean score = 0.0000 * hours + {f['mean_score']:8.4f}:  MSE {f['mse_flat']:8.2f},  " \
           f"at 45 hours {f['mean_score']:.2f}" in text
    assert f"mean hours {f['mean_hours']:.2f}, mean score {f['mean_score']:.2f}" in text
    assert f"students who studied 45 hours: {HOURS.count(45)}" in text
    assert "nearest: 40 hours (score 680) and 50 hours (score 830)" in text


@pytest.mark.slow
def test_01_names_the_posts_trained_slope():
    f, story = facts(), _story("01-linear-regression")
    training = story["story_training"]
    assert f"Learned formula: score = {f['w0']:.2f} * hours + {f['b0']:.2f}" in training
    assert f"Prediction for 35 hours: {f['pred_35']:.1f} points" in training
    compare = story["story_compare"]
    assert f"{'MSE on data':16}{f['mse_trained']:12.2f}{f['mse_ls']:16.2f}" in compare
    assert f"The trained line's MSE is {f['ratio']:.1f} times the least-squares MSE." in compare
    assert (f"Trained slope from seeds 0 to 4: {min(f['slopes']):.2f} to {max(f['slopes']):.2f} "
            f"(the post: 14.47); least-squares slope: {f['m_ls']:.2f} points per hour") in compare
    after = story["story_post_slope"]
    assert f"trained line: slope {f['w0']:.4f}, intercept {f['b0']:.4f}" in after
    assert f"best slope for the intercept held at {f['b0']:.4f}: {f['best_slope_for_b0']:.4f}" in after


@pytest.mark.slow
def test_02_the_loss_compares_predictions_with_targets_not_with_a_line():
    f, text = facts(), _story("02-gradient-descent")["story_loss_definition"]
    assert f"guessed line: score = {f['m_guess']:.2f} * hours + {f['b_guess']:.2f}" in text
    assert f"least-squares line of the four students: score = {f['m4']:.2f} * hours + {f['b4']:.2f}" in text
    for label, key in [("MSE, predictions vs actual scores (your mse_loss):", "example_mse"),
                       ("mean squared gap, predictions vs the least-squares line:", "gap_to_ls4"),
                       ("mean squared perpendicular distance, points to the guess:", "perpendicular"),
                       ("MSE of the least-squares line itself, vs actual scores:", "mse_ls4")]:
        assert re.search(re.escape(label) + r" +" + re.escape(f"{f[key]:.2f}") + r"$", text, re.M), label


@pytest.mark.slow
def test_02_one_step_shrinks_the_excess_loss_by_the_square_of_one_minus_twice_the_rate():
    """The discussion after 02's written question: measured per-step factors, against plain NumPy descent."""
    text = _story("02-gradient-descent")["story_step_factor"]
    x, y = np.array(HOURS, dtype=float), np.array(SCORES, dtype=float)
    z = (x - x.mean()) / x.std()
    m_best, b_best = np.polyfit(z, y, 1)
    loss_min = np.mean((m_best * z + b_best - y) ** 2)
    for name, lr in [("too small", 0.005), ("moderate", 0.1), ("too large", 1.05)]:
        m = b = 0.0
        excess = []
        for _ in range(3):
            residual = m * z + b - y
            excess.append(np.mean(residual ** 2) - loss_min)
            m, b = m - lr * np.mean(2 * residual * z), b - lr * np.mean(2 * residual)
        measured = excess[2] / excess[1]
        assert measured == pytest.approx((1 - 2 * lr) ** 2, rel=1e-9)
        assert (f"lr = {lr:<5} ({name}): L - L_min multiplied by {measured:.4f} in one step; "
                f"(1 - 2 lr)^2 = {(1 - 2 * lr) ** 2:.4f}") in text


# --- docs/source-errata.md ---------------------------------------------------------------------

BOLD_NUMBER = re.compile(r"\*\*(-?\d[\d,]*(?:\.\d+)?)\*\*")


def _sections() -> dict[int, str]:
    parts = re.split(r"^## (\d+)\. ", ERRATA.read_text(), flags=re.M)
    return {int(number): body for number, body in zip(parts[1::2], parts[2::2])}


def _expected_numbers() -> dict[int, set[str]]:
    """Section -> the computed numbers it states in bold, formatted as the notebooks print them."""
    f = facts()
    return {
        1: {f"{f['example_mse']:.2f}", f"{f['example_squared_sum']:.2f}"},
        2: {f"{f['m_ls']:.4f}", f"{f['b_ls']:.4f}", f"{f['mse_ls']:.2f}", f"{f['mse_post']:.2f}"},
        3: {f"{f['m_10']:.4f}", f"{f['b_10']:.4f}"},
        4: {f"{f['w0']:.2f}", f"{f['b0']:.2f}", f"{f['pred_35']:.1f}", f"{min(f['slopes']):.2f}",
            f"{max(f['slopes']):.2f}", f"{f['mse_trained']:,.2f}", f"{f['ratio']:.1f}"},
        5: {f"{f['ls_at_45']:.2f}", f"{f['post_at_45']:.2f}"},
        6: {f"{f['example_mse']:.2f}", f"{f['m4']:.2f}", f"{f['b4']:.2f}", f"{f['gap_to_ls4']:.2f}",
            f"{f['perpendicular']:.2f}", f"{f['mse_ls4']:.2f}"},
        7: {f"{f['m_ls']:.4f}", f"{f['b_ls']:.4f}"},
        8: {f"{f['worst_residual']:.2f}", f"{f['rms']:.2f}"},
        9: {f"{f['mean_score']:.2f}", f"{f['mse_flat']:,.2f}", f"{f['mse_ls']:.2f}"},
        10: {f"{f['w0']:.4f}", f"{f['b0']:.4f}", f"{f['best_slope_for_b0']:.4f}", f"{f['m_ls']:.2f}"},
    }


def test_every_number_of_the_errata_is_the_fresh_computation():
    """Each section states exactly its computed numbers (bold), and no other bold number."""
    sections, expected = _sections(), _expected_numbers()
    assert sorted(sections) == sorted(expected), "the doc's sections are not the nine errors and the 14.47"
    for number, body in sections.items():
        stated = set(BOLD_NUMBER.findall(body))
        assert stated == expected[number], f"section {number}: the doc says {sorted(stated - expected[number])}, " \
                                           f"the computation gives {sorted(expected[number] - stated)}"


def test_errata_name_where_each_error_is_taught_and_the_headings_exist():
    import nbformat

    headings = {}
    for assignment_id in ("01-linear-regression", "02-gradient-descent"):
        cells = nbformat.read(ASSIGNMENTS[assignment_id].solution, as_version=4).cells
        headings[assignment_id] = [line.lstrip("#").strip() for c in cells if c.cell_type == "markdown"
                                   for line in c.source.splitlines() if line.startswith("#")]
    sections = _sections()
    assert len(sections) == 10
    for number, body in sections.items():
        taught = re.search(r"^Taught in: (.+)$", body, re.M)
        assert taught, f"section {number} does not say where the kit teaches it"
        places = re.findall(r"(0[12]-[a-z-]+), “([^”]+)”", taught.group(1))
        assert places, f"section {number}: no place named"
        for assignment_id, heading in places:
            assert any(heading in h for h in headings[assignment_id]), (number, assignment_id, heading)


def test_readme_links_the_errata():
    assert "(docs/source-errata.md)" in (KIT_ROOT / "README.md").read_text()


# --- summaries out of reach ----------------------------------------------------------------------

# What each written question's rubric gives points for, in the words a summary would use.
ANSWERS = {
    "01-linear-regression": ["sensitive", "tiny steps", "standardis", "rescal", "more epochs",
                             "multiplied by the hours"],
    "02-gradient-descent": ["slow", "overshoot", "blow up", "diverge", "exponential", "jumps past"],
}


@pytest.mark.parametrize("assignment_id", sorted(ANSWERS))
def test_the_summary_does_not_give_the_written_answer_away(assignment_id):
    import nbformat

    cells = nbformat.read(ASSIGNMENTS[assignment_id].solution, as_version=4).cells
    summary = [c.source.lower() for c in cells if c.cell_type == "markdown" and c.source.startswith("## Summary")]
    assert len(summary) == 1
    given = [phrase for phrase in ANSWERS[assignment_id] if phrase in summary[0]]
    assert given == [], f"{assignment_id}'s summary states the written answer: {given}"
