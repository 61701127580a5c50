"""The runtime: the package format, loading and running packages, timing and profiles, devices.

It never imports the compiler (`sedge.tvm_passes`) or the frontend, and never torch: a board
runs packages with TVM's runtime alone. Importing it changes nothing process-wide; the
Executor sizes TVM's thread pool when it loads a package (threads.py).
"""
