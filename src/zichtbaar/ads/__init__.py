"""Ads library: extraction, risk indicators and ad networks; never imports Django."""
