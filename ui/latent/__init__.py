"""Streamlit helpers of the latent page (app_pages/latent.py)."""
