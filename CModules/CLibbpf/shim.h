/* SPDX-License-Identifier: Apache-2.0 */
/* libbpf, as installed by Debian's libbpf-dev (found with pkg-config). Nothing else. */
#include <bpf/libbpf.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
