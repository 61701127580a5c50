"""`python -m sedge.runtime.agent --port URL`: the agent without the compiler's command line."""
import argparse
import sys

from sedge.errors import SedgeError
from sedge.runtime.agent.launch import add_arguments, start

parser = argparse.ArgumentParser(prog="python -m sedge.runtime.agent", description=__doc__)
parser.add_argument("-v", "--verbose", action="store_true", help="log every request")
add_arguments(parser)
try:
    start(parser.parse_args())
except SedgeError as err:
    sys.exit(f"sedge agent: error: {err}")
except KeyboardInterrupt:
    sys.exit(130)
