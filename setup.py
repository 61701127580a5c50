"""Maps the top-level stage folders into the one `sedge.*` import namespace.

pyproject.toml holds all metadata; this file only computes the package list, so that a new
sub-package inside a stage folder needs no packaging edit.
"""
from setuptools import find_packages, setup

STAGES = ["frontend", "tvm_passes", "runtime", "hw_models", "boards"]

package_dir = {"sedge": "sedge"}
packages = ["sedge"] + [f"sedge.{p}" for p in find_packages("sedge")]
for stage in STAGES:
    package_dir[f"sedge.{stage}"] = stage
    packages += [f"sedge.{stage}"] + [f"sedge.{stage}.{p}" for p in find_packages(stage)]

setup(
    packages=packages,
    package_dir=package_dir,
    package_data={"sedge.boards": ["*.toml"], "sedge.frontend": ["**/*.json"]},
)
