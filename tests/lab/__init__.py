"""A simulated Windows Server fleet that speaks WS-Management/WinRS on loopback (see docs/lab.md)."""

from .control import Lab, LabError
from .fleet import FleetError

__all__ = ["FleetError", "Lab", "LabError"]
