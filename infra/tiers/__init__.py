"""The composition of one stack, tier by tier: each module declares a tier's components from
the validated config and the outputs of the tiers before it (network, data, cache, edge,
workloads, observability, operations). `infra/program.py` calls them in that order.
"""
