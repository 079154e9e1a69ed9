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

/* Every STATUS_* and PROCESS_* macro with its value, for the ABI tests (Swift cannot import
 * macros that cast a literal above INT32_MAX to NTSTATUS). */
#define IUM_CONSTANT(name) {#name, (uint32_t)(name)}
static const struct ium_abi_constant ium_abi_constants[] = {
    IUM_CONSTANT(STATUS_SUCCESS), IUM_CONSTANT(STATUS_PENDING),
    IUM_CONSTANT(STATUS_DATATYPE_MISALIGNMENT), IUM_CONSTANT(STATUS_NOT_IMPLEMENTED),
    IUM_CONSTANT(STATUS_INVALID_INFO_CLASS), IUM_CONSTANT(STATUS_INFO_LENGTH_MISMATCH),
    IUM_CONSTANT(STATUS_ACCESS_VIOLATION), IUM_CONSTANT(STATUS_INVALID_HANDLE),
    IUM_CONSTANT(STATUS_INVALID_CID), IUM_CONSTANT(STATUS_INVALID_PARAMETER),
    IUM_CONSTANT(STATUS_ACCESS_DENIED), IUM_CONSTANT(STATUS_OBJECT_TYPE_MISMATCH),
    IUM_CONSTANT(STATUS_INVALID_PARAMETER_MIX), IUM_CONSTANT(STATUS_INSUFFICIENT_RESOURCES),
    IUM_CONSTANT(STATUS_DEVICE_NOT_READY), IUM_CONSTANT(STATUS_PROCESS_IS_TERMINATING),
    IUM_CONSTANT(STATUS_PORT_NOT_SET), IUM_CONSTANT(STATUS_NOT_SUPPORTED),
    IUM_CONSTANT(PROCESS_TERMINATE), IUM_CONSTANT(PROCESS_CREATE_THREAD),
    IUM_CONSTANT(PROCESS_SET_SESSIONID), IUM_CONSTANT(PROCESS_VM_OPERATION),
    IUM_CONSTANT(PROCESS_VM_READ), IUM_CONSTANT(PROCESS_VM_WRITE), IUM_CONSTANT(PROCESS_DUP_HANDLE),
    IUM_CONSTANT(PROCESS_CREATE_PROCESS), IUM_CONSTANT(PROCESS_SET_QUOTA),
    IUM_CONSTANT(PROCESS_SET_INFORMATION), IUM_CONSTANT(PROCESS_QUERY_INFORMATION),
    IUM_CONSTANT(PROCESS_SUSPEND_RESUME), IUM_CONSTANT(PROCESS_QUERY_LIMITED_INFORMATION),
    IUM_CONSTANT(PROCESS_SET_LIMITED_INFORMATION), IUM_CONSTANT(PROCESS_ALL_ACCESS),
    IUM_CONSTANT(DELETE), IUM_CONSTANT(READ_CONTROL), IUM_CONSTANT(WRITE_DAC), IUM_CONSTANT(WRITE_OWNER),
    IUM_CONSTANT(SYNCHRONIZE), IUM_CONSTANT(MAXIMUM_ALLOWED), IUM_CONSTANT(GENERIC_READ),
    IUM_CONSTANT(GENERIC_WRITE), IUM_CONSTANT(GENERIC_EXECUTE), IUM_CONSTANT(GENERIC_ALL),
};
unsigned ium_abi_constant_count(void) { return sizeof ium_abi_constants / sizeof ium_abi_constants[0]; }
struct ium_abi_constant ium_abi_constant_at(unsigned index) { return ium_abi_constants[index]; }
