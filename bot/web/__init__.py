"""HTTP edge: the aiohttp application, its routes and middlewares."""
