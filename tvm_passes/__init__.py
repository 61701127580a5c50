"""The compiler: targets, rewrite passes, kernels and schedules, the pipeline, and the build.

The pipeline is one recipe (`pipeline.phases`): each phase an ordered list of passes.
Name tables: `pipeline.SCHEDULES` (schedule phase, by target kind), `layer_records.RECORDERS`
and `records_compressed.COMPRESSED_RECORDERS` (per-layer records, by op or construct).
"""
