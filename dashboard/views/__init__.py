"""Page bodies, one module per page; `app_pages/` holds the short scripts that call them."""
