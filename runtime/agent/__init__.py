"""The board-side agent (`sedge agent`): serve.py's loop, store.py's uploads, validate.py's
checks and job.py's benchmark run."""
from sedge.runtime.agent.server import serve

__all__ = ["serve"]
