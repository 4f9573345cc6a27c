"""Fixtures for the GPU detection tests."""

from __future__ import annotations

import pytest


@pytest.fixture
def sysfs(tmp_path):
    root = tmp_path / "sys"
    (root / "bus" / "pci" / "devices").mkdir(parents=True)
    return root


@pytest.fixture
def procfs(tmp_path):
    root = tmp_path / "proc"
    root.mkdir()
    return root
