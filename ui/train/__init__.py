"""Streamlit helpers of the train page (app_pages/train.py)."""
