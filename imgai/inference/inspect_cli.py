"""`python -m imgai inspect`: one conv cell of a classifier written out as arithmetic, as one JSON line.

    python -m imgai inspect --weights weights/digits-cnn --image seven.png --layer 1 --channel 5 --at 3 4

The picture goes through the same intake as `classify` (Classifier.prepare), and the numbers come from the
hooked forward pass of imgai.inference.arithmetic (the same one the Classify page shows).
"""
import json


def add_parser(sub):
    p = sub.add_parser("inspect", help="one feature-map cell of a conv layer as Σ window · kernel + bias, "
                                       "then its BatchNorm, ReLU and pooling steps; one JSON line")
    p.add_argument("--weights", required=True, help="a classifier checkpoint")
    p.add_argument("--image", required=True, help="an image file")
    p.add_argument("--layer", type=int, default=0, help="conv layer, counted from 0")
    p.add_argument("--channel", type=int, default=0, help="output channel (feature map) of that layer")
    p.add_argument("--at", type=int, nargs=2, default=[0, 0], metavar=("I", "J"), help="row and column")
    p.add_argument("--temperature", type=float, default=1.0, help="softmax temperature for the class table")
    p.set_defaults(func=run)


def run(a) -> int:
    from imgai.data.intake import open_image
    from imgai.inference.arithmetic import explain_cell, softmax_table, trace_forward
    from imgai.inference.classify import load_classifier
    clf = load_classifier(a.weights)
    with open(a.image, "rb") as f:
        img = open_image(f.read(), name=a.image)
    trace = trace_forward(clf.model, clf.prepare(img))
    cell = explain_cell(trace, a.layer, a.channel, *a.at)
    table = softmax_table(trace.logits, a.temperature, clf.class_names)
    best = max(table, key=lambda r: r["prob"])
    cell.update(label=best["name"], prob=best["prob"], softmax=table)
    print(json.dumps(cell))
    return 0
