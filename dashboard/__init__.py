"""App-side helpers shared by the pages: caching, theme, sidebar, demo bootstrap."""
