# llm_ext — PGXS build.
#
#   make && make install && make installcheck
#
# The engine (src/engine, no PostgreSQL headers) and the glue (src/*.c) are
# linked into one shared library.  Engine unit tests, fuzzers and the other
# suites are run by scripts/test; `make installcheck` runs pg_regress.

EXTENSION = llm_ext
EXTVERSION = 0.1.0
MODULE_big = llm_ext

GLUE_SRCS = $(wildcard src/*.c)
ENGINE_SRCS = $(wildcard src/engine/*.c)
OBJS = $(GLUE_SRCS:.c=.o) $(ENGINE_SRCS:.c=.o)

DATA = sql/llm_ext--$(EXTVERSION).sql
REGRESS = tokenize models errors generate structured
REGRESS_OPTS = --inputdir=. --load-extension=$(EXTENSION)

PG_CPPFLAGS = -Isrc/engine -Isrc
PG_CFLAGS = -std=gnu11 -Wno-declaration-after-statement
SHLIB_LINK = -lcjson -lopenblas -lm -lpthread

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# The model directory the extension looks in by default (llm.model_dir).
MODEL_DIR = $(DESTDIR)$(datadir)/$(EXTENSION)/models

install: install-model-dir
install-model-dir:
	$(MKDIR_P) '$(MODEL_DIR)'

.PHONY: install-model-dir
