"""Operational tools on boto3 and the Pulumi Automation API: failover, failback, the
rolling and blue-green deployment, and the DR drill.

Nothing here imports Pulumi's engine at module level, so the failover Lambda and the
tests load it with boto3 alone.
"""
