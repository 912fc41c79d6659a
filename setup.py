"""Packages and their data. The rest of the metadata is in pyproject.toml.

The demo hall's definition lives at the top level in ``queue/`` (data, not a Python package: a
module named ``queue`` would shadow the standard library). It is mapped into the installed package
as ``window_terminal.demo_hall`` so ``wt demo`` works from any folder after ``pip install .``.
"""

from setuptools import find_namespace_packages, setup

DEMO_HALL = "window_terminal.demo_hall"
CATALOGUE = f"{DEMO_HALL}.catalogue"

setup(
    packages=[
        *find_namespace_packages(include=["window_terminal", "window_terminal.*"], exclude=["*.__pycache__"]),
        DEMO_HALL,
        CATALOGUE,
    ],
    package_dir={DEMO_HALL: "queue", CATALOGUE: "queue/catalogue"},
    package_data={
        "": ["*.tcss", "*.ini", "*.mako", "py.typed", "*.html", "*.css", "*.js"],
        DEMO_HALL: ["*.toml"],
        CATALOGUE: ["*.toml"],
    },
)
