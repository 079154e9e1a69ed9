/* SPDX-License-Identifier: Apache-2.0 OR BSD-2-Clause */
/*
 * lifecycle_ring.h — the one reader of the guard's lifecycle ring (guard_abi.h): iumd maps
 * ium_lifecycle_ring read-only and, for each CPU, reads the records between where it stopped
 * and that CPU's head. The guard never waits for it, so a record iumd was too slow for is
 * overwritten: the reader counts it lost instead of returning a torn or newer record.
 */
#ifndef IUM_LIFECYCLE_RING_H
#define IUM_LIFECYCLE_RING_H

#include "guard_abi.h"

#include <stdint.h>
#include <string.h>

/* How many records CPU `cpu` has written (its head). */
static inline uint64_t ium_lifecycle_head(const volatile struct ium_lifecycle_slot *ring, uint32_t cpu) {
    return __atomic_load_n(&ring[cpu * (IUM_LIFECYCLE_SLOTS + 1)].seq, __ATOMIC_ACQUIRE);
}

/* Record `index` of CPU `cpu` into *out: 1 when the slot holds it, complete and unchanged
 * around the copy; 0 when the guard has overwritten it (or is overwriting it with a later
 * record): it is lost; -1 when the guard has reserved it (the head counts it) but not
 * finished writing it: ask again later. */
static inline int ium_lifecycle_read(const volatile struct ium_lifecycle_slot *ring, uint32_t cpu, uint64_t index,
                                     struct ium_lifecycle *out) {
    const volatile struct ium_lifecycle_slot *slot = &ring[ium_lifecycle_entry(cpu, index)];
    uint64_t seq = __atomic_load_n(&slot->seq, __ATOMIC_ACQUIRE);
    if (seq != index + 1) return seq > index + 1 ? 0 : -1;
    memcpy(out, (const void *)&slot->record, sizeof *out);
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    return __atomic_load_n(&slot->seq, __ATOMIC_RELAXED) == index + 1;
}

#endif
