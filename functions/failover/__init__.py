"""The failover controller's Lambda function."""
