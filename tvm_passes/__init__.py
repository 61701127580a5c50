"""The compiler: targets, rewrite passes, kernels and schedules, the pipeline, and the build.

Registries: `passes.PASSES` (rewrite phase), `pipeline.SCHEDULERS` (schedule phase, by target
kind), `layer_records.RECORDERS` (per-layer records, by op or compressed construct).
"""
