# nbgrader configuration for running the dlbasics notebooks in an nbgrader course (nbgrader 0.9.6).
#
# The reference notebooks in solutions/ carry nbgrader (schema 3) metadata: answer cells,
# autograded check cells with hidden tests, and manually graded written answers. Every
# notebook imports the public `selfcheck` package, so it goes into nbgrader's source folder with it,
# and nothing else does: nbgrader copies everything in source/<A>/ into release/<A>/ (what students
# fetch), autograded/ and every student's feedback/. Never copy solutions/<A> there: it holds
# corpus.py (complete answers), reference.py and checks.py.
#
# Steps for an instructor, in the kit's venv (`source .venv/bin/activate`: nbgrader runs `alembic`
# from PATH and executes the notebooks with this venv's `python3` kernel, which imports the kit), for
# each assignment A (e.g. 01-linear-regression):
#
#   mkdir -p ~/nbgrader-course && cp nbgrader_config.py ~/nbgrader-course/
#   dlbasics nbgrader-source A ~/nbgrader-course   # writes source/A/: the notebook and selfcheck/ only
#   cd ~/nbgrader-course
#   nbgrader generate_assignment A --force  # writes release/A/ (notebook + selfcheck/) and gradebook.db
#   # hand out release/A/; put each returned notebook at submitted/<student>/A/<notebook>.ipynb
#   # (or use `nbgrader release_assignment A` / `nbgrader collect A` if you run an exchange)
#   export DLBASICS_COURSE=~/dlbasics-course  # the course folder made by `dlbasics init` (its secret.toml)
#   nbgrader autograde A                    # runs the check cells, hidden tests included
#   # grade the written answers (cells `written_*`) by hand in the Formgrader (JupyterLab)
#   nbgrader generate_feedback A            # feedback/<student>/A/*.html
#   nbgrader export                         # grades.csv (all assignments and students)
#
# The hidden tests. Each check cell's hidden block is
#   from autograder.checks.nbgrader_hidden import assert_question
#   assert_question("<question>", assignment="<A>")
# the kit's own checks of that question (public and hidden), found through the installed kit (the
# assignment named, so a copy of an assignment folder in the kit changes nothing), run on the student's
# functions in the notebook's kernel: nbgrader and `dlbasics grade` give every question the same
# full-marks-or-not verdict. Their random inputs come from the course's secret seed: set DLBASICS_COURSE
# to the course folder (`dlbasics init COURSE` makes it, with secret.toml; keep it outside the nbgrader
# course folder, which nbgrader hands out from) in the shell that runs `nbgrader autograde`, as above.
# nbgrader passes its environment on to the kernels it starts. Students never see the hidden blocks
# (generate_assignment removes them) nor the seed. tests/test_nbgrader.py runs these steps.

import copy as _copy

from nbgrader import utils as _utils
from nbgrader.api import MissingEntry as _MissingEntry
from nbgrader.preprocessors import (
    CheckCellMetadata,
    ClearHiddenTests,
    ClearOutput,
    DeduplicateIds,
    OverwriteCells,
    OverwriteKernelspec,
)

c = get_config()  # noqa: F821 (provided by nbgrader when it loads this file)

c.CourseDirectory.course_id = "dlbasics"
# The course root is the directory nbgrader runs in (where this file is); gradebook.db lives there.
# Never copy caches or checkpoints into release/ or autograded/.
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback"]

# Every check cell runs in well under a second; the story cells train small models for a few
# seconds. 120 s per cell leaves room for slow machines and still stops a hung submission.
c.Execute.timeout = 120

# Answer cells use `### BEGIN SOLUTION` / `### END SOLUTION`; the stubs match the kit's build.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"
# Check cells carry their hidden asserts between these markers (removed from the release).
c.ClearHiddenTests.begin_test_delimeter = "BEGIN HIDDEN TESTS"
c.ClearHiddenTests.end_test_delimeter = "END HIDDEN TESTS"


class OverwriteCellsKnowingHiddenTests(OverwriteCells):
    """nbgrader's OverwriteCells without its false "Attribute 'checksum' ... has changed" warning.

    generate_assignment stores each locked cell's checksum in the gradebook before it removes the hidden
    tests, so every check cell of every untouched submission differs from it and autograde warns on each
    (nbgrader issue #1961). Here a locked cell whose visible part is exactly the released one gets its
    full source back before nbgrader compares: nothing to warn about. A cell the student changed is
    compared, warned about and overwritten by nbgrader exactly as before.
    """

    def preprocess_cell(self, cell, resources, cell_index):
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id is not None:
            try:
                source = self.gradebook.find_source_cell(grade_id, self.notebook_id, self.assignment_id)
            except _MissingEntry:
                source = None
            if source is not None and source.locked and source.cell_type == cell.cell_type:
                released = _copy.deepcopy(cell)
                released.source = source.source
                ClearHiddenTests(config=self.config)._remove_hidden_test_region(released)
                if _utils.compute_checksum(released) == _utils.compute_checksum(cell):
                    cell.source = source.source
        return super().preprocess_cell(cell, resources, cell_index)


c.Autograde.sanitize_preprocessors = [ClearOutput, DeduplicateIds, OverwriteKernelspec,
                                      OverwriteCellsKnowingHiddenTests, CheckCellMetadata]
