/* err.c: messages for nettriage's error codes. */
#include "util/err.h"

const char *nt_strerror(int code)
{
    switch (code) {
    case NT_OK:
        return "success";
#define NT_ERR_CASE(name, value, msg)                                                              \
    case name:                                                                                     \
        return msg;
        NT_ERR_LIST(NT_ERR_CASE)
#undef NT_ERR_CASE
    default:
        return "unknown error";
    }
}
