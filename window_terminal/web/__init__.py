"""The hall TV page (``wt serve display``): HTML, CSS and JavaScript served by the project itself.

``stream.py`` turns the hall's event feed into the page's Server-Sent Events (pure Python, tested
without a browser); ``server.py`` is the aiohttp server around it; ``static/`` is the page.
"""
