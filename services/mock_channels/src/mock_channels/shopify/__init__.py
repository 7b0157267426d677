"""The website as Shopify's Admin GraphQL API: the orders query, the write-back mutations, the
cost bucket, and the signed webhooks it sends (see README's "website" row)."""
