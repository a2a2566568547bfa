"""The PEP 517 build backend: setuptools, with its scratch output outside the source tree.

setuptools builds in the project directory (``build/`` and ``hpc_constructs.egg-info/``), so
``pip wheel .``, ``pip install .`` or ``python -m build`` in a checkout would leave them behind.
Each hook here runs setuptools' own hook with distutils' ``DIST_EXTRA_CONFIG`` (the config
file read after ``setup.cfg``) pointing ``build``, ``bdist_wheel`` and ``egg_info`` at a
temporary directory, removed when the hook returns. The artifacts are setuptools' unchanged;
only the scratch space moves. pyproject.toml names this module with ``backend-path``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from typing import Any

from setuptools import build_meta as _setuptools

__all__ = [
    "build_editable",
    "build_sdist",
    "build_wheel",
    "get_requires_for_build_editable",
    "get_requires_for_build_sdist",
    "get_requires_for_build_wheel",
    "prepare_metadata_for_build_editable",
    "prepare_metadata_for_build_wheel",
]


@contextlib.contextmanager
def _scratch_outside_the_tree() -> Iterator[None]:
    scratch = tempfile.mkdtemp(prefix="hpc-constructs-build-")
    config = os.path.join(scratch, "outside.cfg")
    with open(config, "w", encoding="utf-8") as handle:
        handle.write(
            f"[build]\nbuild_base = {os.path.join(scratch, 'build')}\n"
            f"[bdist_wheel]\nbdist_dir = {os.path.join(scratch, 'bdist')}\n"
            f"[egg_info]\negg_base = {scratch}\n"
        )
    previous = os.environ.get("DIST_EXTRA_CONFIG")
    os.environ["DIST_EXTRA_CONFIG"] = config
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("DIST_EXTRA_CONFIG", None)
        else:
            os.environ["DIST_EXTRA_CONFIG"] = previous
        shutil.rmtree(scratch, ignore_errors=True)


def build_wheel(
    wheel_directory: str,
    config_settings: dict[str, Any] | None = None,
    metadata_directory: str | None = None,
) -> str:
    with _scratch_outside_the_tree():
        return str(_setuptools.build_wheel(wheel_directory, config_settings, metadata_directory))


def build_sdist(sdist_directory: str, config_settings: dict[str, Any] | None = None) -> str:
    with _scratch_outside_the_tree():
        return str(_setuptools.build_sdist(sdist_directory, config_settings))


def build_editable(
    wheel_directory: str,
    config_settings: dict[str, Any] | None = None,
    metadata_directory: str | None = None,
) -> str:
    with _scratch_outside_the_tree():
        return str(_setuptools.build_editable(wheel_directory, config_settings, metadata_directory))


def prepare_metadata_for_build_wheel(
    metadata_directory: str, config_settings: dict[str, Any] | None = None
) -> str:
    with _scratch_outside_the_tree():
        return str(
            _setuptools.prepare_metadata_for_build_wheel(metadata_directory, config_settings)
        )


def prepare_metadata_for_build_editable(
    metadata_directory: str, config_settings: dict[str, Any] | None = None
) -> str:
    with _scratch_outside_the_tree():
        return str(
            _setuptools.prepare_metadata_for_build_editable(metadata_directory, config_settings)
        )


def get_requires_for_build_wheel(config_settings: dict[str, Any] | None = None) -> list[str]:
    with _scratch_outside_the_tree():  # setuptools runs egg_info to answer
        return list(_setuptools.get_requires_for_build_wheel(config_settings))


def get_requires_for_build_sdist(config_settings: dict[str, Any] | None = None) -> list[str]:
    with _scratch_outside_the_tree():
        return list(_setuptools.get_requires_for_build_sdist(config_settings))


def get_requires_for_build_editable(config_settings: dict[str, Any] | None = None) -> list[str]:
    with _scratch_outside_the_tree():
        return list(_setuptools.get_requires_for_build_editable(config_settings))
