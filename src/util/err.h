/* err.h: nettriage's operational error codes and their messages, generated from one list. */
#ifndef NT_UTIL_ERR_H
#define NT_UTIL_ERR_H

/* Operational errors (I/O, memory, bad input files, bad arguments) are negative codes from this
 * one list. Malformed packets are not errors: decoders record named anomalies instead. */
#define NT_ERR_LIST(X)                                                                             \
    X(NT_ERR_NOMEM, -1, "out of memory")                                                           \
    X(NT_ERR_IO, -2, "cannot read")                                                                \
    X(NT_ERR_EMPTY, -3, "empty file")                                                              \
    X(NT_ERR_NOT_CAPTURE, -4, "not a pcap, pcapng or tcpdump text capture")                        \
    X(NT_ERR_TRUNCATED, -5, "capture is truncated")                                                \
    X(NT_ERR_CORRUPT, -6, "capture is corrupt")                                                    \
    X(NT_ERR_LINKTYPE, -7, "unsupported link type")                                                \
    X(NT_ERR_USAGE, -8, "invalid usage")                                                           \
    X(NT_ERR_NO_RECORDS, -9, "no tcpdump lines found")                                             \
    X(NT_ERR_WRITE, -10, "cannot write")                                                           \
    X(NT_ERR_LINE_TOO_LONG, -11, "line too long for a tcpdump record")                             \
    X(NT_ERR_NO_PACKETS, -12, "capture holds no packets")                                          \
    X(NT_ERR_IS_DIR, -13, "is a directory")

enum nt_err {
    NT_OK = 0,
#define NT_ERR_ENUM(name, value, msg) name = value,
    NT_ERR_LIST(NT_ERR_ENUM)
#undef NT_ERR_ENUM
};

/* Returns the fixed English message for an error code (never NULL). */
const char *nt_strerror(int code);

#endif
