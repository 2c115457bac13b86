"""dlbasics: a course kit and an autograder for the basics of deep learning with PyTorch."""

__version__ = "0.1.0"
