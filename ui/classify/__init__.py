"""Streamlit helpers of the classify page (app_pages/classify.py)."""
