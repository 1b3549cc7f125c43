"""Björn Lundén adapter: ``BLExporter(BLConfig(...))`` implements :class:`service.exporter.Exporter`."""

from exporters.bl.config import PRODUCTION_BASE_URL, PRODUCTION_TOKEN_URL, BLConfig
from exporters.bl.exporter import BLExporter

__all__ = ["PRODUCTION_BASE_URL", "PRODUCTION_TOKEN_URL", "BLConfig", "BLExporter"]
