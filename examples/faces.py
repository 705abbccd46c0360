#!/usr/bin/python3
"""Detect, embed, verify and search with the faceid Python package.

    make install-python PREFIX=/usr/local            (or: PYTHONPATH=python FACEID_LIB=build/libfaceid.so)
    python3 examples/faces.py GROUP.jpg PERSON_A.jpg PERSON_B.jpg
"""
import sys
import tempfile

import faceid

group, a, b = sys.argv[1:4]
eng = faceid.Engine(threads=2)  # models: $FACEID_MODELS or the installed models directory
print("faceid", faceid.__version__, "- recogniser", eng.model_id(), "threshold %.2f" % eng.threshold)

for f in eng.detect(group):  # best score first
    print("face", [round(v) for v in f.bbox], "score %.2f" % f.score,
          "quality %.2f" % f.quality["composite"], "pose", f.pose["class"])

same, cos = eng.verify(a, b)
print("%s vs %s: cosine %.3f -> %s" % (a, b, cos, "same person" if same else "different people"))

with tempfile.TemporaryDirectory() as tmp:  # a gallery of one person, then search the group
    g = faceid.Gallery(tmp + "/people.db", eng)
    g.enroll("person_a", a)
    for face, candidates, name in g.identify(group):
        print("group face at", [round(v) for v in face.bbox], "->", name or "unknown",
              "(%s %.3f)" % candidates[0] if candidates else "")
