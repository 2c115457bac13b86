# nbgrader configuration for running the dlbasics notebooks in an nbgrader course (nbgrader 0.9.6).
#
# The reference notebooks in solutions/ carry nbgrader (schema 3) metadata: answer cells,
# autograded check cells with hidden tests, and manually graded written answers. Every
# notebook imports the `selfcheck` package, so it goes into nbgrader's source folder with it.
#
# Steps for an instructor, from a checkout of this kit (run `dlbasics build` first, so that
# assignments/<assignment>/selfcheck exists), for each assignment A (e.g. 01-linear-regression):
#
#   mkdir -p ~/dlbasics-course/source && cp nbgrader_config.py ~/dlbasics-course/
#   cp -r solutions/A ~/dlbasics-course/source/A
#   cp -r assignments/A/selfcheck ~/dlbasics-course/source/A/selfcheck
#   cd ~/dlbasics-course
#   nbgrader generate_assignment A --force  # writes release/A/ (notebook + selfcheck/) and gradebook.db
#   # hand out release/A/; put each returned notebook at submitted/<student>/A/<notebook>.ipynb
#   # (or use `nbgrader release_assignment A` / `nbgrader collect A` if you run an exchange)
#   nbgrader autograde A                    # runs the check cells, hidden tests included
#   # grade the written answers (cells `written_*`) by hand in the Formgrader (JupyterLab)
#   nbgrader generate_feedback A            # feedback/<student>/A/*.html
#   nbgrader export                         # grades.csv (all assignments and students)
#
# Run these with the kit's venv activated (`source .venv/bin/activate`): nbgrader runs
# `alembic` from PATH to open gradebook.db, and executes the notebooks with the venv's
# `python3` kernel (torch, matplotlib, ipykernel). That kernel must import this kit: each check
# cell's hidden tests are `from autograder.checks.nbgrader_hidden import assert_question`,
# the kit's own checks of the question, so nbgrader and `dlbasics grade` give every question the
# same full-marks-or-not verdict. tests/test_nbgrader.py runs these steps.

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
