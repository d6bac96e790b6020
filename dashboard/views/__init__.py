"""Page bodies, one module per page; `pages/` holds the short scripts that call them."""
