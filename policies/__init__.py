"""The platform's policy pack: rules by domain, the pack served to the Pulumi CLI, and its offline runner."""
