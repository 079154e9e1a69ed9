/* SPDX-License-Identifier: Apache-2.0 OR BSD-2-Clause */
/*
 * ntddk.h — the subset of the Windows Driver Kit's ntddk.h that ium implements on Linux.
 *
 * WDK-style code that asks whether a process is secure (Microsoft's IsSecureProcess sample,
 * in examples/) compiles unchanged against this header and links with -lium. Layouts are the
 * x64 (LP64) ones: HANDLE, PVOID, SIZE_T and ULONG_PTR are 8 bytes; ULONG, LONG, NTSTATUS
 * and KPRIORITY are 4 bytes (so ULONG is `unsigned int` here, not `unsigned long`). Every
 * size and offset is pinned by a static assertion at the end of this file.
 *
 * Sources: WDK 10.0.15063 ntddk.h (PROCESS_EXTENDED_BASIC_INFORMATION), phnt ntpsapi.h
 * (PROCESSINFOCLASS numbering), winnt.h (access rights), ntstatus.h (status values).
 */
#ifndef IUM_NTDDK_H
#define IUM_NTDDK_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Calling conventions and linkage: nothing to do on Linux. ---- */
#define NTAPI
#define NTSYSAPI
#define NTSYSCALLAPI
#define NTKERNELAPI
#define FASTCALL
#define DECLSPEC_ALIGN(x) __attribute__((aligned(x)))

/* Anonymous structs/unions (C11, C++): the WDK names expand to nothing. */
#define DUMMYSTRUCTNAME
#define DUMMYSTRUCTNAME2
#define DUMMYUNIONNAME
#define DUMMYUNIONNAME2

/* ---- SAL annotations: documentation only. ---- */
#define _In_
#define _In_opt_
#define _Out_
#define _Out_opt_
#define _Inout_
#define _Inout_opt_
#define _In_z_
#define _In_reads_(s)
#define _In_reads_bytes_(s)
#define _In_reads_bytes_opt_(s)
#define _Out_writes_(s)
#define _Out_writes_bytes_(s)
#define _Out_writes_bytes_opt_(s)
#define _Out_writes_bytes_to_(s, c)
#define _Out_writes_bytes_to_opt_(s, c)
#define _Field_size_bytes_(s)
#define _Field_size_bytes_part_(s, c)
#define _Field_size_bytes_part_opt_(s, c)
#define _Must_inspect_result_
#define _Success_(e)
#define _Return_type_success_(e)
#define _When_(e, a)
#define _IRQL_requires_(i)
#define _IRQL_requires_max_(i)
#define _IRQL_requires_same_
#define _Function_class_(n)
#define _Check_return_
#define _Use_decl_annotations_
#define _Reserved_
#define _Null_terminated_
#define _Post_satisfies_(e)
#define _Pre_satisfies_(e)

/* PAGED_CODE() asserts the IRQL in a checked kernel build; user space has no IRQL. */
#define PAGED_CODE() ((void)0)
#define PAGED_CODE_LOCKED() ((void)0)
#define NT_ASSERT(e) ((void)0)
#define UNREFERENCED_PARAMETER(P) ((void)(P))

/* ---- Base types (LP64). ---- */
#ifndef VOID
#define VOID void
#endif
typedef void *PVOID;
typedef char CHAR, *PCHAR;
typedef unsigned char UCHAR, *PUCHAR;
typedef UCHAR BOOLEAN, *PBOOLEAN;
typedef short SHORT;
typedef unsigned short USHORT, *PUSHORT;
typedef int LONG, *PLONG;
typedef unsigned int ULONG, *PULONG;
typedef long long LONGLONG;
typedef unsigned long long ULONGLONG;
typedef intptr_t LONG_PTR;
typedef uintptr_t ULONG_PTR, *PULONG_PTR;
typedef ULONG_PTR SIZE_T, *PSIZE_T;
typedef unsigned short WCHAR, *PWCH, *PWSTR; /* UTF-16 code unit, as on Windows */
typedef const WCHAR *PCWSTR;
typedef void *HANDLE, **PHANDLE;
typedef LONG NTSTATUS, *PNTSTATUS;
typedef ULONG ACCESS_MASK, *PACCESS_MASK;
typedef LONG KPRIORITY;
typedef ULONG_PTR KAFFINITY;
typedef struct _PEB *PPEB;

typedef union _LARGE_INTEGER {
    struct {
        ULONG LowPart;
        LONG HighPart;
    } DUMMYSTRUCTNAME;
    LONGLONG QuadPart;
} LARGE_INTEGER, *PLARGE_INTEGER;

#ifndef TRUE
#define TRUE 1
#endif
#ifndef FALSE
#define FALSE 0
#endif

/* ---- Status values (ntstatus.h). ---- */
#define NT_SUCCESS(Status) (((NTSTATUS)(Status)) >= 0)
#define NT_INFORMATION(Status) ((((ULONG)(Status)) >> 30) == 1)
#define NT_WARNING(Status) ((((ULONG)(Status)) >> 30) == 2)
#define NT_ERROR(Status) ((((ULONG)(Status)) >> 30) == 3)

#define STATUS_SUCCESS                   ((NTSTATUS)0x00000000L)
#define STATUS_PENDING                   ((NTSTATUS)0x00000103L)
#define STATUS_DATATYPE_MISALIGNMENT     ((NTSTATUS)0x80000002L)
#define STATUS_UNSUCCESSFUL              ((NTSTATUS)0xC0000001L)
#define STATUS_NOT_IMPLEMENTED           ((NTSTATUS)0xC0000002L)
#define STATUS_INVALID_INFO_CLASS        ((NTSTATUS)0xC0000003L)
#define STATUS_INFO_LENGTH_MISMATCH      ((NTSTATUS)0xC0000004L)
#define STATUS_ACCESS_VIOLATION          ((NTSTATUS)0xC0000005L)
#define STATUS_INVALID_HANDLE            ((NTSTATUS)0xC0000008L)
#define STATUS_INVALID_CID               ((NTSTATUS)0xC000000BL)
#define STATUS_INVALID_PARAMETER         ((NTSTATUS)0xC000000DL)
#define STATUS_ACCESS_DENIED             ((NTSTATUS)0xC0000022L)
#define STATUS_OBJECT_TYPE_MISMATCH      ((NTSTATUS)0xC0000024L)
#define STATUS_INVALID_PARAMETER_MIX     ((NTSTATUS)0xC0000030L)
#define STATUS_INSUFFICIENT_RESOURCES    ((NTSTATUS)0xC000009AL)
#define STATUS_DEVICE_NOT_READY          ((NTSTATUS)0xC00000A3L)
#define STATUS_NOT_SUPPORTED             ((NTSTATUS)0xC00000BBL)
#define STATUS_PROCESS_IS_TERMINATING    ((NTSTATUS)0xC000010AL)
#define STATUS_PORT_NOT_SET              ((NTSTATUS)0xC0000353L)

/* ---- Access rights (winnt.h). ---- */
#define DELETE                           0x00010000L
#define READ_CONTROL                     0x00020000L
#define WRITE_DAC                        0x00040000L
#define WRITE_OWNER                      0x00080000L
#define SYNCHRONIZE                      0x00100000L
#define STANDARD_RIGHTS_REQUIRED         0x000F0000L
#define STANDARD_RIGHTS_READ             READ_CONTROL
#define STANDARD_RIGHTS_WRITE            READ_CONTROL
#define STANDARD_RIGHTS_EXECUTE          READ_CONTROL
#define STANDARD_RIGHTS_ALL              0x001F0000L
#define MAXIMUM_ALLOWED                  0x02000000L
#define GENERIC_READ                     0x80000000L
#define GENERIC_WRITE                    0x40000000L
#define GENERIC_EXECUTE                  0x20000000L
#define GENERIC_ALL                      0x10000000L

#define PROCESS_TERMINATE                  (0x0001)
#define PROCESS_CREATE_THREAD              (0x0002)
#define PROCESS_SET_SESSIONID              (0x0004)
#define PROCESS_VM_OPERATION               (0x0008)
#define PROCESS_VM_READ                    (0x0010)
#define PROCESS_VM_WRITE                   (0x0020)
#define PROCESS_DUP_HANDLE                 (0x0040)
#define PROCESS_CREATE_PROCESS             (0x0080)
#define PROCESS_SET_QUOTA                  (0x0100)
#define PROCESS_SET_INFORMATION            (0x0200)
#define PROCESS_QUERY_INFORMATION          (0x0400)
#define PROCESS_SUSPEND_RESUME             (0x0800)
#define PROCESS_QUERY_LIMITED_INFORMATION  (0x1000)
#define PROCESS_SET_LIMITED_INFORMATION    (0x2000)
#define PROCESS_ALL_ACCESS                 (STANDARD_RIGHTS_REQUIRED | SYNCHRONIZE | 0xFFFF)

/* ---- Strings, object attributes, client ids. ---- */
typedef struct _UNICODE_STRING {
    USHORT Length;        /* bytes, without the terminating NUL */
    USHORT MaximumLength; /* bytes of Buffer */
    PWSTR Buffer;
} UNICODE_STRING, *PUNICODE_STRING;
typedef const UNICODE_STRING *PCUNICODE_STRING;

#define OBJ_INHERIT             0x00000002L
#define OBJ_PERMANENT           0x00000010L
#define OBJ_EXCLUSIVE           0x00000020L
#define OBJ_CASE_INSENSITIVE    0x00000040L
#define OBJ_OPENIF              0x00000080L
#define OBJ_OPENLINK            0x00000100L
#define OBJ_KERNEL_HANDLE       0x00000200L
#define OBJ_FORCE_ACCESS_CHECK  0x00000400L
#define OBJ_VALID_ATTRIBUTES    0x000007F2L

typedef struct _OBJECT_ATTRIBUTES {
    ULONG Length;
    HANDLE RootDirectory;
    PUNICODE_STRING ObjectName;
    ULONG Attributes;
    PVOID SecurityDescriptor;
    PVOID SecurityQualityOfService;
} OBJECT_ATTRIBUTES, *POBJECT_ATTRIBUTES;
typedef const OBJECT_ATTRIBUTES *PCOBJECT_ATTRIBUTES;

#define InitializeObjectAttributes(p, n, a, r, s) \
    do {                                          \
        (p)->Length = sizeof(OBJECT_ATTRIBUTES);  \
        (p)->RootDirectory = (r);                 \
        (p)->Attributes = (a);                    \
        (p)->ObjectName = (n);                    \
        (p)->SecurityDescriptor = (s);            \
        (p)->SecurityQualityOfService = NULL;     \
    } while (0)

typedef struct _CLIENT_ID {
    HANDLE UniqueProcess;
    HANDLE UniqueThread;
} CLIENT_ID, *PCLIENT_ID;

/* ---- Pseudo-handles. ---- */
#define NtCurrentProcess() ((HANDLE)(LONG_PTR)-1)
#define ZwCurrentProcess() NtCurrentProcess()
#define NtCurrentThread() ((HANDLE)(LONG_PTR)-2)
#define ZwCurrentThread() NtCurrentThread()

/* ---- Information classes (phnt numbering). ---- */
typedef enum _PROCESSINFOCLASS {
    ProcessBasicInformation = 0,
    ProcessQuotaLimits = 1,
    ProcessIoCounters = 2,
    ProcessVmCounters = 3,
    ProcessTimes = 4,
    ProcessBasePriority = 5,
    ProcessRaisePriority = 6,
    ProcessDebugPort = 7,
    ProcessExceptionPort = 8,
    ProcessAccessToken = 9,
    ProcessLdtInformation = 10,
    ProcessLdtSize = 11,
    ProcessDefaultHardErrorMode = 12,
    ProcessIoPortHandlers = 13,
    ProcessPooledUsageAndLimits = 14,
    ProcessWorkingSetWatch = 15,
    ProcessUserModeIOPL = 16,
    ProcessEnableAlignmentFaultFixup = 17,
    ProcessPriorityClass = 18,
    ProcessWx86Information = 19,
    ProcessHandleCount = 20,
    ProcessAffinityMask = 21,
    ProcessPriorityBoost = 22,
    ProcessDeviceMap = 23,
    ProcessSessionInformation = 24,
    ProcessForegroundInformation = 25,
    ProcessWow64Information = 26,
    ProcessImageFileName = 27,
    ProcessLUIDDeviceMapsEnabled = 28,
    ProcessBreakOnTermination = 29,
    ProcessDebugObjectHandle = 30,
    ProcessDebugFlags = 31,
    ProcessHandleTracing = 32,
    ProcessIoPriority = 33,
    ProcessExecuteFlags = 34,
    ProcessTlsInformation = 35,
    ProcessCookie = 36,
    ProcessImageInformation = 37,
    ProcessCycleTime = 38,
    ProcessPagePriority = 39,
    ProcessInstrumentationCallback = 40,
    ProcessThreadStackAllocation = 41,
    ProcessWorkingSetWatchEx = 42,
    ProcessImageFileNameWin32 = 43,
    ProcessImageFileMapping = 44,
    ProcessAffinityUpdateMode = 45,
    ProcessMemoryAllocationMode = 46,
    ProcessGroupInformation = 47,
    ProcessTokenVirtualizationEnabled = 48,
    ProcessConsoleHostProcess = 49,
    ProcessWindowInformation = 50,
    ProcessHandleInformation = 51,
    ProcessMitigationPolicy = 52,
    ProcessDynamicFunctionTableInformation = 53,
    ProcessHandleCheckingMode = 54,
    ProcessKeepAliveCount = 55,
    ProcessRevokeFileHandles = 56,
    ProcessWorkingSetControl = 57,
    ProcessHandleTable = 58,
    ProcessCheckStackExtentsMode = 59,
    ProcessCommandLineInformation = 60,
    ProcessProtectionInformation = 61,
    ProcessMemoryExhaustion = 62,
    ProcessFaultInformation = 63,
    ProcessTelemetryIdInformation = 64,
    ProcessCommitReleaseInformation = 65,
    ProcessDefaultCpuSetsInformation = 66,
    ProcessAllowedCpuSetsInformation = 67,
    ProcessSubsystemProcess = 68,
    ProcessJobMemoryInformation = 69,
    ProcessInPrivate = 70,
    ProcessRaiseUMExceptionOnInvalidHandleClose = 71,
    ProcessIumChallengeResponse = 72,
    ProcessChildProcessInformation = 73,
    ProcessHighGraphicsPriorityInformation = 74,
    ProcessSubsystemInformation = 75,
    MaxProcessInfoClass
} PROCESSINFOCLASS;

/* ---- Structures returned by NtQueryInformationProcess. ---- */
typedef struct _PROCESS_BASIC_INFORMATION {
    NTSTATUS ExitStatus;
    PPEB PebBaseAddress;
    ULONG_PTR AffinityMask;
    KPRIORITY BasePriority;
    ULONG_PTR UniqueProcessId;
    ULONG_PTR InheritedFromUniqueProcessId;
} PROCESS_BASIC_INFORMATION, *PPROCESS_BASIC_INFORMATION;

typedef struct _PROCESS_EXTENDED_BASIC_INFORMATION {
    SIZE_T Size;    // Ignored as input, written with structure size on output
    PROCESS_BASIC_INFORMATION BasicInfo;
    union {
        ULONG Flags;
        struct {
            ULONG IsProtectedProcess : 1;
            ULONG IsWow64Process : 1;
            ULONG IsProcessDeleting : 1;
            ULONG IsCrossSessionCreate : 1;
            ULONG IsFrozen : 1;
            ULONG IsBackground : 1;
            ULONG IsStronglyNamed : 1;
            ULONG IsSecureProcess : 1;
            ULONG IsSubsystemProcess : 1;
            ULONG SpareBits : 23;
        } DUMMYSTRUCTNAME;
    } DUMMYUNIONNAME;
} PROCESS_EXTENDED_BASIC_INFORMATION, *PPROCESS_EXTENDED_BASIC_INFORMATION;

typedef struct _KERNEL_USER_TIMES {
    LARGE_INTEGER CreateTime;
    LARGE_INTEGER ExitTime;
    LARGE_INTEGER KernelTime;
    LARGE_INTEGER UserTime;
} KERNEL_USER_TIMES, *PKERNEL_USER_TIMES;

typedef struct _PROCESS_SESSION_INFORMATION {
    ULONG SessionId;
} PROCESS_SESSION_INFORMATION, *PPROCESS_SESSION_INFORMATION;

typedef struct _PS_PROTECTION {
    union {
        UCHAR Level;
        struct {
            UCHAR Type : 3;
            UCHAR Audit : 1;
            UCHAR Signer : 4;
        } DUMMYSTRUCTNAME;
    } DUMMYUNIONNAME;
} PS_PROTECTION, *PPS_PROTECTION;

typedef enum _SUBSYSTEM_INFORMATION_TYPE {
    SubsystemInformationTypeWin32 = 0,
    SubsystemInformationTypeWSL = 1,
    MaxSubsystemInformationType
} SUBSYSTEM_INFORMATION_TYPE;

/* ---- The calls (libium: -lium). Zw* behave exactly as Nt* from user mode. ---- */
NTSYSCALLAPI NTSTATUS NTAPI NtOpenProcess(
    _Out_ PHANDLE ProcessHandle, _In_ ACCESS_MASK DesiredAccess,
    _In_ POBJECT_ATTRIBUTES ObjectAttributes, _In_opt_ PCLIENT_ID ClientId);
NTSYSCALLAPI NTSTATUS NTAPI NtQueryInformationProcess(
    _In_ HANDLE ProcessHandle, _In_ PROCESSINFOCLASS ProcessInformationClass,
    _Out_writes_bytes_(ProcessInformationLength) PVOID ProcessInformation,
    _In_ ULONG ProcessInformationLength, _Out_opt_ PULONG ReturnLength);
NTSYSCALLAPI NTSTATUS NTAPI NtClose(_In_ HANDLE Handle);

NTSYSAPI NTSTATUS NTAPI ZwOpenProcess(
    _Out_ PHANDLE ProcessHandle, _In_ ACCESS_MASK DesiredAccess,
    _In_ POBJECT_ATTRIBUTES ObjectAttributes, _In_opt_ PCLIENT_ID ClientId);
NTSYSAPI NTSTATUS NTAPI ZwQueryInformationProcess(
    _In_ HANDLE ProcessHandle, _In_ PROCESSINFOCLASS ProcessInformationClass,
    _Out_writes_bytes_(ProcessInformationLength) PVOID ProcessInformation,
    _In_ ULONG ProcessInformationLength, _Out_opt_ PULONG ReturnLength);
NTSYSAPI NTSTATUS NTAPI ZwClose(_In_ HANDLE Handle);

/* ---- Layout pins (x64). ---- */
#ifdef __cplusplus
#define IUM_STATIC_ASSERT(e, m) static_assert(e, m)
#else
#define IUM_STATIC_ASSERT(e, m) _Static_assert(e, m)
#endif
IUM_STATIC_ASSERT(sizeof(void *) == 8, "ium's ntddk.h describes the x64 (LP64) layouts");
IUM_STATIC_ASSERT(sizeof(ULONG) == 4 && sizeof(LONG) == 4 && sizeof(USHORT) == 2 && sizeof(WCHAR) == 2, "ULONG/LONG/USHORT/WCHAR");
IUM_STATIC_ASSERT(sizeof(HANDLE) == 8 && sizeof(SIZE_T) == 8 && sizeof(ULONG_PTR) == 8, "pointer-sized types");
IUM_STATIC_ASSERT(sizeof(NTSTATUS) == 4 && sizeof(ACCESS_MASK) == 4 && sizeof(KPRIORITY) == 4, "32-bit types");
IUM_STATIC_ASSERT(sizeof(PROCESSINFOCLASS) == 4, "PROCESSINFOCLASS is an int-sized enum");
IUM_STATIC_ASSERT(sizeof(LARGE_INTEGER) == 8, "LARGE_INTEGER");
IUM_STATIC_ASSERT(sizeof(PROCESS_BASIC_INFORMATION) == 48, "PROCESS_BASIC_INFORMATION");
IUM_STATIC_ASSERT(offsetof(PROCESS_BASIC_INFORMATION, ExitStatus) == 0, "PBI.ExitStatus");
IUM_STATIC_ASSERT(offsetof(PROCESS_BASIC_INFORMATION, PebBaseAddress) == 8, "PBI.PebBaseAddress");
IUM_STATIC_ASSERT(offsetof(PROCESS_BASIC_INFORMATION, AffinityMask) == 16, "PBI.AffinityMask");
IUM_STATIC_ASSERT(offsetof(PROCESS_BASIC_INFORMATION, BasePriority) == 24, "PBI.BasePriority");
IUM_STATIC_ASSERT(offsetof(PROCESS_BASIC_INFORMATION, UniqueProcessId) == 32, "PBI.UniqueProcessId");
IUM_STATIC_ASSERT(offsetof(PROCESS_BASIC_INFORMATION, InheritedFromUniqueProcessId) == 40, "PBI.InheritedFromUniqueProcessId");
IUM_STATIC_ASSERT(sizeof(PROCESS_EXTENDED_BASIC_INFORMATION) == 64, "PROCESS_EXTENDED_BASIC_INFORMATION");
IUM_STATIC_ASSERT(offsetof(PROCESS_EXTENDED_BASIC_INFORMATION, Size) == 0, "PEBI.Size");
IUM_STATIC_ASSERT(offsetof(PROCESS_EXTENDED_BASIC_INFORMATION, BasicInfo) == 8, "PEBI.BasicInfo");
IUM_STATIC_ASSERT(offsetof(PROCESS_EXTENDED_BASIC_INFORMATION, Flags) == 56, "PEBI.Flags");
IUM_STATIC_ASSERT(sizeof(KERNEL_USER_TIMES) == 32, "KERNEL_USER_TIMES");
IUM_STATIC_ASSERT(offsetof(KERNEL_USER_TIMES, ExitTime) == 8, "KERNEL_USER_TIMES.ExitTime");
IUM_STATIC_ASSERT(offsetof(KERNEL_USER_TIMES, KernelTime) == 16, "KERNEL_USER_TIMES.KernelTime");
IUM_STATIC_ASSERT(offsetof(KERNEL_USER_TIMES, UserTime) == 24, "KERNEL_USER_TIMES.UserTime");
IUM_STATIC_ASSERT(sizeof(UNICODE_STRING) == 16, "UNICODE_STRING");
IUM_STATIC_ASSERT(offsetof(UNICODE_STRING, MaximumLength) == 2, "UNICODE_STRING.MaximumLength");
IUM_STATIC_ASSERT(offsetof(UNICODE_STRING, Buffer) == 8, "UNICODE_STRING.Buffer");
IUM_STATIC_ASSERT(sizeof(CLIENT_ID) == 16, "CLIENT_ID");
IUM_STATIC_ASSERT(offsetof(CLIENT_ID, UniqueThread) == 8, "CLIENT_ID.UniqueThread");
IUM_STATIC_ASSERT(sizeof(OBJECT_ATTRIBUTES) == 48, "OBJECT_ATTRIBUTES");
IUM_STATIC_ASSERT(offsetof(OBJECT_ATTRIBUTES, RootDirectory) == 8, "OBJECT_ATTRIBUTES.RootDirectory");
IUM_STATIC_ASSERT(offsetof(OBJECT_ATTRIBUTES, ObjectName) == 16, "OBJECT_ATTRIBUTES.ObjectName");
IUM_STATIC_ASSERT(offsetof(OBJECT_ATTRIBUTES, Attributes) == 24, "OBJECT_ATTRIBUTES.Attributes");
IUM_STATIC_ASSERT(offsetof(OBJECT_ATTRIBUTES, SecurityDescriptor) == 32, "OBJECT_ATTRIBUTES.SecurityDescriptor");
IUM_STATIC_ASSERT(offsetof(OBJECT_ATTRIBUTES, SecurityQualityOfService) == 40, "OBJECT_ATTRIBUTES.SecurityQualityOfService");
IUM_STATIC_ASSERT(sizeof(PS_PROTECTION) == 1, "PS_PROTECTION");
IUM_STATIC_ASSERT(sizeof(PROCESS_SESSION_INFORMATION) == 4, "PROCESS_SESSION_INFORMATION");

#ifdef __cplusplus
}
#endif

#endif /* IUM_NTDDK_H */
