"""The rotation function of one Redis tenant's secret (one deployed function per tenant)."""
