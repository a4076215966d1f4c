"""parkwatch crawler: sources file, Scrapy spiders, main-text extraction and the crawl runner.

Nothing here imports other parkwatch packages; downstream code receives
:class:`crawler.items.FetchedArticle` objects through an :class:`crawler.items.ArticleSink`.
"""
