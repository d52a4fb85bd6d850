"""The optional C fast path; everything else is in pyproject.toml.

``optional=True``: where no C compiler is available the build goes on without
it, and staticserve runs its pure-Python path (same answers, more CPU per
request; see staticserve/speedups.py).
"""

import os

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "staticserve._speedups",
            ["staticserve/_speedups.c"],
            optional=True,
            extra_compile_args=[
                "-Wall",
                "-Wextra",
                "-Wno-unused-parameter",
                "-Wno-missing-field-initializers",
            ]
            if os.name == "posix"
            else [],
        )
    ]
)
