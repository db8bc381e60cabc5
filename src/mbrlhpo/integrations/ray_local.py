"""A local Ray that listens on the loopback only.

Why ``ray.init(_node_ip_address="127.0.0.1")`` is not enough (Ray 2.x on Linux): ``ray.init``
passes that address through ``services.resolve_ip_for_localhost``, which replaces a loopback
address by ``get_node_ip_address()``, the machine's routable address, whenever
``ray_constants.ENABLE_RAY_CLUSTER`` is true (the default off Windows and macOS). Ray's
processes (GCS, raylet, workers, runtime-env agent) bind their servers to 127.0.0.1 only when
the node's address is exactly ``127.0.0.1`` (``node_ip_address == "127.0.0.1"`` in
``gcs_server.cc``, ``core_worker.cc``, ``runtime_env/agent/main.py``); otherwise to 0.0.0.0.
So a local Ray here needs multi-node support off while it starts: the environment variable
``RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0`` (read when ``ray`` is imported) and the same flag in
the imported module. Both are put back afterwards, so that a later ``ray.init(address=...)`` in
this process joins a real cluster with its routable address.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import Any

LOCAL_IP = "127.0.0.1"
CLUSTER_FLAG = "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"


@contextlib.contextmanager
def loopback_only() -> Iterator[None]:
    """While inside: Ray nodes started by this process take 127.0.0.1 as their address, so
    every Ray server binds to the loopback (also ``ray.cluster_utils.Cluster`` nodes)."""
    from ray._private import ray_constants

    saved_env = os.environ.get(CLUSTER_FLAG)
    saved_flag = ray_constants.ENABLE_RAY_CLUSTER
    os.environ[CLUSTER_FLAG] = "0"  # the child processes (raylet, workers) read it
    ray_constants.ENABLE_RAY_CLUSTER = False
    try:
        yield
    finally:
        ray_constants.ENABLE_RAY_CLUSTER = saved_flag
        if saved_env is None:
            os.environ.pop(CLUSTER_FLAG, None)
        else:
            os.environ[CLUSTER_FLAG] = saved_env


def node_addresses() -> set[str]:
    """The addresses of the running Ray's live nodes."""
    import ray

    return {n["NodeManagerAddress"] for n in ray.nodes() if n["Alive"]}


def init_local_ray(**init_kwargs: Any) -> None:
    """``ray.init`` of a new local Ray bound to 127.0.0.1 (quiet: no dashboard, no log
    forwarding); raises RuntimeError, with Ray shut down again, if a node came up elsewhere."""
    import ray

    kwargs = dict(include_dashboard=False, log_to_driver=False, configure_logging=False)
    kwargs.update(init_kwargs)
    with loopback_only():
        ray.init(_node_ip_address=LOCAL_IP, **kwargs)
    found = node_addresses()
    if found != {LOCAL_IP}:
        ray.shutdown()
        raise RuntimeError(
            f"expected a local Ray listening on {LOCAL_IP} only, got nodes on {sorted(found)}"
        )
