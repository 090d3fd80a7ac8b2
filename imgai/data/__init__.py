"""Data in: the bundled and downloadable data sets, class folders and zips, and any picture file a user brings.

    from imgai.data.datasets import load_dataset        # "digits", "cifar10-5k", "mnist", "folder:PATH", ...
    from imgai.data.intake import open_image, fit_image  # a picture file -> pixels, under a pixel budget
    from imgai.data.folder import load_image_folder      # a folder (or zip) of class folders -> ImageData
    from imgai.data.digit_photo import digit_from_photo  # a phone photo of a digit -> a 28x28 MNIST digit

Every reader refuses a bad file with one line (ImageError, FolderError, DatasetError) and never unpickles.
"""
