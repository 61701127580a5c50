"""The runtime: the package format, loading and running packages, timing and profiles, devices.

It never imports the compiler (`sedge.tvm_passes`) or the frontend, and never torch: a board
runs packages with TVM's runtime alone. Importing it sets TVM's thread count to the physical
cores (see threads.py) before TVM's thread pool starts, unless TVM_NUM_THREADS is set.
"""
from sedge.runtime.threads import set_default_threads

set_default_threads()
