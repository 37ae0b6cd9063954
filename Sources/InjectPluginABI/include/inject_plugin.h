/*
 * inject_plugin.h -- the binary interface between the `inject` host and its backend plugins.
 *
 * This header is the whole contract. A plugin is a shared object that exports one function,
 * `inject_plugin_entry`, and builds with nothing but this file:
 *
 *     cc -shared -fPIC -fvisibility=hidden -I <dir of this header> -o libvendor.so vendor.c
 *
 * Lifecycle
 *   1. The host dlopen()s the plugin (RTLD_NOW | RTLD_LOCAL) and looks up `inject_plugin_entry`.
 *   2. It calls the entry once with an `inject_entry` record: the ABI version the host speaks, its
 *      table of services, and out-fields for the plugin's answer. The plugin answers with the ABI
 *      version it implements and a descriptor, or refuses with an error code and a message. The
 *      answer is the lower of the host's minor and the plugin's own (Vulkan's loader/driver
 *      negotiation): a plugin built against a newer header still loads in an older host, as long
 *      as it then uses only what the host's minor has.
 *   3. The host validates the descriptor completely (sizes, strings, parameter schema) before it
 *      calls any other plugin function, and copies every string it keeps.
 *   4. For each request the host calls `probe`, `plan` or (1.2) `decode` with a fresh `inject_call`
 *      handle. The plugin answers through the services (add a step, report a capability, set an
 *      error) and returns. A handle is dead once its call returns: the host checks every handle
 *      and refuses a stale one with a message, it never dereferences it.
 *   5. The host never unloads a plugin that has answered the entry (as GStreamer does).
 *
 * Versioning
 *   - INJECT_ABI_MAJOR changes only when existing fields or meanings change; the host refuses any
 *     plugin whose major differs, naming both versions.
 *   - A minor release only appends: new fields at the end of structs (every struct starts with its
 *     own `struct_size`), new service slots at the end of `inject_host_api`, new enum values. A
 *     reader must check `struct_size` before touching a field added after 1.0, and must reject an
 *     enum value it does not know. The host reads every struct a plugin hands over only up to its
 *     `struct_size` (never past it), and treats missing later fields as zero. The sizes of each
 *     version are published below as INJECT_<STRUCT>_SIZE_<MAJOR>_<MINOR>.
 *
 * Ownership (read this before writing a plugin)
 *   - Every pointer the host passes to the plugin is borrowed: valid only until the called function
 *     returns, never to be freed or kept.
 *   - Every pointer the plugin passes to a host service is borrowed by the host for the duration of
 *     that service call; the host copies what it keeps. A plugin may pass stack buffers.
 *   - The descriptor returned by the entry, and everything it points to (strings, the parameter
 *     array), must stay valid and unchanged until the process exits. Static storage is the usual home.
 *   - Nothing allocated on one side is freed on the other. No C++ exception, longjmp, or signal may
 *     cross the boundary.
 *
 * Strings are UTF-8 and NUL-terminated. Paths given to the read services and in steps are relative
 * to the target's root (for example "sys/kernel/debug/mce-inject/bank"); the host refuses absolute
 * paths and paths containing "..".
 *
 * Threads: the host calls a plugin from one thread at a time. Services may only be called from
 * inside the plugin function that received the `inject_call`, on the same thread.
 */
#ifndef INJECT_PLUGIN_H
#define INJECT_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** The ABI version this header describes. 1.3 added exact counter expectations
 *  (INJECT_EXPECT_MATCH_EXACT) and file parameters (INJECT_PARAM_FILE); no structure changed size.
 *  1.4 added device-node writes (INJECT_STEP_WRITE_DEVICE), PCI device targeting
 *  (`resolve_pci_device`) and keyed counters ("FILE#NAME"). */
#define INJECT_ABI_MAJOR 1
#define INJECT_ABI_MINOR 5

/** The one symbol a plugin exports. */
#define INJECT_PLUGIN_ENTRY_SYMBOL "inject_plugin_entry"

#if defined(__GNUC__) || defined(__clang__)
#define INJECT_PLUGIN_EXPORT __attribute__((visibility("default")))
#else
#define INJECT_PLUGIN_EXPORT
#endif

/* ------------------------------------------------------------------------------------------------
 * Result codes. Zero is success; every failure is negative. A plugin that returns a failure should
 * first call `set_error` with a message that says what was tried, why it failed and what to do.
 * --------------------------------------------------------------------------------------------- */
typedef enum inject_result {
    INJECT_OK = 0,
    INJECT_E_FAILED = -1,         /* anything not covered below */
    INJECT_E_ABI = -2,            /* version negotiation failed */
    INJECT_E_INVALID = -3,        /* an argument or parameter value is invalid */
    INJECT_E_UNSUPPORTED = -4,    /* the target lacks what the request needs */
    INJECT_E_NOT_FOUND = -5,      /* a path of the target does not exist */
    INJECT_E_PERMISSION = -6,     /* the target refused access (not root, lockdown) */
    INJECT_E_TOO_LARGE = -7,      /* a caller's buffer is too small; the needed size is reported */
    INJECT_E_IO = -8              /* reading the target failed for another reason */
} inject_result;

/** An opaque handle for one host-to-plugin call; valid only during that call. */
typedef struct inject_call inject_call;

/* ------------------------------------------------------------------------------------------------
 * Parameter schema. The host derives command-line parsing, environment variables
 * (INJECT_<BACKEND>_<NAME>), config-file keys, `inject info`, completion and validation from it.
 * --------------------------------------------------------------------------------------------- */
typedef enum inject_param_type {
    INJECT_PARAM_U64 = 1,      /* unsigned integer, decimal or 0x hex, up to 2^64-1 */
    INJECT_PARAM_INT = 2,      /* signed 64-bit integer; min/max are read as int64_t bit patterns */
    INJECT_PARAM_BOOL = 3,     /* true/false, yes/no, on/off, 1/0 */
    INJECT_PARAM_ENUM = 4,     /* one of `choices`; the value carries the index */
    INJECT_PARAM_STRING = 5,   /* free text */
    INJECT_PARAM_BYTES = 6,    /* hex string, e.g. "deadbeef" or "de:ad:be:ef" */
    INJECT_PARAM_ADDRESS = 7,  /* physical address, decimal or 0x hex */
    INJECT_PARAM_CPU = 8,      /* one logical CPU number */
    INJECT_PARAM_CPU_LIST = 9, /* CPU list such as "0-3,8"; the canonical text is passed */
    INJECT_PARAM_SIZE = 10,    /* byte count with optional K/M/G/T suffix (powers of 1024) */
    INJECT_PARAM_FILE = 11     /* ABI 1.3: files on the machine running inject, read by inject (the
                                  plugin never opens a host file). `text` holds the paths as given
                                  (comma-separated; "-" is standard input); `bytes` their contents,
                                  each file preceded by a line of INJECT_FILE_SEPARATOR and its path.
                                  At most 1 MiB a file, 4 MiB in all, no NUL bytes. */
} inject_param_type;

/** Flags for `inject_param_spec.flags`. */
#define INJECT_PARAM_REQUIRED  (1u << 0) /* no default; the request fails when it is not given */
#define INJECT_PARAM_HAS_RANGE (1u << 1) /* `min` and `max` bound the value (inclusive) */

typedef struct inject_param_spec {
    uint32_t struct_size;        /* sizeof(inject_param_spec) as the plugin was built */
    uint32_t type;               /* an inject_param_type */
    const char *name;            /* [a-z][a-z0-9_]*, unique within the backend */
    const char *help;            /* one line, shown by `inject info` */
    const char *unit;            /* e.g. "ms", "bytes"; NULL or "" when none */
    const char *default_value;   /* text form of the default, parsed like user input; NULL when none */
    const char *const *choices;  /* INJECT_PARAM_ENUM: the allowed names; NULL otherwise */
    uint32_t choice_count;
    uint32_t flags;              /* INJECT_PARAM_* flags */
    uint64_t min;                /* with INJECT_PARAM_HAS_RANGE */
    uint64_t max;
} inject_param_spec;

/* An array of specs is indexed by its elements' own struct_size (the first element's). */
#define INJECT_PARAM_SPEC_SIZE_1_0 72u

/** One validated parameter value handed to `plan`, in schema order. */
typedef struct inject_param_value {
    uint32_t struct_size;
    uint32_t type;               /* the parameter's inject_param_type */
    const char *name;
    uint32_t is_set;             /* 0 when the parameter has neither a value nor a default */
    uint32_t reserved;
    uint64_t number;             /* U64, ADDRESS, CPU, SIZE; INT as int64_t bits; BOOL 0/1; ENUM index */
    const char *text;            /* canonical text of the value (always set when is_set) */
    const uint8_t *bytes;        /* INJECT_PARAM_BYTES: the decoded bytes */
    size_t byte_count;
} inject_param_value;

#define INJECT_PARAM_VALUE_SIZE_1_0 56u

/* ------------------------------------------------------------------------------------------------
 * Plans. `plan` does not touch the target: it describes, in order, what the host should do.
 * --------------------------------------------------------------------------------------------- */
typedef enum inject_step_kind {
    INJECT_STEP_WRITE_ATTRIBUTE = 1, /* write `value` to the file `path` under the target root */
    INJECT_STEP_QMP = 2,             /* run the QMP command `command` with `arguments` (a JSON object or NULL) */
    INJECT_STEP_EXEC = 3,            /* run the external tool argv[0] with argv[1..] (no shell) */
    INJECT_STEP_WRITE_MEMORY = 4,    /* write `data` at guest-physical `address` of firmware memory */
    INJECT_STEP_NOTIFY = 5,          /* ask backend `backend` for its plan with `arguments` ("k=v k=v") */
    INJECT_STEP_SLEEP = 6,           /* wait `microseconds` */
    INJECT_STEP_REPEAT = 7,          /* ABI 1.1: run the `repeat_steps` steps before this one
                                        `repeat_times` more times, waiting `microseconds` before each
                                        time (a storm); the repeated steps may not hold a REPEAT */
    INJECT_STEP_IPMI = 8,            /* ABI 1.1: send the IPMI request in `data`: network function,
                                        command, then the request data (2...64 bytes); the host
                                        routes it to the target's BMC (in-band /dev/ipmi0, the lab's
                                        simulated BMC, or a BMC given with --bmc) */
    INJECT_STEP_WAIT_MEMORY_ZERO = 9, /* ABI 1.1: wait until the 32-bit word at guest-physical
                                        `address` of firmware memory reads zero (the OS consumed a
                                        status block), at most `microseconds`; failing after that */
    INJECT_STEP_WRITE_DEVICE = 10    /* ABI 1.4: write the binary record `data` to the character
                                        device `path` under the target root in one write() (the
                                        kernel's /dev/aer_inject); anything but a character device
                                        is refused */
} inject_step_kind;

/*
 * Which fields of `inject_step` each kind reads (every other field must be zero or NULL):
 *
 *   kind              fields
 *   WRITE_ATTRIBUTE   path, value
 *   QMP               command, arguments (a JSON object as text, or NULL)
 *   EXEC              argc, argv
 *   WRITE_MEMORY      address, data, data_length (1 byte ... 1 MiB)
 *   NOTIFY            backend; 1.2: argument_names, argument_values, argument_count (values may
 *                     hold any text); before 1.2: arguments as "name=value name=value" (no spaces
 *                     inside a value). A 1.2 step with argument_count > 0 ignores `arguments`.
 *   SLEEP             microseconds
 *   REPEAT (1.1)      repeat_steps, repeat_times, microseconds (the pause before each time)
 *   IPMI (1.1)        data, data_length (network function, command, request data: 2 ... 64 bytes)
 *   WAIT_MEMORY_ZERO  address, microseconds (the longest wait)
 *   WRITE_DEVICE (1.4) path, data, data_length (1 ... 4096 bytes)
 *   every kind        struct_size, kind, flags, note, hint
 */

/** Flags for `inject_step.flags`. */
#define INJECT_STEP_TRIGGER (1u << 0) /* this step raises the error: the journal is flushed first */

typedef struct inject_step {
    uint32_t struct_size;
    uint32_t kind;               /* an inject_step_kind */
    uint32_t flags;              /* INJECT_STEP_* flags */
    uint32_t argc;               /* EXEC: entries in argv */
    const char *path;            /* WRITE_ATTRIBUTE */
    const char *value;           /* WRITE_ATTRIBUTE */
    const char *command;         /* QMP */
    const char *arguments;       /* QMP: JSON object text; NOTIFY: "name=value ..." */
    const char *backend;         /* NOTIFY */
    const char *const *argv;     /* EXEC */
    const uint8_t *data;         /* WRITE_MEMORY; IPMI: netfn, cmd, request data */
    size_t data_length;
    uint64_t address;            /* WRITE_MEMORY */
    uint64_t microseconds;       /* SLEEP */
    const char *note;            /* one line for people: what this step does; may be NULL */
    const char *hint;            /* what to do when the step fails (e.g. "modprobe mce-inject"); may be NULL */
    /* ABI 1.1; a 1.0 plugin's struct_size ends before these. */
    uint32_t repeat_steps;       /* REPEAT: how many steps before this one (1...plan length) */
    uint32_t reserved;           /* zero */
    uint64_t repeat_times;       /* REPEAT: how many more times (1...10000000) */
    /* ABI 1.2; a 1.1 plugin's struct_size ends before these. */
    const char *const *argument_names;  /* NOTIFY: the routed backend's parameter names */
    const char *const *argument_values; /* NOTIFY: their values, as a user would type them */
    uint32_t argument_count;            /* NOTIFY: entries in both arrays (0...256) */
    uint32_t reserved2;                 /* zero */
} inject_step;

#define INJECT_STEP_SIZE_1_0 112u
#define INJECT_STEP_SIZE_1_1 128u
#define INJECT_STEP_SIZE_1_2 152u

typedef enum inject_expect_kind {
    INJECT_EXPECT_TRACE_EVENT = 1, /* `source` is "system:event"; `match` is "field=value ..." */
    INJECT_EXPECT_KERNEL_LOG = 2,  /* `match` is a substring of a kernel log line */
    INJECT_EXPECT_COUNTER = 3      /* the file `source` (under the root) grows by at least `delta`;
                                      with `match` "exact" (ABI 1.3 hosts), by exactly `delta` (0: it
                                      does not move). ABI 1.4: a `source` "FILE#NAME" reads the number
                                      on the line "NAME value" of a keyed file (aer_dev_correctable's
                                      "TOTAL_ERR_COR 3"); an older host finds no such file */
} inject_expect_kind;

/* ABI 1.3: the first byte of the line before each file in an INJECT_PARAM_FILE value's `bytes`
 * (ASCII file separator), followed by the path and a newline. */
#define INJECT_FILE_SEPARATOR 0x1C

/* ABI 1.3: the `match` of an INJECT_EXPECT_COUNTER that must move by exactly `delta`. An older
 * host ignores `match` on counters (and would accept any growth of at least `delta`), so a plugin
 * sends it only to a 1.3 host. */
#define INJECT_EXPECT_MATCH_EXACT "exact"

typedef struct inject_expectation {
    uint32_t struct_size;
    uint32_t kind;               /* an inject_expect_kind */
    const char *source;
    const char *match;
    int64_t delta;
    const char *note;
} inject_expectation;

#define INJECT_EXPECTATION_SIZE_1_0 40u

/* ------------------------------------------------------------------------------------------------
 * Probing: what the target supports, and why not when it does not.
 * --------------------------------------------------------------------------------------------- */
typedef struct inject_capability {
    uint32_t struct_size;
    uint32_t available;          /* 1 when usable on this target */
    const char *name;            /* short, e.g. "mce-inject" */
    const char *detail;          /* what was found, or why it is missing and how to get it */
} inject_capability;

#define INJECT_CAPABILITY_SIZE_1_0 24u

/* ------------------------------------------------------------------------------------------------
 * The target the host acts on, as a plugin may see it.
 * --------------------------------------------------------------------------------------------- */
#define INJECT_TARGET_FILES  (1u << 0) /* attribute files under a root are reachable */
#define INJECT_TARGET_QMP    (1u << 1) /* a QEMU monitor (QMP) is connected */
#define INJECT_TARGET_MEMORY (1u << 2) /* firmware memory of a guest can be written */
#define INJECT_TARGET_IPMI   (1u << 3) /* ABI 1.1: IPMI requests reach a BMC (a lab, --bmc, or in-band) */

typedef struct inject_target_info {
    uint32_t struct_size;
    uint32_t flags;              /* INJECT_TARGET_* */
    const char *root;            /* the attribute root, "/" by default */
} inject_target_info;

#define INJECT_TARGET_INFO_SIZE_1_0 16u

/* ABI 1.4: a PCI device of the target, as `resolve_pci_device` finds it. The host owns PCI
 * targeting: a plugin names a device the way its user did, and gets back where it is. */
typedef struct inject_pci_device {
    uint32_t struct_size;        /* set by the caller: sizeof(inject_pci_device) as it was built */
    uint32_t flags;              /* INJECT_PCI_* */
    char address[16];            /* "dddd:bb:dd.f", lower-case hex, NUL-terminated */
    char qemu_id[64];            /* the QEMU device id when the target has a monitor and the device
                                    has one (what QEMU's monitor commands name it by); else "" */
    char reason[256];            /* on failure, why, for the user (naming what the target has) */
} inject_pci_device;

#define INJECT_PCI_PRESENT (1u << 0) /* the target's kernel lists the device (sys/bus/pci/devices) */

#define INJECT_PCI_DEVICE_SIZE_1_4 344u

/* ------------------------------------------------------------------------------------------------
 * Host services. The table is append-only: a slot added in minor version N is only present when
 * `struct_size` covers it. Every function is safe to call only during the call it belongs to.
 * --------------------------------------------------------------------------------------------- */
typedef enum inject_log_level {
    INJECT_LOG_DEBUG = 0,
    INJECT_LOG_INFO = 1,
    INJECT_LOG_WARNING = 2,
    INJECT_LOG_ERROR = 3
} inject_log_level;

/** Called once per directory entry by `list_directory`; return nonzero to stop early. */
typedef int (*inject_directory_visitor)(void *context, const char *name, uint32_t is_directory);

typedef struct inject_host_api {
    uint32_t struct_size;
    uint16_t abi_major;
    uint16_t abi_minor;

    /* --- 1.0 --- */
    /** Write one line to the host's log. */
    void (*log)(inject_call *call, int32_t level, const char *message);
    /** Record the reason for the failure the plugin is about to return; the host copies it. */
    void (*set_error)(inject_call *call, int32_t code, const char *message);
    /** Describe the target. */
    int32_t (*target_info)(inject_call *call, inject_target_info *out);
    /**
     * Read a file of the target into `buffer` (not NUL-terminated; `*length` receives the byte
     * count). When `capacity` is too small, returns INJECT_E_TOO_LARGE with `*length` set to the
     * size needed. Returns INJECT_E_NOT_FOUND, INJECT_E_PERMISSION or INJECT_E_IO on failure.
     */
    int32_t (*read_attribute)(inject_call *call, const char *path, char *buffer, size_t capacity,
                              size_t *length);
    /** Visit the entries of a directory of the target (not "." or ".."), in name order. */
    int32_t (*list_directory)(inject_call *call, const char *path, inject_directory_visitor visit,
                              void *context);
    /** Monotonic and wall-clock time in nanoseconds. */
    uint64_t (*monotonic_ns)(inject_call *call);
    uint64_t (*realtime_ns)(inject_call *call);
    /** During `plan`: append a step, declare an expected kernel event, demand confirmation. */
    int32_t (*add_step)(inject_call *call, const inject_step *step);
    int32_t (*expect)(inject_call *call, const inject_expectation *expectation);
    int32_t (*require_confirmation)(inject_call *call, const char *reason);
    /** During `probe`: report one capability. */
    int32_t (*report_capability)(inject_call *call, const inject_capability *capability);

    /* --- 1.1 (present when struct_size reaches it) --- */
    /**
     * Read `length` bytes (at most 1 MiB) of the target's firmware memory at guest-physical
     * `address` (a lab's RAM, or --guest-memory). Returns INJECT_E_UNSUPPORTED when the target
     * has none, INJECT_E_IO when the range lies outside it.
     */
    int32_t (*read_memory)(inject_call *call, uint64_t address, uint8_t *buffer, size_t length);

    /* --- 1.2 (present when struct_size reaches it) --- */
    /**
     * During `decode`: add one decoded field of the event (for example "severity" = "SRAO"),
     * shown by `inject watch` beside the kernel's own fields. Names are [a-z][a-z0-9_]*, at most
     * 32 fields per event.
     */
    int32_t (*add_field)(inject_call *call, const char *name, const char *value);

    /* --- 1.4 (present when struct_size reaches it) --- */
    /**
     * During `probe` or `plan`: find the PCI device `spec` names: an address "[dddd:]bb:dd.f"
     * (hex; domain 0 when left out), or, on a target with a QEMU monitor, a QEMU device id.
     * Returns INJECT_E_INVALID for a spec that is neither, INJECT_E_NOT_FOUND when the target has
     * no such device; either way `out->reason` says why, naming what the target has.
     */
    int32_t (*resolve_pci_device)(inject_call *call, const char *spec, inject_pci_device *out);
} inject_host_api;

#define INJECT_HOST_API_SIZE_1_0 96u
#define INJECT_HOST_API_SIZE_1_1 104u
#define INJECT_HOST_API_SIZE_1_2 112u
#define INJECT_HOST_API_SIZE_1_4 120u

/* ------------------------------------------------------------------------------------------------
 * The descriptor and the entry.
 * --------------------------------------------------------------------------------------------- */
/** Report what the target supports through `report_capability`. */
typedef int32_t (*inject_probe_fn)(void *state, inject_call *call);
/** Build a plan from validated values (one per schema entry, in schema order). */
typedef int32_t (*inject_plan_fn)(void *state, inject_call *call, const inject_param_value *values,
                                  uint32_t value_count);
/**
 * ABI 1.2: decode one kernel event of this backend's (a trace event it declared in
 * `trace_events`, "system:event", with the kernel's payload text) into named fields through
 * `add_field`. Return INJECT_OK, also when nothing could be decoded.
 */
typedef int32_t (*inject_decode_fn)(void *state, inject_call *call, const char *event, const char *payload);

typedef struct inject_plugin_descriptor {
    uint32_t struct_size;        /* sizeof(inject_plugin_descriptor) as the plugin was built */
    uint16_t abi_major;          /* the version the plugin implements */
    uint16_t abi_minor;
    const char *name;            /* the backend name users type: [a-z][a-z0-9_-]*, at most 32 bytes */
    const char *version;         /* the plugin's own version, e.g. "1.2.0" */
    const char *summary;         /* one line */
    const char *const *families; /* error families, e.g. "mce", "memory" */
    uint32_t family_count;
    uint32_t param_count;
    const inject_param_spec *params;
    inject_probe_fn probe;       /* may be NULL: nothing to probe */
    inject_plan_fn plan;         /* required */
    void *state;                 /* passed back to probe, plan and decode; owned by the plugin */
    /* ABI 1.2; a 1.0 or 1.1 plugin's struct_size ends before these. What the host used to know
       about backends by name, now declared by each backend (a vendor's gets the same treatment). */
    const char *const *kernel_modules;  /* modules whose absence `inject doctor` reports ("mce_inject") */
    uint32_t kernel_module_count;       /* 0...32 */
    uint32_t trace_event_count;         /* 0...32 */
    const char *const *trace_events;    /* "system:event" tracepoints this backend's errors produce,
                                           enabled by `inject watch` */
    const char *const *log_markers;     /* substrings that mark this backend's kernel log lines
                                           ("Machine Check"), shown by `inject watch` */
    uint32_t log_marker_count;          /* 0...32 */
    uint32_t reserved;                  /* zero */
    inject_decode_fn decode;            /* may be NULL: the events need no decoding */
    /* ABI 1.5; a 1.2 to 1.4 plugin's struct_size ends before these. What the kernel says when it
       loses this backend's records, and where a consumer (rasdaemon) records its events. */
    const char *const *loss_markers;    /* console text in which the kernel says it dropped records of
                                           this backend's errors, `*` matching any text ("*pool full*") */
    const char *const *loss_reasons;    /* for each marker, what the loss is ("the MCE record pool was full") */
    uint32_t loss_marker_count;         /* 0...8 */
    uint32_t consumer_table_count;      /* 0...32 */
    const char *const *consumer_events; /* "system:event" tracepoints a consumer records ... */
    const char *const *consumer_tables; /* ... and, for each, rasdaemon's table ("mce_record") */
} inject_plugin_descriptor;

#define INJECT_DESCRIPTOR_SIZE_1_0 80u
#define INJECT_DESCRIPTOR_SIZE_1_2 128u
#define INJECT_DESCRIPTOR_SIZE_1_5 168u

/** The record exchanged by the entry. */
typedef struct inject_entry {
    uint32_t struct_size;
    uint16_t host_abi_major;             /* in: the version the host speaks */
    uint16_t host_abi_minor;
    const inject_host_api *host;         /* in: the services; valid until the process exits */
    const inject_plugin_descriptor *descriptor; /* out: the answer */
    int32_t error_code;                  /* out: on refusal, an inject_result */
    char error_message[256];             /* out: on refusal, why (NUL-terminated) */
} inject_entry;

/**
 * The entry every plugin exports. Returns INJECT_OK after setting `entry->descriptor`, or a
 * failure after filling `error_code` and `error_message`. A plugin built for this header answers
 * INJECT_E_ABI when `host_abi_major` differs from INJECT_ABI_MAJOR.
 */
typedef int32_t (*inject_plugin_entry_fn)(inject_entry *entry);
INJECT_PLUGIN_EXPORT int32_t inject_plugin_entry(inject_entry *entry);

/* The published sizes are the layout on LP64 platforms; the compiler checks them here. */
#if defined(__LP64__) && defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L
_Static_assert(offsetof(inject_step, repeat_steps) == INJECT_STEP_SIZE_1_0, "inject_step 1.0 size");
_Static_assert(offsetof(inject_step, argument_names) == INJECT_STEP_SIZE_1_1, "inject_step 1.1 size");
_Static_assert(sizeof(inject_step) == INJECT_STEP_SIZE_1_2, "inject_step 1.2 size");
_Static_assert(sizeof(inject_pci_device) == INJECT_PCI_DEVICE_SIZE_1_4, "inject_pci_device 1.4 size");
_Static_assert(sizeof(inject_host_api) == INJECT_HOST_API_SIZE_1_4, "inject_host_api 1.4 size");
_Static_assert(offsetof(inject_plugin_descriptor, kernel_modules) == INJECT_DESCRIPTOR_SIZE_1_0, "descriptor 1.0 size");
_Static_assert(offsetof(inject_plugin_descriptor, loss_markers) == INJECT_DESCRIPTOR_SIZE_1_2, "descriptor 1.2 size");
_Static_assert(sizeof(inject_plugin_descriptor) == INJECT_DESCRIPTOR_SIZE_1_5, "descriptor 1.5 size");
_Static_assert(offsetof(inject_host_api, read_memory) == INJECT_HOST_API_SIZE_1_0, "host api 1.0 size");
_Static_assert(offsetof(inject_host_api, add_field) == INJECT_HOST_API_SIZE_1_1, "host api 1.1 size");
_Static_assert(offsetof(inject_host_api, resolve_pci_device) == INJECT_HOST_API_SIZE_1_2, "host api 1.2 size");
_Static_assert(sizeof(inject_param_spec) == INJECT_PARAM_SPEC_SIZE_1_0, "param spec size");
_Static_assert(sizeof(inject_param_value) == INJECT_PARAM_VALUE_SIZE_1_0, "param value size");
_Static_assert(sizeof(inject_expectation) == INJECT_EXPECTATION_SIZE_1_0, "expectation size");
_Static_assert(sizeof(inject_capability) == INJECT_CAPABILITY_SIZE_1_0, "capability size");
_Static_assert(sizeof(inject_target_info) == INJECT_TARGET_INFO_SIZE_1_0, "target info size");
#endif

#ifdef __cplusplus
}
#endif

#endif /* INJECT_PLUGIN_H */
