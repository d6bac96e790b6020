"""The app side: page bodies (views/), every Streamlit cache (cache.py), the context every page
works on, the shell each run starts with, navigation between pages, theme and charts."""
