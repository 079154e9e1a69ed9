/* SPDX-License-Identifier: Apache-2.0 OR BSD-2-Clause */
/*
 * ium_wire.h — the frames of iumd's socket protocol (docs/PROTOCOL.md), as C structs with
 * their sizes and offsets pinned by static assertions. libium and the C shims read and write
 * frames through these structs; Sources/IUMProtocol encodes the same bytes field by field, and
 * Tests/IUMProtocolTests compares both encoders byte for byte (golden frames). Nothing else
 * counts offsets by hand.
 *
 * Little-endian, packed (a u64 follows the 12-byte header). Variable parts (strings, blobs,
 * rows, the handles of a close batch) follow the fixed part.
 */
#ifndef IUM_WIRE_H
#define IUM_WIRE_H

#include <stddef.h>
#include <stdint.h>

#define IUM_WIRE_MAGIC 0x314D5549u /* "IUM1" */
#define IUM_WIRE_VERSION 1
#define IUM_WIRE_MAX_FRAME 65536
#define IUM_WIRE_CLOSE_BATCH_MAX 64

enum ium_wire_type {
    IUM_WIRE_OPEN = 1,
    IUM_WIRE_QUERY = 2,
    IUM_WIRE_CLOSE = 3,
    IUM_WIRE_TAG = 4,
    IUM_WIRE_LIST = 5,
    IUM_WIRE_STATUS = 6,
    IUM_WIRE_EVENTS = 7,
    IUM_WIRE_UNLOAD = 8,
    IUM_WIRE_VIEWS = 9,
    IUM_WIRE_CLOSE_BATCH = 10,
    IUM_WIRE_ERROR = 0xFFFF,
};

#define IUM_WIRE_PACKED __attribute__((packed))

struct IUM_WIRE_PACKED ium_wire_header {
    uint32_t magic;
    uint16_t version;
    uint16_t type;       /* enum ium_wire_type */
    uint32_t request_id; /* a reply carries its request's id */
};

/* open flags */
#define IUM_WIRE_OPEN_CLIENT_ID   (1u << 0)
#define IUM_WIRE_OPEN_OBJECT_NAME (1u << 1)
#define IUM_WIRE_OPEN_PROBED      (1u << 2) /* the client's read probe of the pid passed */

struct IUM_WIRE_PACKED ium_wire_open_request {
    struct ium_wire_header header;
    uint64_t pid;
    uint64_t tid;
    uint32_t desired_access;
    uint32_t flags; /* IUM_WIRE_OPEN_* */
};

struct IUM_WIRE_PACKED ium_wire_open_reply {
    struct ium_wire_header header;
    uint32_t status;
    uint32_t reserved;
    uint64_t handle;
    uint32_t granted_access; /* with the implied rights */
    uint32_t table_flags;    /* IsCrossSessionCreate | IsStronglyNamed */
    uint64_t creator_pid;    /* InheritedFromUniqueProcessId */
    uint64_t start_ticks;    /* the process's identity with the pid */
    uint64_t exec_id;        /* the exec and cgroup the table flags describe (task views) */
    uint64_t cgroup_id;
    uint32_t uids[3];        /* real, effective, saved at the open */
    uint32_t reserved2;
};

/* query pointer states */
#define IUM_WIRE_POINTER_NULL 0
#define IUM_WIRE_POINTER_FAULTS 1
#define IUM_WIRE_POINTER_WRITABLE 2
#define IUM_WIRE_QUERY_PROBED (1u << 0)

struct IUM_WIRE_PACKED ium_wire_query_request {
    struct ium_wire_header header;
    uint64_t handle;
    uint32_t info_class;
    uint32_t length;
    uint64_t buffer;        /* the caller's addresses: iumd checks their alignment */
    uint64_t return_length;
    uint8_t buffer_state;   /* IUM_WIRE_POINTER_* */
    uint8_t return_length_state;
    uint8_t flags;          /* IUM_WIRE_QUERY_PROBED */
    uint8_t reserved;
};

#define IUM_WIRE_RETURN_LENGTH_WRITTEN (1u << 0)

struct IUM_WIRE_PACKED ium_wire_query_reply {
    struct ium_wire_header header;
    uint32_t status;
    uint32_t return_length;
    uint32_t flags;         /* IUM_WIRE_RETURN_LENGTH_WRITTEN */
    uint32_t output_length; /* then the output bytes */
};

struct IUM_WIRE_PACKED ium_wire_close_request {
    struct ium_wire_header header;
    uint64_t handle;
};

/* Handles closed on the client's side; never answered. The client's next request may follow
 * the handles in the same message (when the views reply has IUM_WIRE_FEATURE_BATCH_LEADS):
 * iumd frees the handles, then serves that request. */
struct IUM_WIRE_PACKED ium_wire_close_batch {
    struct ium_wire_header header;
    uint32_t count; /* at most IUM_WIRE_CLOSE_BATCH_MAX */
    uint32_t reserved;
    uint64_t handles[];
};

/* close, tag, unload and error replies: then a u16-length UTF-8 message. */
struct IUM_WIRE_PACKED ium_wire_status_reply {
    struct ium_wire_header header;
    uint32_t status;
    uint32_t reserved;
    uint64_t handle;
    uint16_t message_length;
};

struct IUM_WIRE_PACKED ium_wire_tag_request {
    struct ium_wire_header header;
    int32_t pid; /* 0: the caller itself */
};

/* The reply to views; the table's fd rides along (SCM_RIGHTS). */
struct IUM_WIRE_PACKED ium_wire_views_reply {
    struct ium_wire_header header;
    uint32_t status;
    uint32_t records;
    uint32_t record_size;
    uint32_t features; /* IUM_WIRE_FEATURE_* this iumd serves (0 from an iumd that knows none) */
};

/* A close batch may lead the client's next request in one message. */
#define IUM_WIRE_FEATURE_BATCH_LEADS (1u << 0)

#ifdef __cplusplus
#define IUM_WIRE_ASSERT(e, m) static_assert(e, m)
#else
#define IUM_WIRE_ASSERT(e, m) _Static_assert(e, m)
#endif
IUM_WIRE_ASSERT(sizeof(struct ium_wire_header) == 12, "header");
IUM_WIRE_ASSERT(sizeof(struct ium_wire_open_request) == 36, "open request");
IUM_WIRE_ASSERT(offsetof(struct ium_wire_open_request, flags) == 32, "open request flags");
IUM_WIRE_ASSERT(sizeof(struct ium_wire_open_reply) == 84, "open reply");
IUM_WIRE_ASSERT(offsetof(struct ium_wire_open_reply, handle) == 20, "open reply handle");
IUM_WIRE_ASSERT(offsetof(struct ium_wire_open_reply, uids) == 68, "open reply uids");
IUM_WIRE_ASSERT(sizeof(struct ium_wire_query_request) == 48, "query request");
IUM_WIRE_ASSERT(offsetof(struct ium_wire_query_request, buffer_state) == 44, "query request states");
IUM_WIRE_ASSERT(sizeof(struct ium_wire_query_reply) == 28, "query reply");
IUM_WIRE_ASSERT(sizeof(struct ium_wire_close_request) == 20, "close request");
IUM_WIRE_ASSERT(sizeof(struct ium_wire_close_batch) == 20, "close batch");
IUM_WIRE_ASSERT(sizeof(struct ium_wire_status_reply) == 30, "status reply");
IUM_WIRE_ASSERT(sizeof(struct ium_wire_tag_request) == 16, "tag request");
IUM_WIRE_ASSERT(sizeof(struct ium_wire_views_reply) == 28, "views reply");

#endif /* IUM_WIRE_H */
