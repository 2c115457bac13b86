"""The instructor's desk: hand grading of written answers in the browser (``dlbasics desk``)."""
