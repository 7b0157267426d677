"""Amazon's Selling Partner API connector (Orders API v0, Tokens API): see ``connector``."""

from ingest.connectors.amazon.connector import AmazonConnector

__all__ = ["AmazonConnector"]
