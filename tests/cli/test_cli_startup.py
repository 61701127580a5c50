"""The command line's start: only the chosen command's flags are set up (a command that
needs no compiler does not wait for TVM), and Ctrl-C at any point is one line, exit 130."""
import subprocess
import sys

import sedge.cli


def test_a_command_without_the_compiler_does_not_import_tvm():
    code = ("import sys; from sedge.cli import _run; code = _run(['boards', 'list'], 'sedge', False); "
            "print(code, 'tvm' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "0 False"


def test_ctrl_c_before_the_command_runs_is_one_line(monkeypatch, capsys):
    def interrupted(*_args, **_kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(sedge.cli, "build_parser", interrupted)
    assert sedge.cli._interruptible(["compile", "m.onnx"], "sedge", tvmc_only=False) == 130
    assert capsys.readouterr().err == "sedge: interrupted\n"


def test_the_command_word_skips_global_options():
    assert sedge.cli._command_word(["-vv", "compile", "m.onnx", "--target", "llvm"]) == "compile"
    assert sedge.cli._command_word(["--version"]) is None
