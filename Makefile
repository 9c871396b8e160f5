# SPDX-License-Identifier: GPL-2.0-only
# virtsync build. `make run` and `make check` are the two entry points; both
# install missing Debian packages first (`make deps`: what run needs;
# `make check-deps`: that and what the tests need).

VERSION    := 0.1.0
OUTPUT     ?= .output
PREFIX     ?= /usr/local
# systemd reads units from /usr/local/lib/systemd/system too
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
DESTDIR    ?=
CC         ?= cc
CLANG      ?= clang
BPFTOOL    ?= bpftool
WERROR     ?= 1
SAN        ?= 0

ARCH := $(shell uname -m | sed 's/x86_64/x86/' | sed 's/aarch64/arm64/' \
	| sed 's/ppc64le/powerpc/' | sed 's/s390x/s390/' | sed 's/riscv64/riscv/')

ifeq ($(V),1)
Q =
msg =
else
Q = @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

WARNINGS := -Wall -Wextra -Wformat=2 -Wmissing-prototypes -Wstrict-prototypes \
	-Wundef -Wshadow -Wno-unused-parameter -Wno-missing-field-initializers
ifeq ($(WERROR),1)
WARNINGS += -Werror
endif

CFLAGS   ?= -O2 -g
CPPFLAGS += -D_GNU_SOURCE -DVS_VERSION='"$(VERSION)"' \
	-DVS_DATADIR='"$(PREFIX)/share/virtsync"' -I. -Ilib -I$(OUTPUT)
ALL_CFLAGS = $(CFLAGS) $(WARNINGS) -std=gnu11 -MMD -MP
LDLIBS   := -ljansson -lbpf -lelf -lz -lcpupower -lnuma -lpthread -lm

# Debian's hardening flags (dpkg-buildflags, hardening=+all), on by default
# for everything that links against libc; the guest image has its own flags
# (GUEST_CFLAGS). FORTIFY_SOURCE needs optimisation and is left out of the
# sanitizer build, whose interceptors do the same checks.
HARDEN ?= 1
ifeq ($(HARDEN),1)
ALL_CFLAGS += -fstack-protector-strong -fstack-clash-protection -fcf-protection \
	-Wformat -Werror=format-security
ifneq ($(SAN),1)
ALL_CFLAGS += -U_FORTIFY_SOURCE -D_FORTIFY_SOURCE=2
endif
LDFLAGS += -Wl,-z,relro,-z,now
endif

ifeq ($(SAN),1)
ALL_CFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=undefined
LDFLAGS += -fsanitize=address,undefined
endif

# Every lib/ and tools/ source is picked up by wildcard, so a new module needs
# no Makefile edit; special builds (BPF, guest payload) have sections below.
LIB_SRCS   := $(sort $(wildcard lib/*.c lib/*/*.c))
TOOL_SRCS  := $(sort $(wildcard tools/*.c))
UNIT_SRCS  := $(sort $(wildcard tests/unit/test-*.c))
BENCH_SRCS := $(sort $(wildcard bench/*.c))
LIB_OBJS   := $(patsubst %.c,$(OUTPUT)/%.o,$(LIB_SRCS))
TOOL_OBJS  := $(patsubst %.c,$(OUTPUT)/%.o,$(TOOL_SRCS))
UNIT_BINS  := $(patsubst tests/unit/%.c,$(OUTPUT)/tests/%,$(UNIT_SRCS))
BENCH_BINS := $(patsubst bench/%.c,$(OUTPUT)/bench/%,$(BENCH_SRCS))
LIBVS      := $(OUTPUT)/libvirtsync.a
BIN        := $(OUTPUT)/virtsync
# The same binary with the test hooks (fault injection) compiled in, for the
# tests only: FAULT_SRCS are rebuilt with VS_FAULT_INJECTION and linked
# ahead of the library, whose own objects for them are then never pulled.
FAULTS_BIN := $(OUTPUT)/virtsync-faults
FAULT_SRCS := lib/tune/apply.c
FAULT_OBJS := $(patsubst %.c,$(OUTPUT)/faults/%.o,$(FAULT_SRCS))

# Extra objects linked into the binary (generated payloads) and headers that
# must exist before any C file compiles (skeletons); sections below append.
EXTRA_OBJS :=
GEN_HDRS   := $(OUTPUT)/commands.h

# `make run` builds the binary and boots the test guest (QEMU, busybox) to
# diagnose it; `make check` also needs what only the tests use: cmocka (unit
# tests), man (man-page checks), perf, the sanitizer runtime, python3 (the
# guest's far end, the include check), chromium (rendered reports), tuned,
# virsh, xmllint and prometheus (comparisons and exports).
RUN_PACKAGES := libbpf-dev bpftool clang llvm libcpupower-dev libnuma-dev \
	libjansson-dev libelf-dev zlib1g-dev pkg-config make gcc \
	qemu-system-x86 busybox-static
CHECK_PACKAGES := $(RUN_PACKAGES) libcmocka-dev man-db groff-base linux-perf \
	libclang-rt-14-dev python3 chromium tuned libvirt-clients libxml2-utils \
	prometheus

.DELETE_ON_ERROR:
.SECONDARY:
.PHONY: all deps check-deps run check unit-check san-check install clean bench

all: $(BIN) $(FAULTS_BIN) $(UNIT_BINS) $(BENCH_BINS)

deps:
	$(Q)./tests/deps.sh $(RUN_PACKAGES)

check-deps:
	$(Q)./tests/deps.sh $(CHECK_PACKAGES)

# With no VM on this host, `make run` boots the test guest and diagnoses it
# (tests/guest/make-run.sh); without QEMU or the Debian archive it says so
# and diagnoses the reference device.
run: deps
	$(Q)$(MAKE) --no-print-directory $(BIN)
	$(Q)./tests/guest/make-run.sh $(abspath $(BIN))

check: check-deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)$(MAKE) --no-print-directory SAN=1 OUTPUT=.output-san WERROR=$(WERROR) \
		unit-bins
	$(Q)VIRTSYNC_BIN=$(abspath $(BIN)) ./tests/run.sh \
		--unit $(OUTPUT)/tests --unit-san .output-san/tests \
		--integration tests/integration

unit-bins: $(UNIT_BINS)

bench: $(BIN) $(BENCH_BINS)

$(OUTPUT) $(OUTPUT)/lib $(OUTPUT)/tools $(OUTPUT)/tests $(OUTPUT)/bench:
	$(Q)mkdir -p $@

# The subcommand table is generated from VS_COMMAND() lines in tools/*.c so
# that adding a subcommand touches one file.
$(OUTPUT)/commands.h: $(TOOL_SRCS) tools/gen-commands.sh | $(OUTPUT)
	$(call msg,GEN,$@)
	$(Q)./tools/gen-commands.sh $(TOOL_SRCS) > $@

# Objects depend on the flags they were built with, so turning HARDEN or SAN
# on or off rebuilds them instead of linking stale ones.
BUILD_FLAGS := $(CC) $(CPPFLAGS) $(ALL_CFLAGS) $(LDFLAGS)
$(OUTPUT)/build-flags: FORCE | $(OUTPUT)
	$(Q)echo '$(BUILD_FLAGS)' | cmp -s - $@ || echo '$(BUILD_FLAGS)' > $@
.PHONY: FORCE
FORCE:

$(OUTPUT)/%.o: %.c $(OUTPUT)/build-flags | $(GEN_HDRS)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -c $< -o $@

$(LIBVS): $(LIB_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(BIN): $(TOOL_OBJS) $(EXTRA_OBJS) $(LIBVS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) $(TOOL_OBJS) $(EXTRA_OBJS) $(LIBVS) $(LDLIBS) -o $@

$(OUTPUT)/faults/%.o: %.c $(OUTPUT)/build-flags | $(GEN_HDRS)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CPPFLAGS) -DVS_FAULT_INJECTION $(ALL_CFLAGS) -c $< -o $@

$(FAULTS_BIN): $(TOOL_OBJS) $(FAULT_OBJS) $(EXTRA_OBJS) $(LIBVS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) $(TOOL_OBJS) $(FAULT_OBJS) $(EXTRA_OBJS) $(LIBVS) $(LDLIBS) -o $@

$(OUTPUT)/tests/%: tests/unit/%.c $(LIBVS) $(EXTRA_OBJS) | $(GEN_HDRS) $(OUTPUT)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) $(CPPFLAGS) -Itests/unit $(ALL_CFLAGS) $(LDFLAGS) $< $(EXTRA_OBJS) \
		$(LIBVS) -lcmocka $(LDLIBS) -o $@

$(OUTPUT)/bench/%: bench/%.c $(LIBVS) | $(GEN_HDRS) $(OUTPUT)/bench
	$(call msg,CC,$@)
	$(Q)$(CC) $(CPPFLAGS) $(ALL_CFLAGS) $(LDFLAGS) $< $(LIBVS) $(LDLIBS) -o $@

# --- BPF probes (bpf/<probe>.bpf.c + bpf/<probe>.h) -----------------------
# vmlinux.h is generated from the running kernel's BTF (CO-RE makes the
# objects portable). The pattern rules above expanded GEN_HDRS when make read
# them, so the files that include a skeleton name it as a prerequisite here.
BPF_PROBES := vsprobe
VMLINUX    := $(OUTPUT)/vmlinux.h
BTF_SRC    ?= /sys/kernel/btf/vmlinux
BPF_SKELS  := $(patsubst %,$(OUTPUT)/%.skel.h,$(BPF_PROBES))
BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -I$(OUTPUT) -Ibpf \
	-Wall -Wno-unused-function
ifeq ($(WERROR),1)
BPF_CFLAGS += -Werror
endif

$(VMLINUX): | $(OUTPUT)
	$(call msg,GEN,$@)
	$(Q)$(BPFTOOL) btf dump file $(BTF_SRC) format c > $@

$(OUTPUT)/vsprobe.bpf.o: bpf/vsprobe.bpf.c bpf/vsprobe.h bpf/exitlat.h $(VMLINUX) | $(OUTPUT)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(OUTPUT)/%.skel.h: $(OUTPUT)/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< > $@

$(OUTPUT)/lib/sources/probe.o $(OUTPUT)/lib/sources/probe-bpf.o: $(OUTPUT)/vsprobe.skel.h



# --- reference device guest payload (lib/pcdev/guest/) ----------------------

# A freestanding 64-bit image that the kvm backend loads into its VM: built
# with its own flags (no libc, no PIC, no SSE, no red zone: interrupts run on
# the same stack), flattened, and embedded with .incbin.
GUEST_DIR    := $(OUTPUT)/guest
GUEST_SRCS   := lib/pcdev/guest/entry.S lib/pcdev/guest/main.c
GUEST_CFLAGS := -O2 -g -std=gnu11 -Wall -Wextra -Werror -Wno-unused-parameter \
	-ffreestanding -nostdlib -fno-pic -fno-pie -no-pie -static -mno-red-zone \
	-mgeneral-regs-only -fno-stack-protector -fcf-protection=none \
	-fno-asynchronous-unwind-tables -fno-exceptions -Wl,--build-id=none \
	-Wl,-z,noexecstack -Wl,-z,norelro -Wl,--no-warn-rwx-segments -Wl,-T,lib/pcdev/guest/guest.ld
GUEST_OBJ    := $(GUEST_DIR)/pcdev-guest-blob.o
EXTRA_OBJS   += $(GUEST_OBJ)

$(GUEST_DIR):
	$(Q)mkdir -p $@

$(GUEST_DIR)/pcdev-guest.elf: $(GUEST_SRCS) lib/pcdev/guest/abi.h \
		lib/pcdev/ring.h lib/pcdev/guest/guest.ld | $(GUEST_DIR)
	$(call msg,GUEST,$@)
	$(Q)$(CC) $(GUEST_CFLAGS) $(GUEST_SRCS) -o $@

$(GUEST_DIR)/pcdev-guest.bin: $(GUEST_DIR)/pcdev-guest.elf
	$(call msg,OBJCOPY,$@)
	$(Q)objcopy -O binary $< $@

$(GUEST_OBJ): lib/pcdev/guest/blob.S $(GUEST_DIR)/pcdev-guest.bin
	$(call msg,AS,$@)
	$(Q)$(CC) -c -I$(GUEST_DIR) $< -o $@

# bench/ binaries link only the library: archive the image into it too, so a
# benchmark that runs the kvm backend finds the image.
$(LIBVS): $(GUEST_OBJ)


# --- the test guest: a real Linux guest under QEMU (tests/guest/) ----------
# Debian's stock kernel, fetched once into $(LG_CACHE) (never committed),
# and an initramfs of busybox-static, our vsload workload (static) and the
# virtio modules. tests/guest/guest.sh starts it; tests and `make run` use
# it. `make linux-guest` builds it; the harness builds it on demand.
LG_CACHE  := $(OUTPUT)/guest-cache
LG_DIR    := $(OUTPUT)/linux-guest
LG_INITRD := $(LG_DIR)/initramfs.cpio.gz
BUSYBOX   ?= /bin/busybox
.PHONY: linux-guest
linux-guest: $(LG_INITRD)

$(LG_CACHE)/vmlinuz: tests/guest/fetch-kernel.sh
	$(call msg,FETCH,$@)
	$(Q)./tests/guest/fetch-kernel.sh $(LG_CACHE)

$(LG_DIR)/vsload: tests/guest/vsload.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) -static -O2 -std=gnu11 -D_GNU_SOURCE $(WARNINGS) $< -o $@

$(LG_INITRD): $(LG_CACHE)/vmlinuz $(LG_DIR)/vsload tests/guest/init.sh
	$(call msg,CPIO,$@)
	$(Q)[ -x $(BUSYBOX) ] || { echo "$(BUSYBOX) missing: make deps installs busybox-static" >&2; exit 1; }
	$(Q)rm -rf $(LG_DIR)/root && mkdir -p $(LG_DIR)/root/bin $(LG_DIR)/root/lib/modules \
		$(LG_DIR)/root/proc $(LG_DIR)/root/sys $(LG_DIR)/root/dev
	$(Q)cp $(BUSYBOX) $(LG_DIR)/root/bin/busybox
	$(Q)cp tests/guest/init.sh $(LG_DIR)/root/init
	$(Q)cp $(LG_DIR)/vsload $(LG_DIR)/root/bin/vsload
	$(Q)cp $(LG_CACHE)/modules/*.ko $(LG_DIR)/root/lib/modules/
	$(Q)cd $(LG_DIR)/root && find . | $(BUSYBOX) cpio -o -H newc -R 0:0 2>/dev/null \
		| gzip -1 >../initramfs.cpio.gz.new
	$(Q)mv $@.new $@ && rm -rf $(LG_DIR)/root


# --- install ---------------------------------------------------------------

install: $(BIN)
	install -d $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(PREFIX)/share/man/man8 \
		$(DESTDIR)$(PREFIX)/share/virtsync/profiles \
		$(DESTDIR)$(PREFIX)/share/bash-completion/completions
	install -m 0755 $(BIN) $(DESTDIR)$(PREFIX)/sbin/virtsync
	install -m 0644 man/*.8 $(DESTDIR)$(PREFIX)/share/man/man8/
	install -m 0644 tools/completion/virtsync.bash \
		$(DESTDIR)$(PREFIX)/share/bash-completion/completions/virtsync
	for f in profiles/*.json; do [ -e "$$f" ] || continue; \
		install -m 0644 "$$f" $(DESTDIR)$(PREFIX)/share/virtsync/profiles/; done
	install -d $(DESTDIR)$(SYSTEMDUNITDIR)
	sed 's|@SBINDIR@|$(PREFIX)/sbin|g' systemd/virtsync-watch.service.in \
		> $(DESTDIR)$(SYSTEMDUNITDIR)/virtsync-watch.service
	chmod 0644 $(DESTDIR)$(SYSTEMDUNITDIR)/virtsync-watch.service

clean:
	rm -rf .output .output-san

-include $(shell find $(OUTPUT) -name '*.d' 2>/dev/null)

# --- fuzzing (tuning engine: profile and plan parsers) ---------------------
# libFuzzer from clang's compiler-rt (Debian: libclang-rt-14-dev). New inputs
# go to $(OUTPUT)/fuzz-corpus; tests/fuzz/corpus/ is the seed corpus that
# `make check` replays (tests/unit/test-fuzz-corpus.c).
FUZZ_TIME ?= 60
FUZZ_SRCS := tests/fuzz/fuzz-profile.c lib/tune/profile.c $(wildcard lib/knobs/*.c) \
	lib/core/sysfs.c lib/core/units.c lib/core/errmsg.c lib/core/cpuonline.c \
	lib/sources/qmp.c
.PHONY: fuzz
$(OUTPUT)/fuzz-profile: $(FUZZ_SRCS) $(wildcard lib/*/*.h) | $(OUTPUT)
	$(call msg,FUZZ,$@)
	$(Q)$(CLANG) -g -O1 -fsanitize=fuzzer,address,undefined $(CPPFLAGS) \
		$(FUZZ_SRCS) -ljansson -o $@
fuzz: $(OUTPUT)/fuzz-profile
	$(Q)mkdir -p $(OUTPUT)/fuzz-corpus
	$(Q)$< -max_total_time=$(FUZZ_TIME) -timeout=5 $(OUTPUT)/fuzz-corpus tests/fuzz/corpus
