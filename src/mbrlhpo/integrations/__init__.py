"""Bridges to other engines: a local Ray bound to the loopback (``ray_local``), Ray Tune
(``ray_tune``). Each needs Ray: ``pip install mbrlhpo[cluster]``."""
