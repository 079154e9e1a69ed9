/* is-secure PID…: asks, for each process, Microsoft's IsSecureProcess() (IsSecureProcess.c,
 * unchanged) through libium. Prints "PID secure" or "PID not secure"; exit 0 when every
 * process is secure, 1 when one is not, 2 when a call failed.
 *   cc examples/main.c examples/IsSecureProcess.c $(pkg-config --cflags --libs libium) */
#include <ntddk.h>
#include <stdio.h>
#include <stdlib.h>

NTSTATUS IsSecureProcess(HANDLE ProcessHandle, BOOLEAN *SecureProcess);

int main(int argc, char **argv) {
    int result = 0;
    for (int i = 1; i < argc; i++) {
        OBJECT_ATTRIBUTES oa;
        CLIENT_ID cid = {(HANDLE)(ULONG_PTR)strtoul(argv[i], NULL, 10), NULL};
        HANDLE h;
        BOOLEAN secure = FALSE;
        InitializeObjectAttributes(&oa, NULL, 0, NULL, NULL);
        NTSTATUS status = ZwOpenProcess(&h, PROCESS_QUERY_LIMITED_INFORMATION, &oa, &cid);
        if (NT_SUCCESS(status)) {
            status = IsSecureProcess(h, &secure);
            ZwClose(h);
        }
        if (!NT_SUCCESS(status)) {
            printf("%s error 0x%08X\n", argv[i], (unsigned)status);
            result = 2;
            continue;
        }
        printf("%s %s\n", argv[i], secure ? "secure" : "not secure");
        if (!secure && result == 0) result = 1;
    }
    return result;
}
