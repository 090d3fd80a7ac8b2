"""Streamlit helpers of the GAN playground page."""
