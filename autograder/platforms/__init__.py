"""Taking the grader to the platforms courses run on (Gradescope: :mod:`.gradescope`)."""
