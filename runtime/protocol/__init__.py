"""sedge's board protocol: framing (framing.py), messages (messages.py), the link with its
fault counts (channel.py) and sessions with retries (session.py)."""
from sedge.runtime.protocol.channel import FaultCounts
from sedge.runtime.protocol.session import BoardError, BoardSession, HostSession

__all__ = ["BoardError", "BoardSession", "FaultCounts", "HostSession"]
