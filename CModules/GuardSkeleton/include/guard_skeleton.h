/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The guard's two BPF objects (bpf/guard.bpf.c built with -DIUM_LSM and -DIUM_KILL), embedded
 * in this binary by the skeletons `bpftool gen skeleton` generates (make bpf): iumd carries
 * its own programs, nothing is looked up on disk. This is the only code that touches the
 * skeletons; KernelGuard drives the object through libbpf.
 */
#ifndef IUM_GUARD_SKELETON_H
#define IUM_GUARD_SKELETON_H

#include <bpf/libbpf.h>

struct ium_guard_object;

/* Opens (does not load) the object of a backend (enum ium_backend of guard_abi.h) from the
 * embedded bytes, with its settings (.rodata, struct ium_settings) set. NULL with errno. */
struct ium_guard_object *ium_guard_object_open(unsigned int backend, unsigned int lifecycle_events,
                                               unsigned int uprobe_pmu, unsigned int kprobe_pmu);

/* The libbpf object, to load, attach and pin. */
struct bpf_object *ium_guard_object_bpf(const struct ium_guard_object *guard);

/* Frees the object (programs, maps and links not pinned elsewhere go with it). */
void ium_guard_object_close(struct ium_guard_object *guard);

#endif
