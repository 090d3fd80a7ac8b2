"""What each control of the Train page's setup panel does to training, in one line each (for a classroom)."""

HELP = {
    "model": "CNN: a classifier that learns to name what is in a picture. GAN: two networks trained against "
             "each other — a generator invents pictures, a discriminator judges whether they are real. "
             "Conditional GAN: the same, but both networks are told the class, so you can ask for a 7.",
    "preset": "fast: a stronger network and settings that learn within a minute or two on a laptop. "
              "textbook: exactly the network and settings of the TensorFlow tutorial.",
    "data": "The pictures to learn from. digits: 5,000 handwritten digits that come with the app. cifar10-5k: "
            "4,660 small colour photos of 10 things (planes, cars, birds, cats …) that come with the app. mnist: "
            "70,000 digits; fashion-mnist: 70,000 clothes; cifar10: 60,000 small colour photos (these three are "
            "downloaded once). Or a .zip with one folder per class (cats/, dogs/ …) full of images.",
    "zip": "One sub-folder per class, each with images (jpg, png …). At least two classes; files that are not "
           "images are skipped.",
    "length": "Train for a number of epochs (passes over all training images), or for a fixed time.",
    "epochs": "One epoch = every training image seen once. More epochs fit the data better, until the network "
              "starts memorising it (overfitting: validation accuracy stops rising).",
    "seconds": "Train for this many seconds of computing, however many epochs that is (pauses do not count).",
    "batch": "Images per learning step. Small batches: many noisy steps; large batches: fewer, smoother steps "
             "that keep the processor busier.",
    "lr": "How big each weight update is. Too small: learns slowly; too big: the loss jumps around or becomes "
          "NaN and training stops.",
    "optimizer": "The rule that turns gradients into weight changes. Adam adapts the step for each weight "
                 "(a safe default); SGD (with momentum 0.9) is the classic; RMSprop sits in between.",
    "wd": "Weight decay pulls every weight slightly towards zero at each step: a remedy for overfitting. 0 = off.",
    "dropout": "Switches off this share of neurons at random while training, so the network cannot rely on any "
               "single one: a remedy for overfitting.",
    "d_dropout": "Dropout in the discriminator: a weaker judge gives the generator a chance to keep up.",
    "augment": "Trains on slightly shifted, rotated and zoomed copies of the images (mirrored too, for photos): "
               "more variety, less overfitting, but slower to fit.",
    "seed": "The starting point of all randomness (first weights, order of the images). The same seed and "
            "settings give the same run.",
}
