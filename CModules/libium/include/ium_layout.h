/* SPDX-License-Identifier: Apache-2.0 OR BSD-2-Clause */
#ifndef IUM_LAYOUT_H
#define IUM_LAYOUT_H
#include "ntddk.h"
#include <stdint.h>
#ifdef __cplusplus
extern "C" {
#endif
/* The bit of PROCESS_EXTENDED_BASIC_INFORMATION.Flags that the named bitfield occupies
 * (-1 for an unknown name). Used by the ABI tests; not part of the NT API. */
int ium_pebi_flag_bit(const char *name);

/* The STATUS_* and access-right macros of ntddk.h, by name. Used by the ABI tests. */
struct ium_abi_constant {
    const char *name;
    uint32_t value;
};
unsigned ium_abi_constant_count(void);
struct ium_abi_constant ium_abi_constant_at(unsigned index);
#ifdef __cplusplus
}
#endif
#endif
