"""imgai: learn how computers recognise and generate images — the PyTorch library behind the app.

    from imgai.data.datasets import load_dataset; data = load_dataset("digits")
"""
__version__ = "0.1.0"
