/* Compiled by CABITests as C and C++ with gcc and clang at -Wall -Wextra -Werror: every type,
 * macro and prototype of ntddk.h that WDK-style code uses. */
#include <ntddk.h>

NTSTATUS ium_header_check(void);

NTSTATUS ium_header_check(void) {
    OBJECT_ATTRIBUTES oa;
    UNICODE_STRING name = {0, 0, NULL};
    CLIENT_ID cid;
    HANDLE h = NULL;
    PROCESS_BASIC_INFORMATION pbi;
    PROCESS_EXTENDED_BASIC_INFORMATION pebi;
    KERNEL_USER_TIMES times;
    PS_PROTECTION protection;
    ULONG returned = 0;
    NTSTATUS status;
    PAGED_CODE();
    UNREFERENCED_PARAMETER(name);
    InitializeObjectAttributes(&oa, NULL, OBJ_CASE_INSENSITIVE, NULL, NULL);
    cid.UniqueProcess = (HANDLE)(ULONG_PTR)1;
    cid.UniqueThread = NULL;
    status = NtOpenProcess(&h, PROCESS_QUERY_LIMITED_INFORMATION | SYNCHRONIZE, &oa, &cid);
    if (!NT_SUCCESS(status)) return status;
    status = ZwQueryInformationProcess(h, ProcessBasicInformation, &pbi, sizeof(pbi), &returned);
    pebi.Size = sizeof(pebi);
    status = NtQueryInformationProcess(ZwCurrentProcess(), ProcessBasicInformation, &pebi, sizeof(pebi), NULL);
    if (pebi.IsSecureProcess || pebi.IsProtectedProcess || pebi.Flags == 0x80 || pebi.SpareBits) status = STATUS_ACCESS_DENIED;
    status = NtQueryInformationProcess(h, ProcessTimes, &times, sizeof(times), NULL);
    status = NtQueryInformationProcess(h, ProcessProtectionInformation, &protection, sizeof(protection), NULL);
    if (protection.Type || protection.Signer || times.CreateTime.QuadPart < 0) status = STATUS_INVALID_PARAMETER;
    (void)ZwClose(h);
    return NtClose(NtCurrentThread()) == STATUS_SUCCESS ? status : STATUS_INVALID_HANDLE;
}
