"""Log lines without ad content: public ads still name and number people.

Scrapy's default formatter writes the whole item (page bytes, ad text) into the log when an
item is scraped, dropped or fails; here only the reason and the URL are logged.
"""

from __future__ import annotations

import logging
from typing import Any

from scrapy.logformatter import LogFormatter, LogFormatterResult


def _url(item: Any) -> str:
    return str(getattr(item, "url", "?"))


class QuietLogFormatter(LogFormatter):
    def scraped(self, item: Any, response: Any, spider: Any) -> LogFormatterResult:
        return {"level": logging.DEBUG, "msg": "Stored %(url)s", "args": {"url": _url(item)}}

    def dropped(self, item: Any, exception: BaseException, response: Any,
                spider: Any) -> LogFormatterResult:
        return {"level": logging.DEBUG, "msg": "Dropped: %(exception)s",
                "args": {"exception": exception}}

    def item_error(self, item: Any, exception: BaseException, response: Any,
                   spider: Any) -> LogFormatterResult:
        return {"level": logging.ERROR, "msg": "Error processing %(url)s",
                "args": {"url": _url(item)}}
