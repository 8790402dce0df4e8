"""mockpoint: a deterministic OCPP 1.6J charge point simulator for testing CSMS backends."""

__version__ = "0.1.0"
