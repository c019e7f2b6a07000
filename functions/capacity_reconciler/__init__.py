"""The HPA reconciler the capacity CronJob runs in every region's cluster."""
