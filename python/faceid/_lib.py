# SPDX-License-Identifier: MIT
"""ctypes declarations of libfaceid.so (include/faceid.h). Struct layouts mirror the header;
tests/test_python.py compares every offset with the C compiler's, so they cannot drift."""
import ctypes as C
import os

c_float_p = C.POINTER(C.c_float)


class Image(C.Structure):
    _fields_ = [("data", C.POINTER(C.c_ubyte)), ("width", C.c_int), ("height", C.c_int)]


class PipelineOptions(C.Structure):
    _fields_ = [("models_dir", C.c_char_p), ("detector", C.c_char_p), ("recognizer", C.c_char_p),
                ("occlusion", C.c_char_p), ("n_threads", C.c_int), ("isa", C.c_char_p),
                ("det_w", C.c_int), ("det_h", C.c_int), ("det_thresh", C.c_float),
                ("nms_iou", C.c_float), ("min_face", C.c_float), ("max_faces", C.c_int),
                ("flip_tta", C.c_int), ("need_models", C.c_int), ("no_fuse", C.c_int),
                ("profile", C.c_int), ("reserved", C.c_int * 8)]


class Face(C.Structure):
    _fields_ = [("x0", C.c_float), ("y0", C.c_float), ("x1", C.c_float), ("y1", C.c_float),
                ("score", C.c_float), ("kps", (C.c_float * 2) * 5), ("q_size", C.c_float),
                ("q_pose", C.c_float), ("q_sharpness", C.c_float), ("q_occlusion", C.c_float),
                ("q_composite", C.c_float), ("yaw", C.c_float), ("pitch", C.c_float),
                ("roll", C.c_float), ("pose_class", C.c_char_p), ("laplacian_var", C.c_double),
                ("reserved", C.c_float * 8)]


class GalleryFace(C.Structure):
    _fields_ = [("emb", c_float_p), ("source", C.c_char_p), ("bbox", C.c_float * 4),
                ("quality", C.c_float)]


class GalleryIdentity(C.Structure):
    _fields_ = [("id", C.c_longlong), ("name", C.c_char_p), ("n_faces", C.c_int),
                ("best_quality", C.c_float), ("added", C.c_double)]


class SearchHit(C.Structure):
    _fields_ = [("identity", C.c_int), ("name", C.c_char_p), ("score", C.c_float),
                ("row", C.c_int)]


STRUCTS = {"fid_image": Image, "fid_pipeline_options": PipelineOptions, "fid_face": Face,
           "fid_gallery_face": GalleryFace, "fid_gallery_identity": GalleryIdentity,
           "fid_search_hit": SearchHit}

# name: (restype, argtypes)
_P = C.c_void_p
PROTOTYPES = {
    "faceid_version": (C.c_char_p, []),
    "fid_last_error": (C.c_char_p, []),
    "fid_cpu_isa": (C.c_char_p, []),
    "fid_image_load": (C.c_int, [C.c_char_p, C.POINTER(Image)]),
    "fid_image_free": (None, [C.POINTER(Image)]),
    "fid_pipeline_options_default": (None, [C.POINTER(PipelineOptions)]),
    "fid_pipeline_open": (C.c_int, [C.POINTER(_P), C.POINTER(PipelineOptions)]),
    "fid_pipeline_close": (None, [_P]),
    "fid_pipeline_error": (C.c_char_p, [_P]),
    "fid_pipeline_threshold": (C.c_float, [_P]),
    "fid_pipeline_model_id": (C.c_char_p, [_P, C.c_int]),
    "fid_detect": (C.c_int, [_P, C.POINTER(Image), C.POINTER(Face), C.c_int,
                             C.POINTER(C.c_int)]),
    "fid_embed": (C.c_int, [_P, C.POINTER(Image), C.POINTER(Face), c_float_p]),
    "fid_embed_aligned": (C.c_int, [_P, C.POINTER(C.c_ubyte), c_float_p]),
    "fid_align_face": (C.c_int, [C.POINTER(Image), C.POINTER(Face), C.POINTER(C.c_ubyte)]),
    "fid_embed_dim": (C.c_int, [_P]),
    "fid_cosine": (C.c_float, [c_float_p, c_float_p, C.c_int]),
    "fid_models_dir": (C.c_char_p, [C.POINTER(PipelineOptions)]),
    "fid_gallery_open": (C.c_int, [C.POINTER(_P), C.c_char_p, C.c_char_p, C.c_int, C.c_int]),
    "fid_gallery_close": (None, [_P]),
    "fid_gallery_error": (C.c_char_p, [_P]),
    "fid_gallery_enroll": (C.c_int, [_P, C.c_char_p, C.POINTER(GalleryFace), C.c_int, C.c_int,
                                     C.POINTER(C.c_int)]),
    "fid_gallery_list": (C.c_int, [_P, C.POINTER(C.POINTER(GalleryIdentity)),
                                   C.POINTER(C.c_int)]),
    "fid_gallery_identities_free": (None, [C.POINTER(GalleryIdentity), C.c_int]),
    "fid_gallery_remove": (C.c_int, [_P, C.c_char_p]),
    "fid_search_from_gallery": (C.c_int, [C.POINTER(_P), _P, C.c_int]),
    "fid_search_free": (None, [_P]),
    "fid_search_query": (C.c_int, [_P, c_float_p, C.c_int, C.POINTER(SearchHit)]),
}


def _candidates():
    env = os.environ.get("FACEID_LIB")
    if env:
        yield env
    here = os.path.dirname(os.path.abspath(__file__))
    # Installed: <prefix>/lib/python3/dist-packages/faceid → <prefix>/lib/libfaceid.so.0
    for up in ("../../..", "../../../.."):
        yield os.path.normpath(os.path.join(here, up, "libfaceid.so.0"))
    # Source tree: python/faceid → build/libfaceid.so
    yield os.path.normpath(os.path.join(here, "..", "..", "build", "libfaceid.so"))
    yield "libfaceid.so.0"  # the loader's search path


def load():
    errors = []
    for path in _candidates():
        if os.sep in path and not os.path.exists(path):
            continue
        try:
            lib = C.CDLL(path)
        except OSError as e:
            errors.append("%s: %s" % (path, e))
            continue
        for name, (res, args) in PROTOTYPES.items():
            fn = getattr(lib, name)
            fn.restype, fn.argtypes = res, args
        return lib
    raise ImportError("libfaceid.so not found (set FACEID_LIB): " + "; ".join(errors))
