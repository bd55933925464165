"""Spiking networks: integer semantics, golden executor, NIR / ONNX export, event-driven RTL."""
