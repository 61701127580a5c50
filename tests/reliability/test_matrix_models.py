"""The bad-input matrix, part 1: model files, shapes, targets and options of `sedge compile`
(and `tune`). Each row runs the CLI as a user would (a subprocess) and checks the exit code,
the one line on stderr (what is wrong and what is allowed), no traceback, and that nothing
is left where the command ran. Rows already in tests/cli/test_errors.py are not repeated:
missing/random-bytes .onnx, a text .pt2, an op of an unknown domain, run-time shapes, bad
gather indices, non-numeric/zero/unknown-name --input-shapes, an unknown target kind,
an unknown suffix, unknown and value-less --pass-config."""
import pytest
from reliability_helpers import Case, build_workspace, run_case

CASES = [
    # model files
    Case("onnx-empty", ["compile", "{w}/empty.onnx", "-o", "m.tar"], 5, ("empty.onnx' is not a valid ONNX model",)),
    Case("onnx-truncated", ["compile", "{w}/truncated.onnx", "-o", "m.tar"], 5, ("is not a valid ONNX model",)),
    Case("onnx-wrong-magic", ["compile", "{w}/magic.onnx", "-o", "m.tar"], 5, ("is not a valid ONNX model",)),
    Case("pt2-empty", ["compile", "{w}/empty.pt2", "-o", "m.tar"], 5, ("is not a torch.export program (.pt2)",)),
    Case("pt2-truncated", ["compile", "{w}/truncated.pt2", "-o", "m.tar"], 5, ("is not a torch.export program",)),
    Case("pt2-random-bytes", ["compile", "{w}/random.pt2", "-o", "m.tar"], 5, ("is not a torch.export program",)),
    Case("pt2-wrong-magic-zip", ["compile", "{w}/zip.pt2", "-o", "m.tar"], 5, ("is not a torch.export program",)),
    Case("onnx-as-pytorch", ["compile", "{w}/tiny.onnx", "--model-format", "pytorch", "-o", "m.tar"], 5,
         ("is not a torch.export program",)),
    Case("onnx-dangling-tensor", ["compile", "{w}/dangling.onnx", "-o", "m.tar"], 5, ("nothere",)),
    Case("onnx-unsupported-shape-op", ["compile", "{w}/unique.onnx", "-o", "m.tar"], 5,
         ("'relax.unique'", "known only at run time")),
    Case("zoo-unknown", ["compile", "zoo:nope", "-o", "m.tar"], 4, ("unknown zoo model 'nope'", "names are")),
    # shapes
    Case("dynamic-no-input-shapes", ["compile", "{w}/dynamic.onnx", "-o", "m.tar"], 4,
         ("input 'x' has a dynamic shape", "--input-shapes")),
    Case("shape-negative", ["compile", "{w}/tiny.onnx", "--input-shapes", "x:[-1,64]", "-o", "m.tar"], 4,
         ("--input-shapes", "positive integers")),
    Case("shape-empty-dims", ["compile", "{w}/tiny.onnx", "--input-shapes", "x:[]", "-o", "m.tar"], 4,
         ("--input-shapes",)),
    Case("shape-zero-dynamic", ["compile", "{w}/dynamic.onnx", "--input-shapes", "x:[0,64]", "-o", "m.tar"], 4,
         ("--input-shapes", "positive integers")),
    # targets
    Case("target-option-no-value", ["compile", "{w}/tiny.onnx", "--target", "llvm -mcpu", "-o", "m.tar"], 4,
         ("-mcpu",)),
    Case("target-option-no-dash", ["compile", "{w}/tiny.onnx", "--target", "llvm mcpu=x", "-o", "m.tar"], 4,
         ("bad target option 'mcpu=x'", "-option=value")),
    Case("target-unknown-option", ["compile", "{w}/tiny.onnx", "--target", "llvm -foo=1", "-o", "m.tar"], 4,
         ("unknown option '-foo' for target 'llvm'", "allowed:")),
    Case("target-option-non-numeric", ["compile", "{w}/tiny.onnx", "--target", "llvm -num-cores=abc", "-o", "m.tar"],
         4, ("-num-cores", "'abc'")),
    Case("target-empty-value", ["compile", "{w}/tiny.onnx", "--target", "llvm -mcpu=", "-o", "m.tar"], 4,
         ("-mcpu", "empty value")),
    Case("target-flag-empty-value", ["compile", "{w}/tiny.onnx", "--target-llvm-mcpu=", "-o", "m.tar"], 4,
         ("mcpu", "empty")),
    Case("target-empty-string", ["compile", "{w}/tiny.onnx", "--target", "", "-o", "m.tar"], 4, ("empty target",)),
    Case("target-broken-json", ["compile", "{w}/tiny.onnx", "--target", '{"kind":', "-o", "m.tar"], 4,
         ("--target looks like JSON but does not parse",)),
    Case("target-json-file-missing", ["compile", "{w}/tiny.onnx", "--target", "nothere.json", "-o", "m.tar"], 4,
         ("target file 'nothere.json' does not exist",)),
    # options
    Case("opt-level-out-of-range", ["compile", "{w}/tiny.onnx", "-O", "7", "-o", "m.tar"], 4, ("0..3", "got 7")),
    Case("pass-config-empty-name", ["compile", "{w}/tiny.onnx", "--pass-config", "=1", "-o", "m.tar"], 4,
         ("--pass-config", "NAME=VALUE")),
    Case("pass-config-wrong-type", ["compile", "{w}/tiny.onnx", "--pass-config", "tir.disable_vectorize=maybe",
                                    "-o", "m.tar"], 4, ("bad --pass-config", "bool")),
    Case("dump-code-unknown", ["compile", "{w}/tiny.onnx", "--dump-code", "pdf", "-o", "m.tar"], 4,
         ("unknown --dump-code format(s) ['pdf']", "allowed: relax, tir, ll, asm")),
    Case("tuning-records-missing", ["compile", "{w}/tiny.onnx", "--tuning-records", "nothere", "-o", "m.tar"], 4,
         ("is not a tuning-records directory",)),
    Case("config-file-missing", ["compile", "{w}/tiny.onnx", "--config", "nothere.json", "-o", "m.tar"], 4,
         ("--config file 'nothere.json' does not exist",)),
    Case("config-file-not-json", ["compile", "{w}/tiny.onnx", "--config", "{w}/cfg_bad.json", "-o", "m.tar"], 4,
         ("is not valid JSON",)),
    Case("config-file-unknown-flag", ["compile", "{w}/tiny.onnx", "--config", "{w}/cfg_unknown.json", "-o", "m.tar"],
         4, ("unknown flag 'colour'", "allowed:")),
    Case("cross-compiler-missing", ["compile", "{w}/tiny.onnx", "--target", "llvm -mtriple=aarch64-linux-gnu",
                                    "--cross-compiler", "no-such-gcc", "-o", "m.tar"], 4,
         ("linking the library failed (no-such-gcc)", "No such file")),
    # tune
    Case("tune-zero-trials", ["tune", "{w}/tiny.onnx", "-o", "records", "--trials", "0"], 4, ("must be >= 1",)),
    Case("tune-unknown-target", ["tune", "{w}/tiny.onnx", "-o", "records", "--target", "tpu"], 4,
         ("unknown target kind 'tpu'", "allowed: llvm, cuda")),
    Case("tune-records-under-a-file", ["tune", "{w}/tiny.onnx", "-o", "{w}/afile/records", "--trials", "1"], 4,
         ("cannot create the records directory", "Not a directory")),
    Case("tune-empty-model", ["tune", "{w}/empty.onnx", "-o", "records"], 5, ("is not a valid ONNX model",)),
]


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    return build_workspace(tmp_path_factory.mktemp("bad-inputs"))


@pytest.mark.parametrize("case", [c.param() for c in CASES])
def test_bad_input(case, workspace, tmp_path):
    run_case(case, workspace, tmp_path)
