"""Scrapy crawler of Watch: one generic spider driven by a source YAML.

``spiders/ads.py`` only parses (selectors from the source); ``pipelines.py`` cleans, drops
duplicates, hashes images (bytes discarded) and stores each ad with its evidence snapshot
through ``watch.services``; ``settings.py`` holds the polite defaults; ``run.py`` is the one
entry point (CLI, management command, demo).
"""
