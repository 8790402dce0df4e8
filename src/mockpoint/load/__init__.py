"""The load runner: many charge points from one scenario, spread over shards.

A shard is one asyncio loop running a slice of the charge points (:mod:`.shard`); it keeps
its own statistics (:mod:`.stats`), which merge exactly with every other shard's, wherever
the shards ran (worker processes, a Ray cluster, separate jobs joined by ``mockpoint merge``).
"""
