"""The runtime survives fork(): security scanners run under multiprocessing."""

from __future__ import annotations

import asyncio
import multiprocessing
import sys

import pytest

import kms_rotation
from support import FLEET


def scan_in_child(_: int) -> tuple[int, int]:
    sync = kms_rotation.scan(inventory=FLEET).summary.total
    async_ = asyncio.run(kms_rotation.aio.scan(inventory=FLEET)).summary.total
    return sync, async_


@pytest.mark.skipif(sys.platform != "linux", reason="fork start method")
def test_forked_children_scan_after_the_parent_did() -> None:
    # The parent's runtime exists (and has threads) before the fork.
    assert kms_rotation.scan(inventory=FLEET).summary.total == 22
    assert asyncio.run(kms_rotation.aio.scan(inventory=FLEET)).summary.total == 22
    context = multiprocessing.get_context("fork")
    with context.Pool(2) as pool:
        result = pool.map_async(scan_in_child, range(4))
        assert result.get(timeout=60) == [(22, 22)] * 4
    # And the parent still works.
    assert kms_rotation.scan(inventory=FLEET).summary.total == 22
