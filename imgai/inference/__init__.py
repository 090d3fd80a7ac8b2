"""Using trained models: answers, explanations, a GAN's latent space, and how good a generator's pictures are.

    from imgai.inference.classify import load_classifier      # clf = load_classifier("weights/digits-cnn")
    from imgai.inference.explain import explain_image         # saliency and every layer's activation maps
    from imgai.inference.latent import interpolate            # seeds, walks, GANSpace directions, steering
    from imgai.inference.quality import generator_quality     # Fréchet distance, readability, classes covered
"""
