"""Fixtures for the snn tests: hand-built integer graphs (see snn_testgraphs.py)."""

from __future__ import annotations

import pytest
from snn_testgraphs import random_dense_graph, random_hd_graph

from codesign.graph.core import Graph


@pytest.fixture()
def dense_graph() -> Graph:
    return random_dense_graph()


@pytest.fixture()
def hd_graph() -> Graph:
    return random_hd_graph()
