/* SPDX-License-Identifier: Apache-2.0 OR BSD-2-Clause */
#ifndef IUM_LAYOUT_H
#define IUM_LAYOUT_H
#include "ntddk.h"
#ifdef __cplusplus
extern "C" {
#endif
/* The bit of PROCESS_EXTENDED_BASIC_INFORMATION.Flags that the named bitfield occupies
 * (-1 for an unknown name). Used by the ABI tests; not part of the NT API. */
int ium_pebi_flag_bit(const char *name);
#ifdef __cplusplus
}
#endif
#endif
