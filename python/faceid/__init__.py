# SPDX-License-Identifier: MIT
"""faceid: face detection, embeddings, verification and galleries over libfaceid.so.

    import faceid
    eng = faceid.Engine(models="/usr/local/share/faceid/models", threads=2)
    faces = eng.detect("group.jpg")             # or an HxWx3 uint8 RGB numpy array
    emb = eng.embed("group.jpg", faces[0])       # float32 (dim,), L2-normalised
    same, cos = eng.verify("a.jpg", "b.jpg")     # largest-score face of each

An Engine is not thread-safe (use one per thread); errors raise faceid.Error with the
library's message.
"""
import ctypes as C
import math

import numpy as np

from . import _lib

_L = _lib.load()
__version__ = _L.faceid_version().decode()
ROLE_DETECTOR, ROLE_RECOGNIZER, ROLE_OCCLUSION = 0, 1, 2


class Error(RuntimeError):
    """A libfaceid call failed: .status is its negative FID_STATUS_* code."""

    def __init__(self, status, message):
        super().__init__("%s (status %d)" % (message, status))
        self.status = status


def _check(rc, message):
    if rc < 0:
        raise Error(rc, message() if callable(message) else message)
    return rc


def _enc(s):
    return None if s is None else (s if isinstance(s, bytes) else str(s).encode())


class Face:
    """One detected face: bbox (x0, y0, x1, y1) in source pixels, score, landmarks (5x2:
    left eye, right eye, nose, left mouth, right mouth), quality dict, pose angles."""

    def __init__(self, f):
        self._raw = f
        self.bbox = (f.x0, f.y0, f.x1, f.y1)
        self.score = f.score
        self.landmarks = np.array([[f.kps[i][0], f.kps[i][1]] for i in range(5)],
                                  dtype=np.float32)
        q = {"size": f.q_size, "pose": f.q_pose, "sharpness": f.q_sharpness,
             "occlusion": f.q_occlusion, "composite": f.q_composite}
        self.quality = {k: (None if math.isnan(v) else v) for k, v in q.items()}
        self.pose = {"yaw": f.yaw, "pitch": f.pitch, "roll": f.roll,
                     "class": f.pose_class.decode() if f.pose_class else None}

    def __repr__(self):
        return "Face(bbox=(%.1f, %.1f, %.1f, %.1f), score=%.3f)" % (*self.bbox, self.score)


class _Img:
    """A fid_image view of a path (decoded by the library) or an HxWx3 uint8 array."""

    def __init__(self, img):
        self.raw = _lib.Image()
        self.owned = False
        if isinstance(img, (str, bytes)) or hasattr(img, "__fspath__"):
            _check(_L.fid_image_load(_enc(str(img)), C.byref(self.raw)),
                   lambda: _L.fid_last_error().decode())
            self.owned = True
            return
        a = np.asarray(img)
        if a.dtype != np.uint8 or a.ndim != 3 or a.shape[2] != 3:
            raise ValueError("image must be a path or an HxWx3 uint8 RGB array, got %s %s"
                             % (a.dtype, a.shape))
        self.keep = np.ascontiguousarray(a)
        self.raw.data = self.keep.ctypes.data_as(C.POINTER(C.c_ubyte))
        self.raw.height, self.raw.width = a.shape[0], a.shape[1]

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.owned:
            _L.fid_image_free(C.byref(self.raw))


def load_image(path):
    """Decode an image file (JPEG/PNG/WebP/BMP, EXIF orientation applied) → HxWx3 uint8."""
    with _Img(path) as im:
        n = im.raw.width * im.raw.height * 3
        return np.ctypeslib.as_array(im.raw.data, shape=(n,)).reshape(
            im.raw.height, im.raw.width, 3).copy()


class Engine:
    """Detector + recogniser loaded once. models: directory or None (the library's default);
    detector/recognizer: model names or .fidw paths (None: the library's defaults; recognizer
    "" = detection only)."""

    def __init__(self, models=None, threads=0, detector=None, recognizer=None, occlusion=None,
                 det_size=None, det_thresh=None, max_faces=0):
        o = _lib.PipelineOptions()
        _L.fid_pipeline_options_default(C.byref(o))
        self._strings = [_enc(models), _enc(detector), _enc(recognizer), _enc(occlusion)]
        o.models_dir, o.detector, o.recognizer, o.occlusion = self._strings
        o.n_threads = threads
        if det_size:
            o.det_w, o.det_h = (det_size, det_size) if isinstance(det_size, int) else det_size
        if det_thresh is not None:
            o.det_thresh = det_thresh
        o.max_faces = max_faces
        self._p = C.c_void_p()
        _check(_L.fid_pipeline_open(C.byref(self._p), C.byref(o)),
               lambda: _L.fid_last_error().decode())
        self.dim = _L.fid_embed_dim(self._p)
        self.threshold = _L.fid_pipeline_threshold(self._p) if self.dim else float("nan")

    def close(self):
        if self._p:
            _L.fid_pipeline_close(self._p)
            self._p = C.c_void_p()

    def __del__(self):
        self.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _err(self):
        return _L.fid_pipeline_error(self._p).decode()

    def model_id(self, role=ROLE_RECOGNIZER):
        s = _L.fid_pipeline_model_id(self._p, role)
        return s.decode() if s else None

    def _detect(self, im, cap):
        faces = (_lib.Face * cap)()
        n = C.c_int()
        _check(_L.fid_detect(self._p, C.byref(im.raw), faces, cap, C.byref(n)), self._err)
        return [faces[i] for i in range(n.value)]

    def detect(self, img, max_faces=256):
        """Faces sorted by descending score."""
        with _Img(img) as im:
            return [Face(f) for f in self._detect(im, max_faces)]

    def embed(self, img, face=None):
        """Embedding of face (a Face from detect on the same image; None: the best face).
        Returns None when face is None and the image has no face."""
        if not self.dim:
            raise Error(-1, "no recognizer loaded")
        with _Img(img) as im:
            if face is None:
                found = self._detect(im, 1)
                if not found:
                    return None
                raw = found[0]
            else:
                raw = face._raw
            out = np.zeros(self.dim, dtype=np.float32)
            _check(_L.fid_embed(self._p, C.byref(im.raw), C.byref(raw),
                                out.ctypes.data_as(_lib.c_float_p)), self._err)
            return out

    def embed_aligned(self, crop):
        """Embedding of an aligned 112x112x3 uint8 RGB crop."""
        a = np.ascontiguousarray(crop, dtype=np.uint8)
        if a.shape != (112, 112, 3):
            raise ValueError("aligned crop must be 112x112x3, got %s" % (a.shape,))
        out = np.zeros(self.dim, dtype=np.float32)
        _check(_L.fid_embed_aligned(self._p, a.ctypes.data_as(C.POINTER(C.c_ubyte)),
                                    out.ctypes.data_as(_lib.c_float_p)), self._err)
        return out

    def verify(self, img_a, img_b, threshold=None):
        """(same, cosine) for the best face of each image; threshold: the recogniser's default.
        Raises Error when an image has no face."""
        ea, eb = self.embed(img_a), self.embed(img_b)
        for e, src in ((ea, img_a), (eb, img_b)):
            if e is None:
                raise Error(-1, "no face found in %s" % (src if isinstance(src, str) else "image"))
        cos = float(np.dot(ea, eb))
        return cos >= (self.threshold if threshold is None else threshold), cos


class Gallery:
    """A SQLite gallery of named identities for one recogniser (the engine's)."""

    def __init__(self, path, engine, create=True):
        self.engine = engine
        self._g = C.c_void_p()
        _check(_L.fid_gallery_open(C.byref(self._g), _enc(path), _enc(engine.model_id()),
                                   engine.dim, 1 if create else 0),
               lambda: _L.fid_last_error().decode())

    def close(self):
        if self._g:
            _L.fid_gallery_close(self._g)
            self._g = C.c_void_p()

    def __del__(self):
        self.close()

    def _err(self):
        return _L.fid_gallery_error(self._g).decode()

    def enroll(self, name, img):
        """Add the best face of img to identity name; returns rows written (0: no face)."""
        faces = self.engine.detect(img, 1)
        if not faces:
            return 0
        emb = self.engine.embed(img, faces[0])
        f = _lib.GalleryFace(emb.ctypes.data_as(_lib.c_float_p),
                             _enc(img) if isinstance(img, str) else None,
                             (C.c_float * 4)(*faces[0].bbox),
                             faces[0].quality["composite"] or float("nan"))
        added = C.c_int()
        _check(_L.fid_gallery_enroll(self._g, _enc(name), C.byref(f), 1, 0, C.byref(added)),
               self._err)
        return added.value

    def identities(self):
        """[(name, n_faces)] sorted by name."""
        p, n = C.POINTER(_lib.GalleryIdentity)(), C.c_int()
        _check(_L.fid_gallery_list(self._g, C.byref(p), C.byref(n)), self._err)
        out = [(p[i].name.decode(), p[i].n_faces) for i in range(n.value)]
        _L.fid_gallery_identities_free(p, n)
        return out

    def remove(self, name):
        _check(_L.fid_gallery_remove(self._g, _enc(name)), self._err)

    def identify(self, img, top=5, threshold=None):
        """For each face of img: (Face, [(name, cosine)] best first, name or None when the best
        is below the threshold)."""
        s = C.c_void_p()
        _check(_L.fid_search_from_gallery(C.byref(s), self._g, 0),
               lambda: _L.fid_last_error().decode())
        thr = self.engine.threshold if threshold is None else threshold
        out = []
        try:
            with _Img(img) as im:
                for raw in self.engine._detect(im, 256):
                    emb = np.zeros(self.engine.dim, dtype=np.float32)
                    _check(_L.fid_embed(self.engine._p, C.byref(im.raw), C.byref(raw),
                                        emb.ctypes.data_as(_lib.c_float_p)), self.engine._err)
                    hits = (_lib.SearchHit * top)()
                    n = _L.fid_search_query(s, emb.ctypes.data_as(_lib.c_float_p), top, hits)
                    cand = [(hits[i].name.decode(), hits[i].score) for i in range(max(n, 0))]
                    best = cand[0][0] if cand and cand[0][1] >= thr else None
                    out.append((Face(raw), cand, best))
        finally:
            _L.fid_search_free(s)
        return out
