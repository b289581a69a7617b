from setuptools import setup
setup(cffi_modules=["teach_sgd/engine/_native_build.py:ffibuilder"])
