/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libpreload.so: an LD_PRELOAD library that announces itself in every process it is loaded
 * into ("PRELOADED <comm>" on stderr) and puts LD_PRELOAD back into the environment of every
 * exec (execve, execv, execvp, execvpe), as a wrapper around `ium run` would, so the
 * program `ium run` starts sees it whatever ium did with its own environment.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

extern char **environ;
static char self[512];

__attribute__((constructor)) static void announce(void) {
    char comm[17] = "";
    prctl(PR_GET_NAME, comm, 0, 0, 0);
    fprintf(stderr, "PRELOADED %s\n", comm);
    const char *p = getenv("LD_PRELOAD");
    if (p) snprintf(self, sizeof self, "LD_PRELOAD=%s", p);
}

/* envp with LD_PRELOAD=<this library> in it (leaked: an exec follows). */
static char **with_preload(char *const envp[]) {
    size_t n = 0;
    while (envp && envp[n]) n++;
    char **out = calloc(n + 2, sizeof *out);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (strncmp(envp[i], "LD_PRELOAD=", 11)) out[k++] = envp[i];
    if (self[0]) out[k++] = self;
    return out;
}

int execve(const char *path, char *const argv[], char *const envp[]) {
    int (*real)(const char *, char *const[], char *const[]) = dlsym(RTLD_NEXT, "execve");
    return real(path, argv, with_preload(envp));
}

int execvpe(const char *file, char *const argv[], char *const envp[]) {
    int (*real)(const char *, char *const[], char *const[]) = dlsym(RTLD_NEXT, "execvpe");
    return real(file, argv, with_preload(envp));
}

int execv(const char *path, char *const argv[]) { return execve(path, argv, environ); }
int execvp(const char *file, char *const argv[]) { return execvpe(file, argv, environ); }
