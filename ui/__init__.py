"""Streamlit helpers shared by the pages: cached loaders, pickers, charts, image grids, the job panel."""
