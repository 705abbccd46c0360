# faceid — plain GNU make. Outputs go to build/ (or $(B) for variant builds).
# Targets: all test check asan tsan bench models golden neon clean  (see README.md)
CC      ?= cc
B       ?= build
OMP     ?= 1
DEBUG   ?= 0
SAN     ?=
ARCH    ?= $(shell $(CC) -dumpmachine | cut -d- -f1)
SHARED  ?= ../shared
MODELS_SRC ?= $(SHARED)/models
PY      ?= /usr/bin/python3

OPT     ?= $(if $(filter 1,$(DEBUG)),-O0,-O2)
CFLAGS  := -std=c11 -D_GNU_SOURCE -g $(OPT) -Wall -Wextra -Wshadow -Wvla -Wstrict-prototypes \
           -Wno-unused-parameter -fvisibility=hidden -fPIC -MMD -MP
LDLIBS  := -lm -pthread
ifeq ($(OMP),1)
CFLAGS  += -fopenmp
LDLIBS  += -fopenmp
endif
ifneq ($(SAN),)
CFLAGS  += -fsanitize=$(SAN) -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDLIBS  += -fsanitize=$(SAN)
endif

# Layers look down only: each layer's sources see only the include paths of the layers below
# it, so an include that climbs up fails to compile (docs/ARCHITECTURE.md).
INC_kernels := -Ikernels
INC_engine  := -Iinclude -Iengine -Ikernels
INC_models  := -Iinclude -Imodels -Iengine -Ikernels
INC_src     := -Iinclude -Isrc -Imodels -Iengine -Ikernels
INC_cli     := -Iinclude
INC_all     := -Iinclude -Isrc -Imodels -Iengine -Ikernels
# Objects live under $(O) (not beside $(B)/models, which holds the converted models).
O := $(B)/obj
$(O)/kernels/%.o: INC := $(INC_kernels)
$(O)/engine/%.o:  INC := $(INC_engine)
$(O)/models/%.o:  INC := $(INC_models)
$(O)/src/%.o:     INC := $(INC_src)
$(O)/src/cli/%.o: INC := $(INC_cli)

# Optional components (1 = built in). The core (engine, kernels, models, face pipeline,
# analysis) needs only libc and libm; IMAGE adds JPEG/PNG/WebP decoding (BMP is always there),
# VIDEO the libav* decoder and tracker, GALLERY the SQLite gallery and search.
# The faceid CLI needs all of them.
IMAGE   ?= 1
VIDEO   ?= 1
GALLERY ?= 1
# PDF pages (poppler-glib, GPL: see README) and http(s) URLs (libcurl): on when installed.
PDF     ?= $(shell pkg-config --exists poppler-glib cairo 2>/dev/null && echo 1 || echo 0)
URL     ?= $(shell pkg-config --exists libcurl 2>/dev/null && echo 1 || echo 0)
# LIBRARY: the archive index (src/library: SQLite + SHA-256 via nettle + JPEG thumbnails);
# needs GALLERY (search) and IMAGE (libjpeg).
LIBRARY ?= $(if $(filter 1,$(GALLERY)),$(if $(filter 1,$(IMAGE)),1,0),0)
# `faceid serve` (src/server: libmicrohttpd + jansson; needs IMAGE, VIDEO, GALLERY, LIBRARY):
# on when installed; SERVER=0 builds the CLI without it.
SERVER  ?= $(shell pkg-config --exists libmicrohttpd jansson 2>/dev/null && echo 1 || echo 0)
# PG: PostgreSQL stores (libpq) for galleries, the library and the server's job queue, named by
# postgresql:// URLs; on when installed.
PG      ?= $(shell pkg-config --exists libpq 2>/dev/null && echo 1 || echo 0)
SERVER_ON := $(if $(filter 1,$(SERVER)),$(if $(filter 1,$(IMAGE)),$(if $(filter 1,$(VIDEO)),$(if $(filter 1,$(GALLERY)),$(if $(filter 1,$(LIBRARY)),1)))))
PKGS    := $(if $(filter 1,$(IMAGE)),libjpeg libpng libwebp) \
           $(if $(filter 1,$(VIDEO)),libavformat libavcodec libswscale libavutil) \
           $(if $(filter 1,$(GALLERY)),sqlite3) $(if $(filter 1,$(LIBRARY)),nettle) \
           $(if $(filter 1,$(PDF)),poppler-glib cairo) $(if $(filter 1,$(URL)),libcurl) \
           $(if $(SERVER_ON),libmicrohttpd jansson) $(if $(filter 1,$(PG)),libpq)
PKG_LIBS := $(if $(strip $(PKGS)),$(shell pkg-config --libs $(PKGS) 2>/dev/null))
PKG_CFLAGS := $(if $(strip $(PKGS)),$(shell pkg-config --cflags $(PKGS) 2>/dev/null))
ifneq ($(IMAGE),1)
CFLAGS  += -DFID_NO_CODECS
endif
ifneq ($(VIDEO),1)
CFLAGS  += -DFID_NO_VIDEO
endif
ifneq ($(PDF),1)
CFLAGS  += -DFID_NO_PDF
endif
ifneq ($(URL),1)
CFLAGS  += -DFID_NO_URL
endif
ifneq ($(PG),1)
CFLAGS  += -DFID_NO_PG
endif
ifneq ($(SERVER_ON),1)
CFLAGS  += -DFID_NO_SERVER
endif
FULL    := $(if $(filter 1,$(IMAGE)),$(if $(filter 1,$(VIDEO)),$(if $(filter 1,$(GALLERY)),$(if $(filter 1,$(LIBRARY)),1))))

# Sources are picked up by folder: every .c in a component's folders.
SRC_DIRS := engine engine/ops kernels kernels/ref models src/face src/image src/media src/analysis src/util \
            src/schema src/store \
            $(if $(filter 1,$(VIDEO)),src/video) $(if $(filter 1,$(GALLERY)),src/gallery) \
            $(if $(SERVER_ON),src/server) \
            $(if $(filter 1,$(LIBRARY)),src/library)
LIB_SRC := $(foreach d,$(SRC_DIRS),$(wildcard $(d)/*.c))
# src/store holds every store's backends: the gallery's and the library's only with them.
LIB_SRC := $(filter-out $(if $(filter 1,$(GALLERY)),,src/store/gallery_%.c) \
                        $(if $(filter 1,$(LIBRARY)),,src/store/library_%.c),$(LIB_SRC))
ifeq ($(ARCH),x86_64)
LIB_SRC += $(wildcard kernels/x86/*.c)
endif
ifeq ($(ARCH),aarch64)
LIB_SRC += $(wildcard kernels/arm/*.c)
endif
LIB_OBJ := $(LIB_SRC:%.c=$(O)/%.o)
KERN_OBJ := $(filter $(O)/kernels/%,$(LIB_OBJ))
CLI_SRC := $(wildcard src/cli/*.c)
CLI_OBJ := $(CLI_SRC:%.c=$(O)/%.o)
TEST_SRC := $(wildcard tests/test_*.c tests/check_*.c)
TEST_BIN := $(TEST_SRC:tests/%.c=$(B)/tests/%)
BENCH_SRC := $(wildcard bench/bench_*.c)
BENCH_BIN := $(BENCH_SRC:bench/%.c=$(B)/bench/%)

AVX2_FLAGS   := -mavx2 -mfma -mf16c
AVX512_FLAGS := -mavx512f -mavx512cd -mavx512bw -mavx512dq -mavx512vl -mavx2 -mfma -mf16c

.PHONY: all lib test check asan tsan bench models golden neon clean demo fuzz
ifeq ($(FULL),1)
all: $(B)/faceid $(B)/libfaceid.so $(TEST_BIN) $(BENCH_BIN)
else
all: $(B)/libfaceid.a
endif
lib: $(B)/libfaceid.a $(B)/libfaceid.so

# Objects are rebuilt when the compiler or flags change (the stamp is rewritten only then).
FLAGS_STAMP := $(B)/.flags
$(FLAGS_STAMP): FORCE
	@mkdir -p $(B)
	@echo '$(CC) $(CFLAGS) $(PKG_CFLAGS) $(AVX512_FLAGS)' | cmp -s - $@ || \
	    echo '$(CC) $(CFLAGS) $(PKG_CFLAGS) $(AVX512_FLAGS)' > $@
.PHONY: FORCE
$(O)/%.o: %.c $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(INC) $(PKG_CFLAGS) -c $< -o $@
# One ISA per file, selected by the file name. Never -march=native.
$(O)/kernels/x86/%_avx2.o: kernels/x86/%_avx2.c $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(INC) $(AVX2_FLAGS) -c $< -o $@
$(O)/kernels/x86/%_avx512.o: kernels/x86/%_avx512.c $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(INC) $(AVX512_FLAGS) -c $< -o $@

$(B)/libfaceid.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^
# Shared library: only FID_API symbols are visible (-fvisibility=hidden), and the version
# script keeps the dynamic table to fid_* / faceid_*.
VERSION := $(shell sed -n 's/^\#define FACEID_VERSION "\(.*\)"/\1/p' include/faceid.h)
SOMAJOR := $(firstword $(subst ., ,$(VERSION)))
SONAME  := libfaceid.so.$(SOMAJOR)
SOFILE  := libfaceid.so.$(basename $(VERSION))
# The HTTP server is a front end of the faceid binary (hidden symbols): kept out of the .so, and
# --as-needed drops the libraries only it uses.
SO_OBJ  := $(filter-out $(O)/src/server/%,$(LIB_OBJ))
$(B)/libfaceid.so: $(SO_OBJ) tools/libfaceid.map
	$(CC) -shared -Wl,-soname,$(SONAME) -Wl,--version-script,tools/libfaceid.map -Wl,--no-undefined -Wl,--as-needed \
	    $(filter -fopenmp -fsanitize=%,$(CFLAGS)) -o $@ $(SO_OBJ) $(PKG_LIBS) $(LDLIBS)
$(B)/libkernels.a: $(KERN_OBJ)
	@rm -f $@
	ar rcs $@ $^
$(B)/faceid: $(CLI_OBJ) $(B)/libfaceid.a
	$(CC) $(CFLAGS) -o $@ $^ $(PKG_LIBS) $(LDLIBS)
$(B)/tests/%: tests/%.c $(B)/libfaceid.a tests/harness.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(INC_all) $(PKG_CFLAGS) -Itests -o $@ $< $(B)/libfaceid.a $(PKG_LIBS) $(LDLIBS)
$(B)/bench/%: bench/%.c $(B)/libfaceid.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(INC_all) $(PKG_CFLAGS) -Itests -Ibench -o $@ $< $(B)/libfaceid.a $(PKG_LIBS) $(LDLIBS)

# Converted models: every ONNX in $(MODELS_SRC) plus the generated architecture-exact ones.
models:
	$(PY) tools/make_models.py --src $(MODELS_SRC) --out $(B)/models

golden: models
	node tools/golden.js --onnx $(MODELS_SRC),$(MODELS_SRC)/faceplugin,$(B)/models/onnx --shared $(SHARED) --out $(B)/golden

# The test suite: unit tests, kernel checks at every ISA level, model parity vs onnxruntime.
# ... and then the same suite again under ASan+UBSan (small models only, FAST=1), at -O1:
# the sanitizers' recommended level, about 2x faster than -O0 on the model tests (CI time).
test: all models golden
	B=$(B) SHARED=$(SHARED) tests/run.sh
	$(MAKE) asan
	$(MAKE) tsan

check: test

asan:
	$(MAKE) B=build-asan SAN=address,undefined OPT=-O1 OMP=1 all
	B=build-asan SHARED=$(SHARED) MODELS=$(B)/models GOLDEN=$(B)/golden FAST=1 tests/run.sh

# ThreadSanitizer on the threading tests: the engine's pool, and two face pipelines in two
# threads re-planning their detectors at once. Any report fails (halt_on_error).
TSAN_TESTS := build-tsan/tests/test_pool build-tsan/tests/test_threads
tsan:
	$(MAKE) B=build-tsan SAN=thread OMP=0 VIDEO=0 GALLERY=0 PDF=0 URL=0 $(TSAN_TESTS)
	TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" build-tsan/tests/test_pool
	TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" SHARED=$(SHARED) \
	    MODELS=$(B)/models build-tsan/tests/test_threads

# NEON kernels: cross-compiled for aarch64 and run under qemu-user (NEON_B: its own tree, so
# parallel runs from different worktrees or jobs do not collide).
NEON_B  ?= build-neon
neon:
	$(MAKE) B=$(NEON_B) CC=aarch64-linux-gnu-gcc ARCH=aarch64 OMP=0 PKG_LIBS= PKG_CFLAGS= \
	    $(NEON_B)/libkernels.a
	@mkdir -p $(NEON_B)/tests
	aarch64-linux-gnu-gcc $(filter-out -fopenmp,$(CFLAGS)) $(INC_kernels) -Itests -o $(NEON_B)/tests/check_kernels \
	    tests/check_kernels.c $(NEON_B)/libkernels.a -lm
	qemu-aarch64 -L /usr/aarch64-linux-gnu $(NEON_B)/tests/check_kernels

# libFuzzer harnesses (clang, ASan+UBSan), kept out of `make test`: FUZZ_TIME seconds each.
FUZZ_B  ?= build-fuzz
FUZZ_TIME ?= 60
fuzz:
	$(MAKE) B=$(FUZZ_B) CC=clang SAN=fuzzer-no-link,address,undefined OMP=0 $(FUZZ_B)/libfaceid.a
	@mkdir -p $(FUZZ_B)/fuzz
	for f in tests/fuzz/fuzz_*.c; do \
	    clang $(filter-out -fopenmp,$(CFLAGS)) $(INC_all) $(PKG_CFLAGS) -fsanitize=fuzzer,address,undefined -Itests/fuzz \
	        -o $(FUZZ_B)/fuzz/$$(basename $$f .c) $$f $(FUZZ_B)/libfaceid.a $(PKG_LIBS) -lm || exit 1; \
	done
	FUZZ_B=$(FUZZ_B) SHARED=$(SHARED) FUZZ_TIME=$(FUZZ_TIME) ONLY=$(ONLY) tests/fuzz/run.sh

bench: all models
	B=$(B) SHARED=$(SHARED) bench/run.sh

# Install (PREFIX, DESTDIR as usual). Installed code finds models in
# $(PREFIX)/share/faceid/models by its own location (src/face/models_dir.c).
PREFIX  ?= /usr/local
LIBDIR  ?= $(PREFIX)/lib
DEST    := $(DESTDIR)$(PREFIX)
PYDIR   ?= $(PREFIX)/lib/python3/dist-packages
.PHONY: install install-models install-python uninstall
install: $(B)/faceid $(B)/libfaceid.a $(B)/libfaceid.so
	install -d $(DEST)/bin $(DESTDIR)$(LIBDIR)/pkgconfig $(DEST)/include \
	    $(DEST)/share/faceid/models $(DEST)/share/man/man1 $(DEST)/share/bash-completion/completions
	$(B)/faceid help --man > $(DEST)/share/man/man1/faceid.1
	$(B)/faceid help --completion > $(DEST)/share/bash-completion/completions/faceid
	install -m 755 $(B)/faceid $(DEST)/bin/faceid
	install -m 644 $(B)/libfaceid.a $(DESTDIR)$(LIBDIR)/libfaceid.a
	install -m 755 $(B)/libfaceid.so $(DESTDIR)$(LIBDIR)/$(SOFILE)
	ln -sf $(SOFILE) $(DESTDIR)$(LIBDIR)/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(LIBDIR)/libfaceid.so
	install -m 644 include/faceid.h $(DEST)/include/faceid.h
	sed -e 's|@PREFIX@|$(PREFIX)|; s|@LIBDIR@|$(LIBDIR)|; s|@VERSION@|$(VERSION)|' \
	    -e 's|@REQUIRES@|$(strip $(PKGS))|; s|@LIBS@|$(filter-out -fopenmp,$(LDLIBS))$(if $(filter 1,$(OMP)), -fopenmp)|' \
	    tools/faceid.pc.in > $(DESTDIR)$(LIBDIR)/pkgconfig/faceid.pc
# Converted models (make models first) into the directory the installed code looks in.
install-models:
	install -d $(DEST)/share/faceid/models
	install -m 644 $(B)/models/*.fidw $(DEST)/share/faceid/models/
# The Python package (ctypes over the installed libfaceid.so.0; numpy): import faceid.
install-python: install
	install -d $(DESTDIR)$(PYDIR)/faceid
	install -m 644 python/faceid/*.py $(DESTDIR)$(PYDIR)/faceid/
uninstall:
	rm -rf $(DESTDIR)$(PYDIR)/faceid
	rm -f $(DEST)/bin/faceid $(DESTDIR)$(LIBDIR)/libfaceid.a $(DESTDIR)$(LIBDIR)/$(SOFILE) \
	    $(DESTDIR)$(LIBDIR)/$(SONAME) $(DESTDIR)$(LIBDIR)/libfaceid.so \
	    $(DESTDIR)$(LIBDIR)/pkgconfig/faceid.pc $(DEST)/include/faceid.h \
	    $(DEST)/share/man/man1/faceid.1 $(DEST)/share/bash-completion/completions/faceid
	rm -rf $(DEST)/share/faceid

clean:
	rm -rf build build-asan build-tsan $(NEON_B)

-include $(shell find $(B) -name '*.d' 2>/dev/null)

# Quick start: install what is missing, build, convert the models, run the demo job.
demo:
	.ci/setup
	$(MAKE) all golden
	B=$(B) SHARED=$(SHARED) tools/demo.sh
