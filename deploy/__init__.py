"""Deployment assets (Kubernetes, Prometheus) and the generated configuration reference."""
