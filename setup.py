# cffi_modules is a setup() keyword, so it lives here; everything else is in pyproject.toml.
from setuptools import setup

setup(cffi_modules=["teach_sgd/engine/_native_build.py:ffibuilder"])
