/* SPDX-License-Identifier: Apache-2.0 */
#include "guard_skeleton.h"

#include <errno.h>
#include <guard_abi.h>
#include <stdlib.h>

#if !__has_include("generated/ium_guard_lsm.skel.h") || !__has_include("generated/ium_guard_kill.skel.h")
#error "the guard's skeletons are missing: build with make (it compiles bpf/guard.bpf.c and runs bpftool gen skeleton)"
#endif
#include "generated/ium_guard_lsm.skel.h"
#include "generated/ium_guard_kill.skel.h"

struct ium_guard_object {
    __u32 backend;
    struct bpf_object *obj;
    void *skeleton;
};

/* One lifecycle ring per possible CPU (guard_abi.h). */
static void size_lifecycle_ring(struct bpf_map *ring) {
    int cpus = libbpf_num_possible_cpus();
    if (cpus > 0) bpf_map__set_max_entries(ring, (__u32)cpus * (IUM_LIFECYCLE_SLOTS + 1));
}

struct ium_guard_object *ium_guard_object_open(unsigned int backend, unsigned int lifecycle_events,
                                               unsigned int uprobe_pmu, unsigned int kprobe_pmu) {
    const struct ium_settings values = {
        .backend = backend, .lifecycle_events = lifecycle_events, .uprobe_pmu = uprobe_pmu, .kprobe_pmu = kprobe_pmu,
    };
    const struct ium_settings *settings = &values;
    struct ium_guard_object *guard = calloc(1, sizeof *guard);
    if (!guard) return NULL;
    guard->backend = backend;
    if (backend == IUM_BACKEND_LSM) {
        struct ium_guard_lsm *skel = ium_guard_lsm__open();
        if (skel) {
            skel->rodata->settings = *settings;
            size_lifecycle_ring(skel->maps.ium_lifecycle_ring);
            guard->obj = skel->obj;
            guard->skeleton = skel;
        }
    } else if (backend == IUM_BACKEND_KILL) {
        struct ium_guard_kill *skel = ium_guard_kill__open();
        if (skel) {
            skel->rodata->settings = *settings;
            size_lifecycle_ring(skel->maps.ium_lifecycle_ring);
            guard->obj = skel->obj;
            guard->skeleton = skel;
        }
    } else {
        errno = EINVAL;
    }
    if (!guard->skeleton) {
        int e = errno;
        free(guard);
        errno = e;
        return NULL;
    }
    return guard;
}

struct bpf_object *ium_guard_object_bpf(const struct ium_guard_object *guard) { return guard->obj; }

void ium_guard_object_close(struct ium_guard_object *guard) {
    if (!guard) return;
    if (guard->backend == IUM_BACKEND_LSM) ium_guard_lsm__destroy(guard->skeleton);
    else ium_guard_kill__destroy(guard->skeleton);
    free(guard);
}
