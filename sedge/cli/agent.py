"""`sedge agent`: the board-side program that receives, checks and benchmarks packages."""
from sedge.cli import command


@command("agent", help="serve package uploads and benchmark runs from a host over a serial line (on the board)")
def configure(parser):
    from sedge.runtime.agent.launch import add_arguments

    add_arguments(parser)


def drive(args):
    from sedge.runtime.agent.launch import start

    start(args)
