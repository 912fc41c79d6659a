"""Packages and their data. The rest of the metadata is in pyproject.toml.

The demo hall's definition lives at the top level in ``queue/`` (data, not a Python package: a
module named ``queue`` would shadow the standard library). It is mapped into the installed package
as ``window_terminal.demo_hall`` so ``wt demo`` works from any folder after ``pip install .``.
"""

from setuptools import find_packages, setup

DEMO_HALL = "window_terminal.demo_hall"

setup(
    packages=[*find_packages(include=["window_terminal", "window_terminal.*"]), DEMO_HALL],
    package_dir={DEMO_HALL: "queue"},
    package_data={
        "": ["*.tcss", "*.ini", "*.mako", "py.typed", "*.html", "*.css", "*.js"],
        DEMO_HALL: ["*.toml", "catalogue/*.toml"],
    },
)
