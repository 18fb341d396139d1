"""Kubernetes resource quantities, for the kube layer: the grammar and the parser are
app.models.quantity's, where the cluster model validates requests with them."""

from app.models.quantity import InvalidQuantity, parse_quantity

__all__ = ["InvalidQuantity", "parse_quantity"]
