"""The Amazon simulator's Selling Partner API machinery: Amazon's own models (vendored from
``amzn/selling-partner-api-models``, Apache-2.0: ``models/``), Login with Amazon and restricted
data tokens (``sign_in``), usage plans (``usage_plans``) and the static sandbox (``sandbox``)."""
