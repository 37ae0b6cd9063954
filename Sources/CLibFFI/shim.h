/* libffi, found through pkg-config (Debian: libffi-dev), with accessors for its type
 * descriptors (C globals whose addresses Swift cannot take directly). */
#include <ffi.h>
#include <stdint.h>

/** The ffi_type of an integer of `bytes` width (1, 2, 4 or 8), signed or not. */
static inline ffi_type *inject_ffi_integer(int bytes, int is_signed) {
    switch (bytes) {
    case 1: return is_signed ? &ffi_type_sint8 : &ffi_type_uint8;
    case 2: return is_signed ? &ffi_type_sint16 : &ffi_type_uint16;
    case 4: return is_signed ? &ffi_type_sint32 : &ffi_type_uint32;
    default: return is_signed ? &ffi_type_sint64 : &ffi_type_uint64;
    }
}

static inline ffi_type *inject_ffi_pointer(void) { return &ffi_type_pointer; }
static inline ffi_type *inject_ffi_void(void) { return &ffi_type_void; }
