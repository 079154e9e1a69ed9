/* SPDX-License-Identifier: Apache-2.0 OR BSD-2-Clause */
/*
 * The layout pins of ntddk.h run whenever this library is compiled. The ABI tests read the
 * bit positions of the Flags union through ium_pebi_flag_bit(), which sets one named
 * bitfield in a zeroed structure and reports which bit of Flags it landed on.
 */
#include "ium_layout.h"

#include <string.h>

int ium_pebi_flag_bit(const char *name) {
    PROCESS_EXTENDED_BASIC_INFORMATION info;
    memset(&info, 0, sizeof info);
#define IUM_TRY(field)                                  \
    if (__builtin_strcmp(name, #field) == 0) {          \
        info.field = 1;                                 \
        return info.Flags ? __builtin_ctz(info.Flags) : -1; \
    }
    IUM_TRY(IsProtectedProcess)
    IUM_TRY(IsWow64Process)
    IUM_TRY(IsProcessDeleting)
    IUM_TRY(IsCrossSessionCreate)
    IUM_TRY(IsFrozen)
    IUM_TRY(IsBackground)
    IUM_TRY(IsStronglyNamed)
    IUM_TRY(IsSecureProcess)
    IUM_TRY(IsSubsystemProcess)
#undef IUM_TRY
    if (__builtin_strcmp(name, "SpareBits") == 0) {
        info.SpareBits = 1;
        return __builtin_ctz(info.Flags);
    }
    return -1;
}
