"""The website's connector: Shopify's Admin GraphQL API (orders query, cost-paced), and the
webhooks Shopify sends (``webhooks.py``). Write-back lives in the orders service
(``orders.write_back``), through the same client (``orderhub_common.shopify``)."""

from ingest.connectors.shopify.connector import ShopifyConnector

__all__ = ["ShopifyConnector"]
