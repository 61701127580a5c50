"""Benchmarks: sedge against ONNX Runtime and PyTorch, run as `python -m benchmarks.models`."""
